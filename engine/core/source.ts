// Where a value came from, and the one error type that carries it: `<file>:<line>:<col>: <message>`.

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
