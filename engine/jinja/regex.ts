// Python regular expressions (re module) as JavaScript RegExp: named groups `(?P<n>)`, `(?P=n)`, inline flags,
// `\A`/`\Z`, and Python's replacement syntax (`\1`, `\g<1>`, `\g<name>`).

import { JinjaRuntimeError } from './values.ts';

const cache = new Map<string, RegExp>();

export function pyRegex(pattern: string, opts: { ignorecase?: boolean; multiline?: boolean; global?: boolean } = {}): RegExp {
  const key = `${pattern}\0${opts.ignorecase ? 'i' : ''}${opts.multiline ? 'm' : ''}${opts.global ? 'g' : ''}`;
  let re = cache.get(key);
  if (re) {
    re.lastIndex = 0;
    return re;
  }
  let flags = 'u';
  if (opts.ignorecase) flags += 'i';
  if (opts.multiline) flags += 'm';
  if (opts.global) flags += 'g';
  let src = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const f of inline[1]) if ('ims'.includes(f) && !flags.includes(f)) flags += f;
  }
  src = src
    .replace(/\(\?P<(\w+)>/g, '(?<$1>')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$');
  try {
    re = new RegExp(src, flags);
  } catch {
    try {
      re = new RegExp(src, flags.replace('u', ''));
    } catch (error) {
      throw new JinjaRuntimeError(`invalid regular expression '${pattern}': ${(error as Error).message}`);
    }
  }
  cache.set(key, re);
  return re;
}

/** A replacer for String.replace from Python's replacement text. */
export function pyReplacement(replacement: string): (m: unknown[]) => string {
  return (m) => {
    const groups = (typeof m[m.length - 1] === 'object' ? m[m.length - 1] : undefined) as Record<string, string | undefined> | undefined;
    return replacement.replace(/\\g<(\w+)>|\\(\d{1,2})|\\([\\nrt])/g, (_x, name: string | undefined, digit: string | undefined, esc: string | undefined) => {
      if (esc) return esc === 'n' ? '\n' : esc === 't' ? '\t' : esc === 'r' ? '\r' : '\\';
      const ref = name ?? digit ?? '';
      if (/^\d+$/.test(ref)) {
        const v = m[Number(ref)];
        return typeof v === 'string' ? v : '';
      }
      return groups?.[ref] ?? '';
    });
  };
}
