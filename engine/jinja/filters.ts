// The filters of Jinja2 and ansible.builtin (plus ipaddr basics), with Ansible's argument names and edge cases.
// Each filter receives the evaluation context, the input value and Python-style positional and keyword arguments.

import { createHash, randomBytes } from 'node:crypto';
import { PyRandom } from './pyrandom.ts';
import { homedir } from 'node:os';
import { basename, extname, relative, resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import { encrypt as cryptEncrypt } from 'unixcrypt';
import type { IPv4, IPv6 } from 'ipaddr.js';
import { lazy } from '../core/lazy.ts';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { PYYAML } from '../core/yaml.ts';
import type { EvalContext, FilterFn } from './interpret.ts';
import { getItem } from './interpret.ts';
import { pyMethod } from './methods.ts';
import { pyToJson, toYaml } from './serialize.ts';
import { pyRegex, pyReplacement } from './regex.ts';
import { strptime } from './datetime.ts';
import {
  Callable,
  JinjaRuntimeError,
  PyFloat,
  Undefined,
  UnsafeText,
  isFloat,
  isPlainObject,
  isString,
  isTuple,
  makeFloat,
  num,
  pyCompare,
  pyEq,
  pyIter,
  pyRepr,
  pyStr,
  pyTypeName,
  str,
  truthy,
  tuple,
} from './values.ts';

const ip = lazy<typeof import('ipaddr.js')>('ipaddr.js');

type Args = unknown[];
type Kw = Record<string, unknown>;

/** Argument `i` by position, or by Ansible's name, or its default. */
export function arg(args: Args, kw: Kw, i: number, name: string, dflt?: unknown): unknown {
  if (i < args.length) return args[i];
  if (Object.prototype.hasOwnProperty.call(kw, name)) return kw[name];
  return dflt;
}

function fail(message: string): never {
  throw new JinjaRuntimeError(message);
}

function seq(v: unknown, filter: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (isString(v) || isPlainObject(v)) return pyIter(v);
  if (v === null || v === undefined) fail(`${filter}: 'NoneType' object is not iterable`);
  fail(`${filter}: '${pyTypeName(v)}' object is not iterable`);
}

/** Python's bool() of Ansible's `bool` filter: strings yes/on/1/true/y are true. */
export function ansibleBool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return null;
  if (isString(v)) return ['yes', 'on', '1', 'true'].includes(str(v).toLowerCase());
  if (typeof v === 'number' || v instanceof PyFloat) return num(v) === 1;
  return false;
}

/** Python int(): from a string in a base, from a float (truncated), or the default. */
function toInt(v: unknown, dflt: unknown, base: number): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || v instanceof PyFloat) return Math.trunc(num(v));
  if (isString(v)) {
    const s = str(v).trim().replace(/_/g, '');
    if (base === 10) {
      if (/^[-+]?\d+$/.test(s)) return parseInt(s, 10);
      // Jinja's int filter also accepts a float string: int(float("3.7")) = 3.
      if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Math.trunc(parseFloat(s));
      return dflt;
    }
    const body = s.replace(/^[-+]?(0[xob])?/i, '');
    const n = parseInt(body, base);
    return Number.isNaN(n) ? dflt : s.startsWith('-') ? -n : n;
  }
  return dflt;
}

function toFloat(v: unknown, dflt: unknown): unknown {
  if (typeof v === 'boolean') return makeFloat(v ? 1 : 0);
  if (typeof v === 'number' || v instanceof PyFloat) return makeFloat(num(v));
  if (isString(v)) {
    const s = str(v).trim().toLowerCase();
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(s)) return makeFloat(parseFloat(s));
    if (/^[-+]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (s === 'nan') return NaN;
  }
  return dflt;
}

/** Jinja's attribute path `a.b.0` for map/selectattr/sort/groupby. */
function attrGetter(attribute: unknown): (item: unknown) => unknown {
  const parts = String(attribute).split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return (item) => {
    let v: unknown = item;
    for (const p of parts) {
      v = getItem(v, p, false);
      if (v instanceof Undefined) return v;
    }
    return v;
  };
}

function sortKey(caseSensitive: boolean): (v: unknown) => unknown {
  return (v) => (!caseSensitive && isString(v) ? str(v).toLowerCase() : v);
}

function uniqueList(items: unknown[], caseSensitive = true, attribute?: unknown): unknown[] {
  const out: unknown[] = [];
  const keys: unknown[] = [];
  const get = attribute === undefined || attribute === null ? (x: unknown) => x : attrGetter(attribute);
  const key = sortKey(caseSensitive);
  for (const x of items) {
    const k = key(get(x));
    if (!keys.some((y) => pyEq(y, k))) {
      keys.push(k);
      out.push(x);
    }
  }
  return out;
}

function hashOf(data: string, algo: string): string {
  const name = algo === 'sha' ? 'sha1' : algo;
  try {
    return createHash(name).update(data, 'utf8').digest('hex');
  } catch {
    fail(`unsupported hash type ${algo}`); // hashlib.new's message, as Ansible passes it on
  }
}

function flattenList(items: unknown[], levels: number | null, skipNulls: boolean): unknown[] {
  const out: unknown[] = [];
  for (const x of items) {
    if (skipNulls && (x === null || x === 'None' || x === 'null')) continue;
    if (Array.isArray(x) && (levels === null || levels > 0)) out.push(...flattenList(x, levels === null ? null : levels - 1, skipNulls));
    else out.push(x);
  }
  return out;
}

function combineTwo(a: Record<string, unknown>, b: Record<string, unknown>, recursive: boolean, listMerge: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, bv] of Object.entries(b)) {
    const av = out[k];
    if (recursive && isPlainObject(av) && isPlainObject(bv)) out[k] = combineTwo(av, bv, true, listMerge);
    else if (Array.isArray(av) && Array.isArray(bv) && listMerge !== 'replace') {
      if (listMerge === 'keep') out[k] = av;
      else if (listMerge === 'append') out[k] = [...av, ...bv];
      else if (listMerge === 'prepend') out[k] = [...bv, ...av];
      else if (listMerge === 'append_rp') out[k] = [...av.filter((x) => !bv.some((y) => pyEq(x, y))), ...bv];
      else if (listMerge === 'prepend_rp') out[k] = [...bv, ...av.filter((x) => !bv.some((y) => pyEq(x, y)))];
      else fail(`combine: list_merge must be one of replace, keep, append, prepend, append_rp, prepend_rp`);
    } else out[k] = bv;
  }
  return out;
}

const UNITS: Record<string, number> = { Y: 8, Z: 7, E: 6, P: 5, T: 4, G: 3, M: 2, K: 1, k: 1, B: 0, '': 0 };

function humanReadable(size: number, isBits: boolean, unit: unknown): string {
  const suffix = isBits ? 'b' : 'B';
  const base = 1024;
  const order = ['Y', 'Z', 'E', 'P', 'T', 'G', 'M', 'K', ''];
  for (const u of order) {
    const limit = base ** UNITS[u];
    if ((unit === undefined || unit === null ? Math.abs(size) >= limit : String(unit).toUpperCase() === u) || u === '') {
      const v = size / limit;
      const unitName = u === '' ? (isBits ? 'bits' : 'Bytes') : `${u}${suffix}`;
      return `${v.toFixed(2)} ${unitName}`;
    }
  }
  return `${size.toFixed(2)} ${isBits ? 'bits' : 'Bytes'}`;
}

function humanToBytes(text: string, defaultUnit: unknown, isBits: boolean): number {
  const m = /^\s*(\d*\.?\d+)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m) fail(`human_to_bytes() can't interpret following string: ${text}`);
  const n = parseFloat(m[1]);
  let unit = m[2] || (defaultUnit === undefined || defaultUnit === null ? '' : String(defaultUnit));
  const bitUnit = /^[KMGTPEZY]?b(it)?s?$/.test(unit) || unit === 'b';
  if (unit && isBits !== bitUnit && !(unit.length === 1 && !isBits && unit !== 'b')) {
    fail(`human_to_bytes() failed to convert ${text}. Value is not a valid string (${isBits ? 'expected bits' : 'expected bytes'})`);
  }
  unit = unit.replace(/(ytes?|its?|[bB])$/, '').toUpperCase();
  if (!(unit in UNITS)) fail(`human_to_bytes() failed to convert ${text}. Value is not a valid string`);
  return Math.round(n * 1024 ** UNITS[unit]);
}

/** Python's random.Random(seed) for a filter's `seed` (None: an unseeded generator, as SystemRandom). */
function seededRandom(seed: unknown): PyRandom {
  if (seed === undefined || seed === null) return new PyRandom();
  if (isString(seed)) return new PyRandom(str(seed));
  if (seed instanceof PyFloat) return new PyRandom(seed.value, true);
  if (typeof seed === 'number' || typeof seed === 'boolean') return new PyRandom(seed);
  fail(`The only supported seed types are: None, int, float, str, bytes, and bytearray.`);
}

function saltChars(n: number): string {
  const alphabet = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return Array.from(randomBytes(n), (b) => alphabet[b % 64]).join('');
}

function urlsplit(url: string): Record<string, unknown> {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(url) ?? [];
  const netloc = m[2] ?? '';
  const at = netloc.lastIndexOf('@');
  const userinfo = at >= 0 ? netloc.slice(0, at) : '';
  const hostport = at >= 0 ? netloc.slice(at + 1) : netloc;
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostport) ?? [];
  const [user, pass] = userinfo ? [userinfo.split(':')[0], userinfo.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : null] : [null, null];
  const host = hp[1] ? hp[1].replace(/^\[|\]$/g, '').toLowerCase() : null;
  return {
    fragment: m[5] ?? '',
    hostname: host || null,
    netloc,
    password: pass,
    path: m[3] ?? '',
    port: hp[2] ? Number(hp[2]) : null,
    query: m[4] ?? '',
    scheme: (m[1] ?? '').toLowerCase(),
    username: user,
  };
}

/** Ansible's `comment`: a decorated block with a bare decoration line before and after the text. */
function commentFilter(text: string, style: string, kw: Kw): string {
  const styles: Record<string, Kw> = {
    plain: { decoration: '# ' },
    erlang: { decoration: '% ' },
    c: { decoration: '// ' },
    cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
    xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
  };
  const st = styles[style] ?? fail(`comment: unknown style '${style}'`);
  const edge = String(kw.decoration ?? st.decoration).replace(/\s+$/, '');
  const p: Kw = { newline: '\n', beginning: '', prefix: edge, prefix_count: 1, decoration: '', postfix: edge, postfix_count: 1, end: '', ...st, ...kw };
  const nl = String(p.newline);
  const deco = String(p.decoration);
  const begin = p.beginning ? String(p.beginning) + nl : '';
  let prefix = '';
  if (p.prefix) prefix = (String(p.prefix) !== nl ? String(p.prefix) + nl : nl).repeat(Number(p.prefix_count));
  const body = (deco + text.split(nl).join(nl + deco)).split(deco + nl).join(deco.replace(/\s+$/, '') + nl);
  const postfix = ['', ...Array.from({ length: Number(p.postfix_count) }, () => String(p.postfix))].join(nl);
  const end = p.end ? nl + String(p.end) : '';
  return begin + prefix + body + postfix + end;
}

/** Python's shlex.quote. */
function shlexQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s; // ASCII only, as shlex
  return "'" + s.replace(/'/g, `'"'"'`) + "'";
}

function parseCidr(v: string): [IPv4 | IPv6, number] | undefined {
  try {
    if (v.includes('/')) return ip().parseCIDR(v);
    const a = ip().parse(v);
    return [a, a.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return undefined;
  }
}

function ipFilter(value: unknown, query: unknown, version?: 4 | 6): unknown {
  const one = (v: unknown): unknown => {
    if (!isString(v) && typeof v !== 'number') return false;
    const p = parseCidr(str(v));
    if (!p) return false;
    const [addr, prefix] = p;
    if (version && addr.kind() !== (version === 4 ? 'ipv4' : 'ipv6')) return false;
    const q = query === undefined || query === null ? '' : String(query);
    const text = addr.toString();
    const hasPrefix = str(v).includes('/');
    switch (q) {
      case '':
        return str(v);
      case 'address':
        return text;
      case 'network':
        return ip().IPv4.isValid(text) || addr.kind() === 'ipv6' ? networkOf(addr, prefix) : false;
      case 'netmask':
        return addr.kind() === 'ipv4' ? ip().IPv4.subnetMaskFromPrefixLength(prefix).toString() : ip().IPv6.subnetMaskFromPrefixLength(prefix).toString();
      case 'prefix':
        return prefix;
      case 'host':
        return `${text}/${prefix}`;
      case 'net':
        return hasPrefix && networkOf(addr, prefix) === text ? str(v) : false;
      case 'private':
        return addr.range() === 'private' ? str(v) : false;
      case 'public':
        return addr.range() === 'unicast' ? str(v) : false;
      case 'version':
        return addr.kind() === 'ipv4' ? 4 : 6;
      case 'ipv4':
        return addr.kind() === 'ipv4' ? str(v) : false;
      case 'ipv6':
        return addr.kind() === 'ipv6' ? str(v) : false;
      case 'cidr':
        return `${networkOf(addr, prefix)}/${prefix}`;
      case 'broadcast': {
        if (addr.kind() !== 'ipv4') return false;
        return ip().IPv4.broadcastAddressFromCIDR(`${text}/${prefix}`).toString();
      }
      default:
        if (/^-?\d+$/.test(q)) {
          const base = ip().parse(networkOf(addr, prefix)).toByteArray();
          let n = BigInt(Number(q));
          for (let i = base.length - 1; i >= 0 && n !== 0n; i--) {
            const s = BigInt(base[i]) + n;
            base[i] = Number(((s % 256n) + 256n) % 256n);
            n = s >= 0n ? s / 256n : -1n;
          }
          return `${ip().fromByteArray(base).toString()}/${prefix}`;
        }
        fail(`ipaddr: unknown filter type: ${q}`);
    }
  };
  if (Array.isArray(value)) return value.map(one).filter((x) => x !== false);
  return one(value);
}

function networkOf(addr: IPv4 | IPv6, prefix: number): string {
  const bytes = addr.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] &= (0xff << (8 - bits)) & 0xff;
  }
  return ip().fromByteArray(bytes).toString();
}

/** Jinja's `select`/`reject` apply a named test; `map` a named filter or an attribute. */
function testCaller(ctx: EvalContext, args: Args, kw: Kw): (v: unknown) => boolean {
  if (args.length === 0) return truthy;
  const name = str(args[0]).replace(/^ansible\.builtin\./, '');
  const test = ctx.env.test(name);
  if (!test) fail(`no test named '${name}'`);
  return (v) => test(ctx, v, args.slice(1), kw);
}

function mapFilter(ctx: EvalContext, value: unknown, args: Args, kw: Kw): unknown[] {
  const items = seq(value, 'map');
  if (args.length === 0 && kw.attribute !== undefined) {
    const get = attrGetter(kw.attribute);
    return items.map((x) => {
      const v = get(x);
      return v instanceof Undefined && 'default' in kw ? kw.default : v;
    });
  }
  const name = str(args[0]);
  const f = ctx.env.filter(name.replace(/^ansible\.builtin\./, ''));
  if (!f) fail(`no filter named '${name}'`);
  return items.map((x) => f(ctx, x, args.slice(1), kw));
}

function sortFilter(value: unknown, args: Args, kw: Kw): unknown[] {
  const reverse = truthy(arg(args, kw, 0, 'reverse', false));
  const caseSensitive = truthy(arg(args, kw, 1, 'case_sensitive', false));
  const attribute = arg(args, kw, 2, 'attribute', null);
  const get = attribute === null ? (x: unknown) => x : attrGetter(attribute);
  const key = sortKey(caseSensitive);
  const out = [...seq(value, 'sort')];
  out.sort((a, b) => pyCompare(key(get(a)), key(get(b))));
  if (reverse) out.reverse();
  return out;
}

function minMax(value: unknown, args: Args, kw: Kw, sign: number): unknown {
  const items = seq(value, sign < 0 ? 'min' : 'max');
  if (items.length === 0) return new Undefined('No aggregated item, sequence was empty.');
  const attribute = kw.attribute;
  const caseSensitive = truthy(kw.case_sensitive ?? false);
  const get = attribute === undefined || attribute === null ? (x: unknown) => x : attrGetter(attribute);
  const key = sortKey(caseSensitive);
  return items.reduce((best, x) => (sign * pyCompare(key(get(x)), key(get(best))) > 0 ? x : best));
}

function sumOf(items: unknown[], start: unknown): unknown {
  let acc: unknown = start;
  for (const x of items) {
    if (Array.isArray(acc) && Array.isArray(x)) acc = [...acc, ...x];
    else {
      if (!(typeof acc === 'number' || acc instanceof PyFloat) || !(typeof x === 'number' || x instanceof PyFloat || typeof x === 'boolean')) {
        fail(`unsupported operand type(s) for +: '${pyTypeName(acc)}' and '${pyTypeName(x)}'`);
      }
      const f = isFloat(acc) || isFloat(x);
      const s = num(acc) + num(x);
      acc = f ? makeFloat(s) : s;
    }
  }
  return acc;
}

function regexSearch(value: unknown, args: Args, kw: Kw): unknown {
  const [pattern, ...groups] = args;
  const re = pyRegex(str(pattern), { ignorecase: truthy(kw.ignorecase ?? false), multiline: truthy(kw.multiline ?? false) });
  const m = re.exec(str(value));
  if (!m) return null;
  if (groups.length === 0) return m[0];
  return groups.map((g) => {
    const s = str(g);
    if (s.startsWith('\\g<')) {
      const name = s.slice(3, -1);
      return m.groups?.[name] ?? null;
    }
    if (/^\\\d+$/.test(s)) return m[Number(s.slice(1))] ?? null;
    fail(`Unknown argument: ${s}`);
  });
}

function truncate(s: string, length: number, killwords: boolean, end: string, leeway: number): string {
  if (s.length <= length + leeway) return s;
  if (killwords) return s.slice(0, length - end.length) + end;
  const cut = s.slice(0, length - end.length);
  const i = cut.lastIndexOf(' ');
  return (i >= 0 ? cut.slice(0, i) : cut) + end;
}

function wordwrap(s: string, width: number, breakLong: boolean, wrapstring: string): string {
  const out: string[] = [];
  for (const para of s.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      let w = word;
      while (breakLong && w.length > width) {
        if (line) {
          out.push(line);
          line = '';
        }
        out.push(w.slice(0, width));
        w = w.slice(width);
      }
      if (!line) line = w;
      else if (line.length + 1 + w.length <= width) line += ' ' + w;
      else {
        out.push(line);
        line = w;
      }
    }
    out.push(line);
  }
  return out.join(wrapstring);
}

function indent(s: string, width: unknown, first: boolean, blank: boolean): string {
  const pad = isString(width) ? str(width) : ' '.repeat(num(width));
  const lines = s.split('\n');
  return lines
    .map((l, i) => ((i === 0 && !first) || (!blank && l.trim() === '' && i > 0) ? l : i === 0 && !first ? l : pad + l))
    .join('\n');
}

function dictsort(value: unknown, args: Args, kw: Kw): unknown[] {
  if (!isPlainObject(value)) fail('dictsort: argument must be a dict');
  const caseSensitive = truthy(arg(args, kw, 0, 'case_sensitive', false));
  const by = str(arg(args, kw, 1, 'by', 'key'));
  const reverse = truthy(arg(args, kw, 2, 'reverse', false));
  const i = by === 'value' ? 1 : 0;
  const key = sortKey(caseSensitive);
  const items = Object.entries(value).map(([k, v]) => tuple([k, v]));
  items.sort((a, b) => pyCompare(key(a[i]), key(b[i])));
  if (reverse) items.reverse();
  return items;
}

function groupby(value: unknown, args: Args, kw: Kw): unknown[] {
  const get = attrGetter(arg(args, kw, 0, 'attribute'));
  const items = sortFilter(value, [], { attribute: arg(args, kw, 0, 'attribute') });
  const groups: unknown[][] = [];
  for (const x of items) {
    const k = get(x);
    const last = groups[groups.length - 1];
    if (last && pyEq(last[0], k)) (last[1] as unknown[]).push(x);
    else groups.push(tuple([k, [x]]));
  }
  return groups;
}

/** Ansible's subelements, with its messages. */
function subelements(value: unknown, args: Args, kw: Kw): unknown[] {
  const spec = arg(args, kw, 0, 'subelements');
  const skipMissing = truthy(arg(args, kw, 1, 'skip_missing', false));
  let items: unknown[];
  if (isPlainObject(value)) items = Object.values(value);
  else if (Array.isArray(value)) items = value;
  else fail('obj must be a list of dicts or a nested dict');
  let path: unknown[];
  if (Array.isArray(spec)) path = spec;
  else if (isString(spec)) path = str(spec).split('.');
  else fail('subelements must be a list or a string');
  const out: unknown[] = [];
  for (const item of items) {
    let values: unknown = item;
    let last: unknown = '';
    for (const key of path) {
      last = key;
      if (!isPlainObject(values)) fail(`the key ${pyStr(key)} should point to a dictionary, got '${pyStr(values)}'`);
      const k = pyStr(key);
      if (!(k in values)) {
        if (skipMissing) {
          values = [];
          break;
        }
        fail(`could not find ${pyRepr(key)} key in iterated item ${pyRepr(values)}`);
      }
      values = values[k];
    }
    if (!Array.isArray(values)) fail(`the key ${pyRepr(last)} should point to a list, got ${pyRepr(values)}`);
    for (const sub of values) out.push(tuple([item, sub]));
  }
  return out;
}

function productOf(lists: unknown[][]): unknown[] {
  let acc: unknown[][] = [[]];
  for (const l of lists) acc = acc.flatMap((p) => l.map((x) => [...p, x]));
  return acc.map((p) => tuple(p));
}

function splitext(p: string): unknown[] {
  const base = basename(p);
  const ext = base.startsWith('.') && base.lastIndexOf('.') === 0 ? '' : extname(p);
  return tuple([p.slice(0, p.length - ext.length), ext]);
}

function strftime(fmt: string, secs: unknown, utc: boolean): string {
  let seconds: number | undefined;
  if (secs !== undefined && secs !== null) {
    seconds = isString(secs) ? Number(str(secs)) : num(secs);
    if (!Number.isFinite(seconds)) fail(`Invalid value for epoch value (${pyStr(secs)})`);
  }
  const d = seconds === undefined ? new Date() : new Date(seconds * 1000);
  const get = (f: 'FullYear' | 'Month' | 'Date' | 'Hours' | 'Minutes' | 'Seconds' | 'Day'): number =>
    (utc ? d[`getUTC${f}`]() : d[`get${f}`]()) as number;
  const two = (n: number): string => String(n).padStart(2, '0');
  const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  return fmt.replace(/%([a-zA-Z%])/g, (_m, c: string) => {
    switch (c) {
      case 'Y':
        return String(get('FullYear'));
      case 'y':
        return two(get('FullYear') % 100);
      case 'm':
        return two(get('Month') + 1);
      case 'd':
        return two(get('Date'));
      case 'H':
        return two(get('Hours'));
      case 'M':
        return two(get('Minutes'));
      case 'S':
        return two(get('Seconds'));
      case 'a':
        return days[get('Day')].slice(0, 3);
      case 'A':
        return days[get('Day')];
      case 'b':
        return months[get('Month')].slice(0, 3);
      case 'B':
        return months[get('Month')];
      case 's':
        return String(Math.floor(d.getTime() / 1000));
      case '%':
        return '%';
      default:
        return `%${c}`;
    }
  });
}

const filters: Record<string, FilterFn> = {
  // ----- Jinja2 -----
  abs: (_c, v) => (isFloat(v) ? makeFloat(Math.abs(num(v))) : Math.abs(num(v))),
  // Jinja's attr() reads attributes only, never items: a dict's key is not an attribute.
  attr: (_c, v, a) => pyMethod(v, str(a[0])) ?? new Undefined(`'${pyTypeName(v)} object' has no attribute '${str(a[0])}'`),
  batch: (_c, v, a, k) => {
    const items = seq(v, 'batch');
    const size = num(arg(a, k, 0, 'linecount'));
    const fill = arg(a, k, 1, 'fill_with', undefined);
    const out: unknown[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    const last = out[out.length - 1];
    if (fill !== undefined && last) while (last.length < size) last.push(fill);
    return out;
  },
  capitalize: (_c, v) => {
    const s = str(v);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  },
  center: (_c, v, a, k) => {
    const s = str(v);
    const w = num(arg(a, k, 0, 'width', 80));
    const total = Math.max(0, w - s.length);
    const left = Math.floor(total / 2) + (total % 2 && w % 2 ? 1 : 0);
    return ' '.repeat(left) + s + ' '.repeat(total - left);
  },
  count: (_c, v) => filters.length(_c, v, [], {}),
  default: (_c, v, a, k) => {
    const dflt = arg(a, k, 0, 'default_value', '');
    const boolean = truthy(arg(a, k, 1, 'boolean', false));
    if (v instanceof Undefined || (boolean && !truthy(v))) return dflt;
    return v;
  },
  dictsort: (_c, v, a, k) => dictsort(v, a, k),
  escape: (_c, v) => str(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;'),
  first: (_c, v) => {
    const items = seq(v, 'first');
    return items.length ? items[0] : new Undefined(`No first item, sequence was empty.`);
  },
  float: (_c, v, a, k) => toFloat(v, arg(a, k, 0, 'default', makeFloat(0))),
  format: (_c, v, a, k) => {
    const fmt = str(v);
    return Object.keys(k).length ? pyPercent(fmt, k) : pyPercent(fmt, tuple(a));
  },
  groupby: (_c, v, a, k) => groupby(v, a, k),
  indent: (_c, v, a, k) => indent(str(v), arg(a, k, 0, 'width', 4), truthy(arg(a, k, 1, 'first', false)), truthy(arg(a, k, 2, 'blank', false))),
  int: (_c, v, a, k) => toInt(v, arg(a, k, 0, 'default', 0), num(arg(a, k, 1, 'base', 10))),
  items: (_c, v) => (v === null ? [] : isPlainObject(v) ? Object.entries(v).map(([x, y]) => tuple([x, y])) : fail(`Can only get item pairs from a mapping.`)),
  join: (_c, v, a, k) => {
    const d = str(arg(a, k, 0, 'd', ''));
    const attribute = arg(a, k, 1, 'attribute', null);
    const get = attribute === null ? (x: unknown) => x : attrGetter(attribute);
    return seq(v, 'join').map((x) => pyStrOut(get(x))).join(d);
  },
  last: (_c, v) => {
    const items = seq(v, 'last');
    return items.length ? items[items.length - 1] : new Undefined('No last item, sequence was empty.');
  },
  length: (_c, v) => {
    if (isString(v)) return Array.from(str(v)).length;
    if (Array.isArray(v)) return v.length;
    if (isPlainObject(v)) return Object.keys(v).length;
    fail(`object of type '${pyTypeName(v)}' has no len()`);
  },
  list: (_c, v) => [...seq(v, 'list')],
  lower: (_c, v) => str(v).toLowerCase(),
  map: mapFilter,
  max: (_c, v, a, k) => minMax(v, a, k, 1),
  min: (_c, v, a, k) => minMax(v, a, k, -1),
  pprint: (_c, v) => pyRepr(v),
  random: (_c, v, a, k) => {
    const rnd = seededRandom(arg(a, k, 2, 'seed', null));
    if (typeof v !== 'number' && (truthy(arg(a, k, 0, 'start', null)) || truthy(arg(a, k, 1, 'step', null)))) fail('start and step can only be used with integer values');
    try {
      if (typeof v === 'number' && Number.isInteger(v)) {
        // Ansible: `if not start: start = 0`, `if not step: step = 1`.
        const start = num(arg(a, k, 0, 'start', 0) || 0);
        const step = num(arg(a, k, 1, 'step', 1) || 1);
        return rnd.randrange(start, v, step);
      }
      if (typeof v === 'number' || v instanceof PyFloat || v === null || typeof v === 'boolean') fail('random can only be used on sequences and integers');
      return rnd.choice(seq(v, 'random'));
    } catch (error) {
      if (error instanceof RangeError) fail(error.message);
      throw error;
    }
  },
  reject: (c, v, a, k) => {
    const t = testCaller(c, a, k);
    return seq(v, 'reject').filter((x) => !t(x));
  },
  rejectattr: (c, v, a, k) => {
    const get = attrGetter(a[0]);
    const t = testCaller(c, a.slice(1), k);
    return seq(v, 'rejectattr').filter((x) => {
      const y = get(x);
      return a.length === 1 ? !(y instanceof Undefined) && !truthy(y) : !t(y);
    });
  },
  replace: (_c, v, a, k) => {
    const s = str(v);
    const old = str(arg(a, k, 0, 'old'));
    const nw = str(arg(a, k, 1, 'new'));
    const count = arg(a, k, 2, 'count', null);
    const parts = s.split(old);
    if (count === null || parts.length <= num(count) + 1) return parts.join(nw);
    const n = num(count);
    return parts.slice(0, n + 1).join(nw) + old + parts.slice(n + 1).join(old);
  },
  reverse: (_c, v) => (isString(v) ? Array.from(str(v)).reverse().join('') : [...seq(v, 'reverse')].reverse()),
  round: (_c, v, a, k) => {
    const precision = num(arg(a, k, 0, 'precision', 0));
    const method = str(arg(a, k, 1, 'method', 'common'));
    const f = 10 ** precision;
    const x = num(v) * f;
    // Python's round() rounds half to even.
    const even = (y: number): number => {
      const r0 = Math.round(y);
      return Math.abs(y % 1) === 0.5 ? 2 * Math.round(y / 2) : r0;
    };
    const r = method === 'ceil' ? Math.ceil(x) : method === 'floor' ? Math.floor(x) : even(x);
    return makeFloat(r / f);
  },
  safe: (_c, v) => v,
  select: (c, v, a, k) => {
    const t = testCaller(c, a, k);
    return seq(v, 'select').filter((x) => t(x));
  },
  selectattr: (c, v, a, k) => {
    const get = attrGetter(a[0]);
    const t = testCaller(c, a.slice(1), k);
    return seq(v, 'selectattr').filter((x) => {
      const y = get(x);
      return a.length === 1 ? !(y instanceof Undefined) && truthy(y) : t(y);
    });
  },
  slice: (_c, v, a, k) => {
    const items = seq(v, 'slice');
    const n = num(arg(a, k, 0, 'slices'));
    const fill = arg(a, k, 1, 'fill_with', undefined);
    const per = Math.floor(items.length / n);
    const extra = items.length % n;
    const out: unknown[][] = [];
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const size = per + (i < extra ? 1 : 0);
      const part = items.slice(offset, offset + size);
      offset += size;
      if (fill !== undefined && i >= extra && extra > 0) part.push(fill);
      out.push(part);
    }
    return out;
  },
  sort: (_c, v, a, k) => sortFilter(v, a, k),
  string: (_c, v) => pyStrOut(v),
  striptags: (_c, v) => str(v).replace(/<!--[\s\S]*?-->|<[^>]*>/g, '').replace(/\s+/g, ' ').trim(),
  sum: (_c, v, a, k) => {
    const attribute = arg(a, k, 0, 'attribute', null);
    const get = attribute === null ? (x: unknown) => x : attrGetter(attribute);
    return sumOf(seq(v, 'sum').map(get), arg(a, k, 1, 'start', 0));
  },
  title: (_c, v) => str(v).replace(/([\w']+)/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()),
  tojson: (_c, v, a, k) => pyToJson(v, { indent: arg(a, k, 0, 'indent', null), sortKeys: true, ensureAscii: true, htmlSafe: true }),
  trim: (_c, v, a, k) => {
    const chars = arg(a, k, 0, 'chars', null);
    const s = str(v);
    if (chars === null) return s.trim();
    const set = new Set(Array.from(str(chars)));
    const arr = Array.from(s);
    let i = 0;
    let j = arr.length;
    while (i < j && set.has(arr[i])) i++;
    while (j > i && set.has(arr[j - 1])) j--;
    return arr.slice(i, j).join('');
  },
  truncate: (_c, v, a, k) =>
    truncate(str(v), num(arg(a, k, 0, 'length', 255)), truthy(arg(a, k, 1, 'killwords', false)), str(arg(a, k, 2, 'end', '...')), num(arg(a, k, 3, 'leeway', 5))),
  unique: (_c, v, a, k) => uniqueList(seq(v, 'unique'), truthy(arg(a, k, 0, 'case_sensitive', false)), arg(a, k, 1, 'attribute', null)),
  upper: (_c, v) => str(v).toUpperCase(),
  urlencode: (_c, v) => {
    const qs = (x: string): string => encodeURIComponent(x).replace(/%20/g, '+');
    if (isPlainObject(v)) return Object.entries(v).map(([k, x]) => `${qs(k)}=${qs(pyStr(x))}`).join('&');
    if (Array.isArray(v)) return v.map((x) => (Array.isArray(x) ? `${qs(pyStr(x[0]))}=${qs(pyStr(x[1]))}` : '')).join('&');
    // Python's quote(safe='/'): only letters, digits, '_.-~' and '/' stay as they are.
    return encodeURIComponent(str(v)).replace(/%2F/g, '/').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  },
  wordcount: (_c, v) => (str(v).match(/\w+/gu) ?? []).length,
  wordwrap: (_c, v, a, k) =>
    wordwrap(str(v), num(arg(a, k, 0, 'width', 79)), truthy(arg(a, k, 1, 'break_long_words', true)), str(arg(a, k, 2, 'wrapstring', '\n'))),
  xmlattr: (_c, v) =>
    isPlainObject(v)
      ? Object.entries(v)
          .filter(([, x]) => x !== null && !(x instanceof Undefined))
          .map(([k, x]) => ` ${k}="${pyStr(x).replace(/&/g, '&amp;').replace(/"/g, '&#34;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}"`)
          .join('')
      : fail('xmlattr: expected a dict'),

  // ----- ansible.builtin -----
  b64decode: (_c, v, a, k) => Buffer.from(str(v), 'base64').toString(nodeEncoding(arg(a, k, 0, 'encoding', 'utf-8'))),
  b64encode: (_c, v, a, k) => Buffer.from(str(v), nodeEncoding(arg(a, k, 0, 'encoding', 'utf-8'))).toString('base64'),
  basename: (_c, v) => {
    const s = str(v);
    return s.endsWith('/') ? '' : basename(s);
  },
  bool: (_c, v) => ansibleBool(v),
  checksum: (_c, v) => hashOf(str(v), 'sha1'),
  combine: (_c, v, a, k) => {
    if (Object.keys(k).some((x) => x !== 'recursive' && x !== 'list_merge')) fail("'recursive' and 'list_merge' are the only valid keyword arguments");
    const recursive = truthy(k.recursive ?? false);
    const listMerge = str(k.list_merge ?? 'replace');
    // Ansible flattens the terms one level and drops None.
    const dicts = [v, ...a].flatMap((x) => (Array.isArray(x) ? x : [x])).filter((x) => x !== null);
    for (const d of dicts) if (!isPlainObject(d)) fail(`failed to combine variables, expected dicts but got a '${pyTypeName(d)}'`);
    return (dicts as Record<string, unknown>[]).reduce((acc, d) => combineTwo(acc, d, recursive, listMerge), {});
  },
  comment: (_c, v, a, k) => commentFilter(str(v), str(arg(a, k, 0, 'style', 'plain')), Object.fromEntries(Object.entries(k).filter(([x]) => x !== 'style'))),
  dict2items: (_c, v, a, k) => {
    if (!isPlainObject(v)) fail(`dict2items requires a dictionary, got ${pyTypeName(v)} instead.`);
    const kn = str(arg(a, k, 0, 'key_name', 'key'));
    const vn = str(arg(a, k, 1, 'value_name', 'value'));
    return Object.entries(v).map(([x, y]) => ({ [kn]: x, [vn]: y }));
  },
  difference: (_c, v, a) => {
    const b = seq(a[0], 'difference');
    return uniqueList(seq(v, 'difference').filter((x) => !b.some((y) => pyEq(x, y))));
  },
  dirname: (_c, v) => {
    const s = str(v);
    const i = s.lastIndexOf('/');
    if (i < 0) return '';
    const head = s.slice(0, i + 1);
    return /^\/+$/.test(head) ? head : head.replace(/\/+$/, '');
  },
  expanduser: (_c, v) => str(v).replace(/^~(?=\/|$)/, homedir()),
  expandvars: (_c, v) => str(v).replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a: string | undefined, b: string | undefined) => process.env[a ?? b ?? ''] ?? m),
  extract: (_c, v, a, k) => {
    const container = arg(a, k, 0, 'container');
    const morekeys = arg(a, k, 1, 'morekeys', null);
    let out = getItem(container, v, false);
    const keys = morekeys === null ? [] : Array.isArray(morekeys) ? morekeys : [morekeys];
    for (const key of keys) out = getItem(out, key, false);
    return out;
  },
  flatten: (_c, v, a, k) => {
    const levels = arg(a, k, 0, 'levels', null);
    return flattenList(seq(v, 'flatten'), levels === null ? null : num(levels), truthy(arg(a, k, 1, 'skip_nulls', true)));
  },
  from_json: (_c, v) => {
    try {
      return JSON.parse(str(v)) as unknown;
    } catch (error) {
      fail(`from_json: ${(error as Error).message}`);
    }
  },
  from_yaml: (_c, v) => (isString(v) ? (parseYaml(str(v), PYYAML) as unknown) : v),
  from_yaml_all: (_c, v) => (isString(v) ? parseAllDocuments(str(v), PYYAML).map((d) => d.toJS() as unknown) : v),
  hash: (_c, v, a, k) => hashOf(str(v), str(arg(a, k, 0, 'hashtype', 'sha1'))),
  human_readable: (_c, v, a, k) => {
    const n = toFloat(v, null);
    if (n === null) fail(`human_readable() failed on bad input: ${pyRepr(v)}`);
    return humanReadable(num(n), truthy(arg(a, k, 0, 'isbits', false)), arg(a, k, 1, 'unit', null));
  },
  human_to_bytes: (_c, v, a, k) => humanToBytes(str(v), arg(a, k, 0, 'default_unit', null), truthy(arg(a, k, 1, 'isbits', false))),
  intersect: (_c, v, a) => {
    const b = seq(a[0], 'intersect');
    return uniqueList(seq(v, 'intersect').filter((x) => b.some((y) => pyEq(x, y))));
  },
  items2dict: (_c, v, a, k) => {
    const kn = str(arg(a, k, 0, 'key_name', 'key'));
    const vn = str(arg(a, k, 1, 'value_name', 'value'));
    const out: Record<string, unknown> = {};
    if (!Array.isArray(v)) fail(`items2dict requires a list, got <class '${pyTypeName(v)}'> instead.`);
    for (const item of v) {
      if (!isPlainObject(item)) fail(`items2dict requires a list of dictionaries, got ${pyRepr(v)} instead.`);
      if (!(kn in item) || !(vn in item)) {
        fail(`items2dict requires each dictionary in the list to contain the keys '${kn}' and '${vn}', got ${pyRepr(v)} instead.`);
      }
      out[pyStrOut(item[kn])] = item[vn];
    }
    return out;
  },
  log: (_c, v, a, k) => {
    const base = arg(a, k, 0, 'base', Math.E);
    return makeFloat(Math.log(mathNum(v, 'log')) / Math.log(mathNum(base, 'log')));
  },
  mandatory: (_c, v, a, k) => {
    if (v instanceof Undefined) {
      const msg = arg(a, k, 0, 'msg', null);
      fail(msg === null ? `Mandatory variable ${v.message.replace(/ is undefined$/, '')}  not defined.` : str(msg));
    }
    return v;
  },
  md5: (_c, v) => hashOf(str(v), 'md5'),
  password_hash: (_c, v, a, k) => {
    const scheme = str(arg(a, k, 0, 'hashtype', 'sha512'));
    const salt = arg(a, k, 1, 'salt', null);
    const rounds = arg(a, k, 2, 'rounds', null);
    const id = scheme === 'sha512' ? '6' : scheme === 'sha256' ? '5' : fail(`crypt.crypt does not support '${scheme}' algorithm`);
    const saltSize = arg(a, k, 3, 'salt_size', null);
    if (saltSize !== null && typeof saltSize !== 'number') fail(`salt_size must be an integer, got ${pyRepr(saltSize)}`);
    const r = rounds === null ? '' : `rounds=${num(rounds)}$`;
    return cryptEncrypt(str(v), `$${id}$${r}${salt === null ? saltChars(16) : str(salt)}`);
  },
  path_join: (_c, v) => {
    if (!Array.isArray(v) && !isString(v)) fail(`|path_join expects string or sequence, got <class '${pyTypeName(v)}'> instead.`);
    const parts = Array.isArray(v) ? v.map(str) : [str(v)];
    return parts.reduce((acc, p) => (p.startsWith('/') ? p : acc === '' || acc.endsWith('/') ? acc + p : `${acc}/${p}`), '');
  },
  pow: (_c, v, a) => makeFloat(mathNum(v, 'pow') ** mathNum(a[0], 'pow')),
  product: (_c, v, a) => productOf([seq(v, 'product'), ...a.map((x) => seq(x, 'product'))]),
  quote: (_c, v) => shlexQuote(v === null ? '' : pyStr(v)),
  realpath: (_c, v) => {
    try {
      return realpathSync(str(v));
    } catch {
      return resolve(str(v));
    }
  },
  regex_escape: (_c, v, a, k) => {
    const type = str(arg(a, k, 0, 're_type', 'python')).toLowerCase();
    if (type === 'posix_basic') return str(v).replace(/[.[\]\\*^$]/g, '\\$&');
    if (type === 'posix_extended') fail('Regex type (posix_extended) not yet implemented');
    if (type !== 'python') fail(`Invalid regex type (${type})`);
    return str(v).replace(/[^A-Za-z0-9_]/g, (ch) => (/[\p{L}\p{N}]/u.test(ch) ? ch : '\\' + ch));
  },
  regex_findall: (_c, v, a, k) => {
    const re = pyRegex(str(arg(a, k, 0, 'regex')), { ignorecase: truthy(arg(a, k, 2, 'ignorecase', false)), multiline: truthy(arg(a, k, 1, 'multiline', false)), global: true });
    const out: unknown[] = [];
    for (const m of str(v).matchAll(re)) {
      if (m.length === 1) out.push(m[0]);
      else if (m.length === 2) out.push(m[1] ?? '');
      else out.push(tuple(m.slice(1).map((g) => g ?? '')));
    }
    return out;
  },
  regex_replace: (_c, v, a, k) => {
    const pattern = str(arg(a, k, 0, 'pattern', ''));
    const replacement = str(arg(a, k, 1, 'replacement', ''));
    if ('count' in k) fail("regex_replace() got an unexpected keyword argument 'count'");
    const count = 0;
    const re = pyRegex(pattern, { ignorecase: truthy(arg(a, k, 2, 'ignorecase', false)), multiline: truthy(arg(a, k, 3, 'multiline', false)), global: true });
    let n = 0;
    const rep = pyReplacement(replacement);
    return str(v).replace(re, (...m) => {
      if (count > 0 && n >= count) return m[0] as string;
      n++;
      return rep(m);
    });
  },
  regex_search: (_c, v, a, k) => regexSearch(v, a, k),
  relpath: (_c, v, a, k) => relative(str(arg(a, k, 0, 'start', process.cwd())), str(v)) || '.',
  root: (_c, v, a) => makeFloat(mathNum(v, 'root') ** (1 / mathNum(a[0] ?? 2, 'root'))),
  rekey_on_member: (_c, v, a, k) => {
    const key = str(arg(a, k, 0, 'key'));
    const duplicates = str(arg(a, k, 1, 'duplicates', 'error'));
    if (duplicates !== 'error' && duplicates !== 'overwrite') fail(`duplicates parameter to rekey_on_member has unknown value: ${duplicates}`);
    const items = Array.isArray(v) ? v : isPlainObject(v) ? Object.values(v) : fail('Type is not a valid list, set, or dict');
    const out: Record<string, unknown> = {};
    for (const item of items) {
      if (!isPlainObject(item)) fail('List item is not a valid dict');
      if (!(key in item)) fail(`Key ${key} was not found`);
      const name = pyStr(item[key]);
      if (name in out && duplicates === 'error') fail(`Key ${name} is not unique, cannot correctly turn into dict`);
      out[name] = item;
    }
    return out;
  },
  sha1: (_c, v) => hashOf(str(v), 'sha1'),
  shuffle: (_c, v, a, k) => {
    if (!Array.isArray(v) && !isString(v)) return v;
    const items = [...seq(v, 'shuffle')];
    // Ansible seeds only a truthy seed (`if seed:`).
    const seed = arg(a, k, 0, 'seed', null);
    return seededRandom(truthy(seed) ? seed : null).shuffle(items);
  },
  split: (_c, v, a, k) => {
    const sep = arg(a, k, 0, 'seperator', arg(a, k, 0, 'separator', null));
    const max = num(arg(a, k, 1, 'maxsplit', -1));
    const s = str(v);
    if (sep === null) return s.trim() === '' ? [] : s.trim().split(/\s+/);
    const parts = s.split(str(sep));
    return max >= 0 && parts.length > max + 1 ? [...parts.slice(0, max), parts.slice(max).join(str(sep))] : parts;
  },
  splitext: (_c, v) => splitext(str(v)),
  strftime: (_c, v, a, k) => strftime(str(v), arg(a, k, 0, 'second', null), truthy(arg(a, k, 1, 'utc', false))),
  subelements: (_c, v, a, k) => subelements(v, a, k),
  symmetric_difference: (_c, v, a) => {
    const x = seq(v, 'symmetric_difference');
    const y = seq(a[0], 'symmetric_difference');
    const union = uniqueList([...x, ...y]);
    return union.filter((e) => !(x.some((p) => pyEq(p, e)) && y.some((q) => pyEq(q, e))));
  },
  ternary: (_c, v, a, k) => {
    const t = arg(a, k, 0, 'true_val');
    const f = arg(a, k, 1, 'false_val');
    const none = arg(a, k, 2, 'none_val', undefined);
    if (v === null && none !== undefined) return none;
    return truthy(v) ? t : f;
  },
  to_datetime: (_c, v, a, k) => strptime(str(v), str(arg(a, k, 0, 'format', '%Y-%m-%d %H:%M:%S'))),
  to_json: (_c, v, a, k) => pyToJson(v, { indent: k.indent ?? null, sortKeys: truthy(k.sort_keys ?? false), ensureAscii: truthy(k.ensure_ascii ?? true) }),
  to_nice_json: (_c, v, a, k) =>
    pyToJson(v, { indent: arg(a, k, 0, 'indent', 4), sortKeys: truthy(arg(a, k, 1, 'sort_keys', true)), ensureAscii: truthy(k.ensure_ascii ?? true), separators: [',', ': '] }),
  to_nice_yaml: (_c, v, a, k) => toYaml(v, { indent: num(arg(a, k, 0, 'indent', 4)), flow: false, sortKeys: truthy(arg(a, k, 1, 'sort_keys', true)) }),
  to_uuid: (_c, v, a, k) => {
    const ns = str(arg(a, k, 0, 'namespace', '361E6D51-FAEC-444A-9079-341386DA8E2E'));
    if (!/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(ns)) fail(`Invalid value '${ns}' for 'namespace': badly formed hexadecimal UUID string`);
    return uuid5(ns, str(v));
  },
  to_yaml: (_c, v, a, k) => toYaml(v, { indent: num(k.indent ?? 2), flow: null, sortKeys: truthy(k.sort_keys ?? true) }),
  type_debug: (_c, v) => pyTypeName(v),
  union: (_c, v, a) => uniqueList([...seq(v, 'union'), ...seq(a[0], 'union')]),
  urldecode: (_c, v) => decodeURIComponent(str(v).replace(/\+/g, ' ')),
  urlsplit: (_c, v, a, k) => {
    const parts = urlsplit(str(v));
    const query = arg(a, k, 0, 'query', '');
    if (query === '' || query === null) return parts;
    if (!(str(query) in parts)) fail(`urlsplit: unknown URL component: ${str(query)}`);
    return parts[str(query)];
  },
  zip: (_c, v, a) => {
    const lists = [seq(v, 'zip'), ...a.map((x) => seq(x, 'zip'))];
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_x, i) => tuple(lists.map((l) => l[i])));
  },
  zip_longest: (_c, v, a, k) => {
    const lists = [seq(v, 'zip_longest'), ...a.map((x) => seq(x, 'zip_longest'))];
    const fill = k.fillvalue ?? null;
    const n = Math.max(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_x, i) => tuple(lists.map((l) => (i < l.length ? l[i] : fill))));
  },
  // ipaddr basics (ansible.utils / netcommon)
  ipaddr: (_c, v, a, k) => ipFilter(v, arg(a, k, 0, 'query', '')),
  ipv4: (_c, v, a, k) => ipFilter(v, arg(a, k, 0, 'query', ''), 4),
  ipv6: (_c, v, a, k) => ipFilter(v, arg(a, k, 0, 'query', ''), 6),
  ipwrap: (_c, v) => {
    const wrap = (x: unknown): unknown => {
      if (!isString(x)) return x;
      const s = str(x);
      const p = parseCidr(s);
      return p && p[0].kind() === 'ipv6' ? (s.includes('/') ? `[${s.split('/')[0]}]/${s.split('/')[1]}` : `[${s}]`) : s;
    };
    return Array.isArray(v) ? v.map(wrap) : wrap(v);
  },
};
filters.d = filters.default;
filters.e = filters.escape;
filters.forceescape = filters.escape;

/** Python codec names as Buffer encodings. */
function nodeEncoding(name: unknown): BufferEncoding {
  const n = str(name).toLowerCase().replace(/_/g, '-');
  if (n === 'utf-8' || n === 'utf8') return 'utf8';
  if (n === 'utf-16-le' || n === 'utf-16le') return 'utf16le';
  if (n === 'latin-1' || n === 'latin1' || n === 'iso-8859-1') return 'latin1';
  if (n === 'ascii') return 'ascii';
  fail(`unsupported encoding '${str(name)}' (utf-8, utf-16-le, latin-1, ascii)`);
}

function mathNum(v: unknown, filter: string): number {
  if (typeof v === 'number' || v instanceof PyFloat) return num(v);
  fail(`${filter}() can only be used on numbers: ${pyRepr(v)}`);
}

/** `'%s' | format(x)`: Python's `%` formatting (shared with the `%` operator). */
function pyPercent(fmt: string, values: unknown): string {
  return percentFormat(fmt, values);
}

import { pyPercentFormat as percentFormat } from './methods.ts';


/** The string a value becomes through Jinja's `string` filter (Python str(); None is 'None'). */
function pyStrOut(v: unknown): string {
  if (v instanceof UnsafeText) return v.text;
  return pyStr(v);
}

function uuid5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(Buffer.concat([ns, Buffer.from(name, 'utf8')])).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export const BUILTIN_FILTERS: Readonly<Record<string, FilterFn>> = filters;

export { Callable, isTuple };
