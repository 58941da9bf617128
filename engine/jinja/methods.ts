// Python's methods on strings, lists and dicts as Jinja exposes them (`s.split()`, `d.items()`, `l.append(x)`), and
// Python's `%` string formatting.

import {
  Callable,
  JinjaRuntimeError,
  LazyMap,
  containsUnsafe,
  noteUnsafeMutation,
  isFloat,
  isPlainObject,
  isString,
  num,
  pyEq,
  pyIter,
  pyRepr,
  pyStr,
  pyTypeName,
  str,
  tuple,
} from './values.ts';

type Method = (self: never, args: unknown[], kwargs: Record<string, unknown>) => unknown;

const WS = /[\s]+/;

function pySplit(s: string, sep: unknown, maxsplit: number): string[] {
  if (sep === undefined || sep === null) {
    const parts = s.trim() === '' ? [] : s.replace(/^\s+/, '').split(WS);
    if (maxsplit >= 0 && parts.length > maxsplit + 1) {
      // Rejoin the tail as Python leaves it: the rest of the string after maxsplit splits.
      let rest = s.replace(/^\s+/, '');
      const head: string[] = [];
      for (let i = 0; i < maxsplit; i++) {
        const m = /\s+/.exec(rest);
        if (!m) break;
        head.push(rest.slice(0, m.index));
        rest = rest.slice(m.index + m[0].length);
      }
      return [...head, rest];
    }
    return parts.length && parts[parts.length - 1] === '' ? parts.slice(0, -1) : parts;
  }
  const d = str(sep);
  if (d === '') throw new JinjaRuntimeError('empty separator');
  const parts = s.split(d);
  if (maxsplit >= 0 && parts.length > maxsplit + 1) return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(d)];
  return parts;
}

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  if (chars === undefined || chars === null) {
    if (left) s = s.replace(/^\s+/, '');
    if (right) s = s.replace(/\s+$/, '');
    return s;
  }
  const set = new Set(Array.from(str(chars)));
  const a = Array.from(s);
  let i = 0;
  let j = a.length;
  if (left) while (i < j && set.has(a[i])) i++;
  if (right) while (j > i && set.has(a[j - 1])) j--;
  return a.slice(i, j).join('');
}

function prefixes(arg: unknown): string[] {
  return Array.isArray(arg) ? arg.map(str) : [str(arg)];
}

const STRING: Record<string, Method> = {
  upper: (s: string) => s.toUpperCase(),
  lower: (s: string) => s.toLowerCase(),
  casefold: (s: string) => s.toLowerCase(),
  swapcase: (s: string) => Array.from(s).map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
  capitalize: (s: string) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
  title: (s: string) => s.toLowerCase().replace(/(^|[^A-Za-z0-9'])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase()),
  strip: (s: string, a) => stripChars(s, a[0], true, true),
  lstrip: (s: string, a) => stripChars(s, a[0], true, false),
  rstrip: (s: string, a) => stripChars(s, a[0], false, true),
  split: (s: string, a, k) => pySplit(s, a[0] ?? k.sep, num(a[1] ?? k.maxsplit ?? -1)),
  rsplit: (s: string, a, k) => {
    const max = num(a[1] ?? k.maxsplit ?? -1);
    const sep = a[0] ?? k.sep;
    if (max < 0 || sep === undefined || sep === null) return pySplit(s, sep, max);
    const parts = s.split(str(sep));
    if (parts.length <= max + 1) return parts;
    return [parts.slice(0, parts.length - max).join(str(sep)), ...parts.slice(parts.length - max)];
  },
  splitlines: (s: string) => s.split(/\r\n|\r|\n/).filter((_l, i, all) => i < all.length - 1 || all[i] !== ''),
  startswith: (s: string, a) => prefixes(a[0]).some((p) => s.startsWith(p, a[1] === undefined ? 0 : num(a[1]))),
  endswith: (s: string, a) => prefixes(a[0]).some((p) => s.endsWith(p)),
  replace: (s: string, a) => {
    const count = a[2] === undefined ? -1 : num(a[2]);
    const parts = s.split(str(a[0]));
    if (count < 0 || parts.length <= count + 1) return parts.join(str(a[1]));
    return parts.slice(0, count + 1).join(str(a[1])) + str(a[0]) + parts.slice(count + 1).join(str(a[0]));
  },
  find: (s: string, a) => s.indexOf(str(a[0])),
  rfind: (s: string, a) => s.lastIndexOf(str(a[0])),
  index: (s: string, a) => {
    const i = s.indexOf(str(a[0]));
    if (i < 0) throw new JinjaRuntimeError('substring not found');
    return i;
  },
  count: (s: string, a) => (str(a[0]) === '' ? s.length + 1 : s.split(str(a[0])).length - 1),
  join: (s: string, a) => pyIter(a[0]).map((x) => {
    if (!isString(x)) throw new JinjaRuntimeError(`sequence item: expected str instance, ${pyTypeName(x)} found`);
    return str(x);
  }).join(s),
  format: (s: string, a, k) => {
    let auto = 0;
    return s.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, field: string | undefined) => {
      if (m === '{{') return '{';
      if (m === '}}') return '}';
      const name = (field ?? '').split(':')[0];
      const v = name === '' ? a[auto++] : /^\d+$/.test(name) ? a[Number(name)] : k[name];
      return pyStr(v);
    });
  },
  isdigit: (s: string) => s.length > 0 && /^\d+$/.test(s),
  isnumeric: (s: string) => s.length > 0 && /^\d+$/.test(s),
  isdecimal: (s: string) => s.length > 0 && /^\d+$/.test(s),
  isalpha: (s: string) => s.length > 0 && /^\p{L}+$/u.test(s),
  isalnum: (s: string) => s.length > 0 && /^[\p{L}\p{N}]+$/u.test(s),
  isspace: (s: string) => s.length > 0 && /^\s+$/.test(s),
  islower: (s: string) => /[a-z]/.test(s) && s === s.toLowerCase(),
  isupper: (s: string) => /[A-Z]/.test(s) && s === s.toUpperCase(),
  istitle: (s: string) => /[A-Za-z]/.test(s) && STRING.title(s as never, [], {}) === s,
  center: (s: string, a) => {
    const w = num(a[0]);
    const f = a[1] === undefined ? ' ' : str(a[1]);
    const total = Math.max(0, w - s.length);
    // Python puts the extra character on the right when the margin is odd and the width even... on the left otherwise.
    const left = Math.floor(total / 2) + (total % 2 && w % 2 ? 1 : 0);
    return f.repeat(left) + s + f.repeat(total - left);
  },
  ljust: (s: string, a) => s.padEnd(num(a[0]), a[1] === undefined ? ' ' : str(a[1])),
  rjust: (s: string, a) => s.padStart(num(a[0]), a[1] === undefined ? ' ' : str(a[1])),
  zfill: (s: string, a) => {
    const sign = /^[+-]/.test(s) ? s[0] : '';
    return sign + s.slice(sign.length).padStart(num(a[0]) - sign.length, '0');
  },
  partition: (s: string, a) => {
    const i = s.indexOf(str(a[0]));
    return i < 0 ? tuple([s, '', '']) : tuple([s.slice(0, i), str(a[0]), s.slice(i + str(a[0]).length)]);
  },
  rpartition: (s: string, a) => {
    const i = s.lastIndexOf(str(a[0]));
    return i < 0 ? tuple(['', '', s]) : tuple([s.slice(0, i), str(a[0]), s.slice(i + str(a[0]).length)]);
  },
  encode: (s: string) => s,
  decode: (s: string) => s,
};

const LIST: Record<string, Method> = {
  append: (l: unknown[], a) => {
    l.push(a[0]);
    return null;
  },
  extend: (l: unknown[], a) => {
    l.push(...pyIter(a[0]));
    return null;
  },
  insert: (l: unknown[], a) => {
    l.splice(num(a[0]), 0, a[1]);
    return null;
  },
  pop: (l: unknown[], a) => {
    if (l.length === 0) throw new JinjaRuntimeError('pop from empty list');
    let i = a[0] === undefined ? l.length - 1 : num(a[0]);
    if (i < 0) i += l.length;
    return l.splice(i, 1)[0];
  },
  remove: (l: unknown[], a) => {
    const i = l.findIndex((x) => pyEq(x, a[0]));
    if (i < 0) throw new JinjaRuntimeError('list.remove(x): x not in list');
    l.splice(i, 1);
    return null;
  },
  index: (l: unknown[], a) => {
    const i = l.findIndex((x) => pyEq(x, a[0]));
    if (i < 0) throw new JinjaRuntimeError(`${pyRepr(a[0])} is not in list`);
    return i;
  },
  count: (l: unknown[], a) => l.filter((x) => pyEq(x, a[0])).length,
  copy: (l: unknown[]) => [...l],
  reverse: (l: unknown[]) => {
    l.reverse();
    return null;
  },
  clear: (l: unknown[]) => {
    l.length = 0;
    return null;
  },
};

const DICT: Record<string, Method> = {
  keys: (d: Record<string, unknown>) => Object.keys(d),
  values: (d: Record<string, unknown>) => Object.values(d),
  items: (d: Record<string, unknown>) => Object.entries(d).map(([k, v]) => tuple([k, v])),
  get: (d: Record<string, unknown>, a) => {
    const k = str(a[0]);
    return Object.prototype.hasOwnProperty.call(d, k) ? d[k] : (a[1] ?? null);
  },
  copy: (d: Record<string, unknown>) => ({ ...d }),
  update: (d: Record<string, unknown>, a, k) => {
    if (isPlainObject(a[0])) Object.assign(d, a[0]);
    Object.assign(d, k);
    return null;
  },
  pop: (d: Record<string, unknown>, a) => {
    const k = str(a[0]);
    if (Object.prototype.hasOwnProperty.call(d, k)) {
      const v = d[k];
      delete d[k];
      return v;
    }
    if (a.length > 1) return a[1];
    throw new JinjaRuntimeError(pyRepr(k));
  },
  setdefault: (d: Record<string, unknown>, a) => {
    const k = str(a[0]);
    if (!Object.prototype.hasOwnProperty.call(d, k)) d[k] = a[1] ?? null;
    return d[k];
  },
};

// hostvars and a host's variables in it are read-only Mappings in Ansible: their reading methods, read lazily.
const LAZY_MAP: Record<string, Method> = {
  keys: (m: LazyMap) => m.keys(),
  values: (m: LazyMap) => m.keys().map((k) => m.get(k)),
  items: (m: LazyMap) => m.keys().map((k) => tuple([k, m.get(k)])),
  get: (m: LazyMap, a) => {
    const k = str(a[0]);
    return m.keys().includes(k) ? m.get(k) : (a[1] ?? null);
  },
};

/** A bound Python method of `target` named `name`, or undefined. */
export function pyMethod(target: unknown, name: string): Callable | undefined {
  let table: Record<string, Method> | undefined;
  let self: unknown = target;
  if (isString(target)) {
    table = STRING;
    self = str(target);
  } else if (Array.isArray(target)) table = LIST;
  else if (isPlainObject(target)) table = DICT;
  else if (target instanceof LazyMap) table = LAZY_MAP;
  const m = table && Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
  if (!m) return undefined;
  return new Callable(name, (args, kwargs) => {
    // A mutating method may put unsafe data into a list or map that was found safe before.
    if (table !== STRING && (args.some(containsUnsafe) || Object.values(kwargs).some(containsUnsafe))) noteUnsafeMutation();
    return m(self as never, args, kwargs);
  });
}

/** Python's `'%s %d' % (a, b)`. */
export function pyPercentFormat(fmt: string, values: unknown): string {
  const list = Array.isArray(values) ? values : [values];
  // The caller passes the arguments as a list (a tuple's items, or the one value).
  const map = isPlainObject(values) ? values : undefined;
  let i = 0;
  return fmt.replace(/%(\([^)]*\))?([-+ 0#]*)(\d+)?(?:\.(\d+))?([sdifrxXoeEgG%])/g, (_m, key: string | undefined, flags: string, width: string | undefined, prec: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    const v = key && map ? map[key.slice(1, -1)] : list[i++];
    let out: string;
    switch (conv) {
      case 's':
        out = v === null ? 'None' : pyStr(v);
        break;
      case 'r':
        out = pyRepr(v);
        break;
      case 'd':
      case 'i':
        out = String(Math.trunc(num(v)));
        break;
      case 'f':
        out = num(v).toFixed(prec === undefined ? 6 : Number(prec));
        break;
      case 'x':
        out = Math.trunc(num(v)).toString(16);
        break;
      case 'X':
        out = Math.trunc(num(v)).toString(16).toUpperCase();
        break;
      case 'o':
        out = Math.trunc(num(v)).toString(8);
        break;
      case 'e':
      case 'E':
        out = num(v).toExponential(prec === undefined ? 6 : Number(prec)).replace(/e([+-])(\d)$/, 'e$10$2');
        if (conv === 'E') out = out.toUpperCase();
        break;
      default:
        out = isFloat(v) ? String(num(v)) : pyStr(v);
    }
    if (prec !== undefined && conv === 's') out = out.slice(0, Number(prec));
    if (flags.includes('+') && /[dif]/.test(conv) && num(v) >= 0) out = '+' + out;
    const w = width === undefined ? 0 : Number(width);
    if (out.length < w) {
      if (flags.includes('-')) out = out.padEnd(w);
      else if (flags.includes('0') && conv !== 's') out = (out.startsWith('-') ? '-' + out.slice(1).padStart(w - 1, '0') : out.padStart(w, '0'));
      else out = out.padStart(w);
    }
    return out;
  });
}
