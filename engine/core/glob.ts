// Glob patterns as Python's fnmatch reads them (Ansible's host patterns, setup's filter): `*`, `?`, `[seq]`, `[!seq]`,
// matched against the whole name. OpenSSH's known_hosts patterns have `*` and `?` only: `brackets: false`.

export interface GlobOptions {
  /** `[seq]` is a character class (fnmatch); false: `[` and `]` are plain characters (OpenSSH). Default true. */
  brackets?: boolean;
  ignoreCase?: boolean;
}

export function globToRegExp(glob: string, options: GlobOptions = {}): RegExp {
  const brackets = options.brackets ?? true;
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[' && brackets) {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close).replace(/\\/g, '\\\\');
      if (body[0] === '!') body = '^' + body.slice(1);
      else if (body[0] === '^') body = '\\' + body;
      out += `[${body}]`;
      i = close;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, options.ignoreCase ? 'is' : 's');
}
