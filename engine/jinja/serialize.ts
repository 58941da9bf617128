// `to_json`/`to_nice_json` as Python's json.dumps writes them (separators, sort_keys, ensure_ascii, `2.0`), and
// `to_yaml`/`to_nice_yaml` as PyYAML's dumper writes them for the common shapes.

import { PyFloat, UnsafeText, Undefined, failUndefined, isPlainObject, JinjaRuntimeError } from './values.ts';

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

// Plain scalars PyYAML would read back as something else (bool, null, number, date) must be quoted.
const RESOLVES = /^(?:~|null|Null|NULL|yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0b[01_]+|[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|\d{4}-\d\d?-\d\d?.*|=|<<)$/;

function yamlString(s: string): string {
  const plainOk =
    s !== '' &&
    !RESOLVES.test(s) &&
    !/^[\s\-?:,[\]{}#&*!|>'"%@`]/.test(s) &&
    !/\s$/.test(s) &&
    !/: |:$| #|[\n\r\t]/.test(s) &&
    // eslint-disable-next-line no-control-regex
    !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s);
  if (plainOk || (/^[-?:]/.test(s) && s.length > 1 && !/^[-?:][\s]/.test(s) && !RESOLVES.test(s) && !/: | #|[\n\r\t]|\s$/.test(s))) return s;
  // eslint-disable-next-line no-control-regex
  if (/[\n\r\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s)) {
    return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t') + '"';
  }
  return "'" + s.replace(/'/g, "''") + "'";
}

function yamlScalar(v: unknown): string {
  if (v instanceof Undefined) failUndefined(v);
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (v instanceof PyFloat) return `${v.value}.0`;
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '.nan';
    if (!Number.isFinite(v)) return v > 0 ? '.inf' : '-.inf';
    return String(v);
  }
  if (v instanceof UnsafeText) return yamlString(v.text);
  if (typeof v === 'string') return yamlString(v);
  throw new JinjaRuntimeError(`cannot represent an object: ${String(v)}`);
}

const isCollection = (v: unknown): v is unknown[] | Record<string, unknown> => Array.isArray(v) || isPlainObject(v);

/** PyYAML's dump for the common shapes: block style, sequences not indented under a key, flow for leaf collections. */
export function toYaml(value: unknown, o: YamlOptions): string {
  const keysOf = (d: Record<string, unknown>): string[] => (o.sortKeys ? Object.keys(d).sort() : Object.keys(d));
  const flowOk = (v: unknown): boolean => o.flow === true || (o.flow === null && isCollection(v) && !(Array.isArray(v) ? v : Object.values(v)).some(isCollection));
  const flow = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
    if (isPlainObject(v)) return `{${keysOf(v).map((k) => `${yamlString(k)}: ${flow(v[k])}`).join(', ')}}`;
    return yamlScalar(v);
  };
  const pad = (n: number): string => ' '.repeat(n);
  // Lines of a node written at column `col`; `inline` when it follows "- " or "key: " on the same line.
  const block = (v: unknown, col: number): string[] => {
    if (!isCollection(v) || (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0) || flowOk(v)) return [flow(v)];
    const out: string[] = [];
    if (Array.isArray(v)) {
      for (const item of v) {
        const inner = block(item, col + o.indent);
        const lead = '-' + pad(Math.max(1, o.indent - 1));
        if (isCollection(item) && inner.length > 0 && !flowOk(item) && (Array.isArray(item) ? item.length : Object.keys(item).length) > 0) {
          out.push(pad(col) + lead + inner[0].trimStart(), ...inner.slice(1));
        } else out.push(pad(col) + '- ' + inner[0]);
      }
      return out;
    }
    for (const k of keysOf(v)) {
      const x = v[k];
      const key = yamlString(k);
      if (isCollection(x) && !flowOk(x) && (Array.isArray(x) ? x.length : Object.keys(x).length) > 0) {
        out.push(`${pad(col)}${key}:`);
        out.push(...block(x, Array.isArray(x) ? col : col + o.indent));
      } else out.push(`${pad(col)}${key}: ${block(x, col + o.indent)[0]}`);
    }
    return out;
  };
  const lines = block(value, 0);
  if (!isCollection(value)) return `${lines[0]}\n...\n`;
  return lines.join('\n') + '\n';
}
