// Where a user's code file (a module, a filter or test plugin) failed to load: a syntax error at the line and column
// esbuild (through tsx) names, or an exception its top level threw, at the first stack frame in that file (tsx maps
// it back to the .ts source). Else line 1, col 1.

import { fileURLToPath } from 'node:url';
import { displayPath, InputError } from './source.ts';

export function loadError(error: unknown, path: string, what: string): InputError {
  const file = displayPath(path);
  const message = error instanceof Error ? error.message : String(error);
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // esbuild: `/abs/x.ts:5:28: ERROR: Expected "}" but found ";"` (its column counts from 0).
  const syntax = new RegExp(`${escaped}:(\\d+):(\\d+): ERROR: (.*)`).exec(message);
  if (syntax) return new InputError({ file, line: Number(syntax[1]), col: Number(syntax[2]) + 1 }, `cannot load ${what}: ${syntax[3]}`);
  for (const line of (error instanceof Error ? (error.stack ?? '') : '').split('\n').slice(1)) {
    const frame = /\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!frame) continue;
    const framePath = frame[1].startsWith('file://') ? fileURLToPath(frame[1]) : frame[1];
    if (framePath === path) return new InputError({ file, line: Number(frame[2]), col: Number(frame[3]) }, `cannot load ${what}: ${message}`);
  }
  return new InputError({ file, line: 1, col: 1 }, `cannot load ${what}: ${message}`);
}
