// `to_json`/`to_nice_json` as Python's json.dumps writes them (separators, sort_keys, ensure_ascii, `2.0`), and
// `to_yaml`/`to_nice_yaml` as PyYAML's dumper writes them for the common shapes.

import { stringify } from 'yaml';
import { PyFloat, UnsafeText, Undefined, failUndefined, isPlainObject, isTuple, JinjaRuntimeError } from './values.ts';

export interface JsonOptions {
  indent: unknown;
  sortKeys: boolean;
  ensureAscii: boolean;
  separators?: [string, string];
  htmlSafe?: boolean;
}

function jsonString(s: string, ascii: boolean, html: boolean): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (html && '<>&\''.includes(ch)) out += '\\u' + c.toString(16).padStart(4, '0');
    else if (c < 0x20 || (ascii && c > 0x7e)) {
      if (c > 0xffff) {
        const hi = Math.floor((c - 0x10000) / 0x400) + 0xd800;
        const lo = ((c - 0x10000) % 0x400) + 0xdc00;
        out += `\\u${hi.toString(16)}\\u${lo.toString(16)}`;
      } else out += '\\u' + c.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

export function pyToJson(value: unknown, o: JsonOptions): string {
  const indent = o.indent === null || o.indent === undefined ? null : typeof o.indent === 'number' ? ' '.repeat(o.indent) : String(o.indent);
  const [itemSep, keySep] = o.separators ?? (indent === null ? [', ', ': '] : [',', ': ']);
  const walk = (v: unknown, depth: number): string => {
    if (v instanceof Undefined) failUndefined(v);
    if (v === null || v === undefined) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (v instanceof PyFloat) return `${v.value}.0`;
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return 'NaN';
      if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
      return String(v).replace(/e([+-])(\d)$/, 'e$10$2');
    }
    if (typeof v === 'string') return jsonString(v, o.ensureAscii, o.htmlSafe === true);
    if (v instanceof UnsafeText) return jsonString(v.text, o.ensureAscii, o.htmlSafe === true);
    const nl = indent === null ? '' : '\n' + indent.repeat(depth + 1);
    const end = indent === null ? '' : '\n' + indent.repeat(depth);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return '[' + nl + v.map((x) => walk(x, depth + 1)).join(itemSep + nl) + end + ']';
    }
    if (isPlainObject(v)) {
      let keys = Object.keys(v);
      if (keys.length === 0) return '{}';
      if (o.sortKeys) keys = keys.sort();
      return '{' + nl + keys.map((k) => jsonString(k, o.ensureAscii, o.htmlSafe === true) + keySep + walk(v[k], depth + 1)).join(itemSep + nl) + end + '}';
    }
    throw new JinjaRuntimeError(`Object of type ${typeof v} is not JSON serializable`);
  };
  return walk(value, 0);
}

export interface YamlOptions {
  indent: number;
  /** false: block style (to_nice_yaml); null: PyYAML's default_flow_style=None (leaf collections in flow style). */
  flow: boolean | null;
  sortKeys: boolean;
}

function plain(v: unknown): unknown {
  if (v instanceof PyFloat) return v.value;
  if (v instanceof UnsafeText) return v.text;
  if (v instanceof Undefined) failUndefined(v);
  if (Array.isArray(v)) return v.map(plain);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  void isTuple;
  return v;
}

export function toYaml(value: unknown, o: YamlOptions): string {
  return stringify(plain(value), {
    indent: o.indent,
    indentSeq: false,
    sortMapEntries: o.sortKeys,
    lineWidth: 0,
    collectionStyle: o.flow === false ? 'block' : 'any',
    version: '1.1',
  });
}
