// Where a value came from, and the one error type that carries it: `<file>:<line>:<col>: <message>`.

import { relative } from 'node:path';

export interface SourcePos {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

export function formatPos(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/** Bad input: a playbook, inventory, role, template or vars file that cannot be used. Exit code 1. */
export class InputError extends Error {
  constructor(
    readonly pos: SourcePos | undefined,
    readonly detail: string,
  ) {
    super(pos ? `${formatPos(pos)}: ${detail}` : detail);
    this.name = 'InputError';
  }
}

/** A path as messages show it: relative to the working folder when it is below it, else as given. */
export function displayPath(path: string): string {
  const cwd = process.cwd();
  if (shown.cwd !== cwd) shown = { cwd, paths: new Map() };
  let text = shown.paths.get(path);
  if (text === undefined) {
    const rel = relative(cwd, path);
    text = rel && !rel.startsWith('..') ? rel : path;
    shown.paths.set(path, text);
  }
  return text;
}

/** displayPath's answers (every event names its task's file): a few files per run, looked up for each host and task. */
let shown = { cwd: '', paths: new Map<string, string>() };

/** A position as messages show it: its file through displayPath. */
export function displayedPos(pos: SourcePos): SourcePos {
  return { ...pos, file: displayPath(pos.file) };
}
