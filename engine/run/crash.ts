// A module that throws (a bug, not a ModuleError): the message names where, the first stack frame outside kplay
// (the user's module file and line, source-mapped when the loader maps it), and with -vv the whole stack.

import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// Where kplay is (bin/kplay.js says; else this file's place in the sources): frames there are kplay's own. Not read
// from home.ts, which engine/run/ may not import (eslint layers).
const KPLAY_HOME = process.env.KPLAY_HOME ?? resolve(fileURLToPath(import.meta.url), '../../..');

export function crashMessage(error: Error, verbosity: number): string {
  const frame = userFrame(error.stack ?? '');
  const where = frame ? ` (at ${frame})` : '';
  const stack = verbosity >= 2 && error.stack ? `\n${error.stack}` : '';
  return `${error.message}${where}${stack}`;
}

/** `modules/x.ts:12:5` for the first frame in a file that is not kplay's own nor a dependency's. */
function userFrame(stack: string): string | undefined {
  for (const line of stack.split('\n').slice(1)) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!match) continue;
    const file = match[1].startsWith('file://') ? fileURLToPath(match[1]) : match[1];
    const own = ['engine', 'dist', 'bin'].some((dir) => !relative(join(KPLAY_HOME, dir), file).startsWith('..'));
    if (own || file.includes(`${sep}node_modules${sep}`) || file.startsWith('node:')) continue;
    const rel = relative(process.cwd(), file);
    return `${rel.startsWith('..') ? file : rel}:${match[2]}:${match[3]}`;
  }
  return undefined;
}
