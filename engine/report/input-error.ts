// Bad input, shown to a person or a program: `file:line:col: message`, then the source line with a caret under the
// column, on stderr; with --output json also one `{"type":"error"}` event on stdout, its only line. Exit code 1.

import { readFileSync } from 'node:fs';
import type { RunEvent } from '../core/events.ts';
import type { Masker } from '../core/mask.ts';
import type { SourcePos } from '../core/source.ts';

interface ErrorLike {
  message: string;
  pos?: SourcePos;
  detail?: string;
}

/** Hints for messages of the YAML parser that do not say what to do. */
const HINTS: [RegExp, string][] = [
  [/Nested mappings are not allowed in compact mappings|mapping values are not allowed/i,
    'a value that holds ": " must be quoted, e.g. msg: "port: 80"'],
  [/Implicit map keys need to be followed by map values/i, 'a line is missing its "key:" or is indented wrongly'],
  [/Tabs are not allowed/i, 'indent with spaces, not tabs'],
];

/** `masker`: the run's secrets so far (a line of an inventory or of -e may hold one). */
export function reportInputError(error: ErrorLike, options: { json: boolean; prefix?: string; masker?: Masker }): 1 {
  const mask = (text: string) => options.masker?.text(text) ?? text;
  const hint = HINTS.find(([pattern]) => pattern.test(error.message))?.[1];
  if (options.json) {
    const event: RunEvent = {
      type: 'error',
      message: mask(error.message),
      ...(error.pos ? { file: error.pos.file, line: error.pos.line, col: error.pos.col } : {}),
      ...(hint ? { hint } : {}),
      time: new Date().toISOString(),
      elapsed: 0,
      duration: 0,
    };
    process.stdout.write(`${JSON.stringify(event)}\n`);
    // and for the person who ran it, the same on stderr (only the event is on stdout)
  }
  const lines = [`${options.prefix ?? ''}${error.message}`, ...sourceExcerpt(error.pos)];
  if (hint) lines.push(`hint: ${hint}`);
  process.stderr.write(`${mask(lines.join('\n'))}\n`);
  return 1;
}

/** The line of `pos` in its file, and a caret under its column; nothing when the file cannot be read. */
export function sourceExcerpt(pos: SourcePos | undefined): string[] {
  if (!pos || pos.line < 1) return [];
  let text: string;
  try {
    text = readFileSync(pos.file, 'utf8');
  } catch {
    return [];
  }
  const line = text.split('\n')[pos.line - 1];
  if (line === undefined) return [];
  const shown = line.replace(/\t/g, ' ').replace(/\r$/, '');
  if (shown.length > 300) return [];
  const gutter = `${pos.line} | `;
  return [`${gutter}${shown}`, `${' '.repeat(gutter.length - 2)}| ${' '.repeat(Math.max(0, Math.min(pos.col - 1, shown.length)))}^`];
}
