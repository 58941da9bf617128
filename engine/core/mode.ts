// File modes as tasks give them: octal bits or a symbolic string (`u+rwX,g-w`), computed as chmod and Ansible do.
// In core because the argument checker (load/) validates them and the modules (modules/) apply them.

/** A mode as a task gives it: octal bits, or a symbolic string ('u+rwX,g-w,o=') applied to the current mode. */
export type ModeArg = number | string;

const CLAUSE = /^[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+$/;

/** Whether a string is a symbolic mode chmod and Ansible accept: clauses like `u+rwX`, `go-w`, `o=`, `g=u`. */
export function isSymbolicMode(text: string): boolean {
  return text !== '' && text.split(',').every((clause) => CLAUSE.test(clause));
}

// The host's umask is taken as 022 (Debian's default) for clauses without a who (`+x`), as Ansible's module sees it.
const UMASK = 0o022;
const WHO_BITS = { u: 0o4700, g: 0o2070, o: 0o1007 } as const;

/**
 * The mode a symbolic string gives when applied to `current` (Ansible's rules: `X` counts when the path is a
 * directory or had an execute bit before the change; no who means all, minus the umask).
 */
export function symbolicToOctal(symbolic: string, current: number, isDir: boolean): number {
  let mode = current & 0o7777;
  const applyX = isDir || (current & 0o111) !== 0;
  for (const clause of symbolic.split(',')) {
    const whoText = /^[ugoa]*/.exec(clause)![0];
    const useUmask = whoText === '';
    const who = (whoText === '' || whoText.includes('a') ? 'ugo' : whoText).split('') as ('u' | 'g' | 'o')[];
    for (const [, op, perms] of clause.slice(whoText.length).matchAll(/([-+=])([rwxXstugo]*)/g)) {
      for (const w of who) {
        const shift = w === 'u' ? 6 : w === 'g' ? 3 : 0;
        let bits = 0;
        for (const p of perms) {
          if (p === 'r' || p === 'w' || p === 'x' || p === 'X') {
            if (p === 'X' && !applyX) continue;
            const base = p === 'r' ? 4 : p === 'w' ? 2 : 1;
            bits |= (base << shift) & (useUmask ? ~UMASK : 0o777);
          } else if (p === 's') bits |= w === 'u' ? 0o4000 : w === 'g' ? 0o2000 : 0;
          else if (p === 't') bits |= w === 'o' ? 0o1000 : 0;
          else {
            // Copy another class's bits (g=u): from the mode as it was before this task.
            const from = p === 'u' ? 6 : p === 'g' ? 3 : 0;
            bits |= ((current >> from) & 7) << shift;
          }
        }
        if (op === '=') mode = (mode & ~WHO_BITS[w]) | bits;
        else if (op === '+') mode |= bits;
        else mode &= ~bits;
      }
    }
  }
  return mode;
}

/** The mode to set: octal as given, or symbolic computed against the current mode (`base` when the path is new). */
export function resolveMode(mode: ModeArg | undefined, current: number | undefined, isDir: boolean): number | undefined {
  if (mode === undefined || mode === null) return undefined;
  if (typeof mode === 'number') return mode;
  return symbolicToOctal(mode, current ?? (isDir ? 0o755 : 0o644), isDir);
}

/** Ansible's way of printing a mode in a file result (`'0%03o'`): '0644', '02775'. */
export function formatMode(mode: number | undefined): string | undefined {
  return mode === undefined ? undefined : `0${mode.toString(8).padStart(3, '0')}`;
}

/** How `stat` and `find` print a mode (`'%04o'`): '0644', '2775'. */
export function statMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
