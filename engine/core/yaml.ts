// YAML parsing that keeps where every value came from, so any later error can name file:line:col.
//
// Files are read as YAML 1.1 exactly as Ansible's PyYAML resolves plain scalars (PYYAML below): `mode: 0644` is
// octal 420, `yes`/`on` are booleans, `1e3` and `e1` stay text.

import { readFileSync } from 'node:fs';
import {
  LineCounter,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type DocumentOptions,
  type Node,
  type ParseOptions,
  type ScalarTag,
  type SchemaOptions,
  type Tags,
  type YAMLError,
} from 'yaml';
import { displayPath, InputError, type SourcePos } from './source.ts';

// ----- PyYAML's implicit resolvers (yaml/resolver.py) and SafeConstructor's conversions, as yaml library tags -----

const INT = 'tag:yaml.org,2002:int';
const FLOAT = 'tag:yaml.org,2002:float';
const BOOL = 'tag:yaml.org,2002:bool';

/** `1:30` → 90: PyYAML's base-60 numbers. */
function sexagesimal(text: string): number {
  return text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

function pyInt(source: string): number {
  let v = source.replace(/_/g, '');
  const sign = v[0] === '-' ? -1 : 1;
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  if (v === '0') return 0;
  if (v.startsWith('0b')) return sign * parseInt(v.slice(2), 2);
  if (v.startsWith('0x')) return sign * parseInt(v.slice(2), 16);
  if (v[0] === '0') return sign * parseInt(v, 8);
  if (v.includes(':')) return sign * sexagesimal(v);
  return sign * Number(v);
}

function pyFloat(source: string): number {
  let v = source.replace(/_/g, '').toLowerCase();
  const sign = v[0] === '-' ? -1 : 1;
  if (v[0] === '-' || v[0] === '+') v = v.slice(1);
  if (v === '.inf') return sign * Infinity;
  if (v === '.nan') return NaN;
  if (v.includes(':')) return sign * sexagesimal(v);
  return sign * Number(v);
}

const scalarTag = (tag: string, test: RegExp, resolve: (s: string) => unknown, identify: (v: unknown) => boolean): ScalarTag => ({
  tag,
  test,
  resolve,
  identify,
  default: true,
});

const PYYAML_TAGS: ScalarTag[] = [
  scalarTag(BOOL, /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/, () => true, (v) => v === true),
  scalarTag(BOOL, /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/, () => false, (v) => v === false),
  scalarTag(
    INT,
    /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
    pyInt,
    (v) => Number.isInteger(v),
  ),
  scalarTag(
    FLOAT,
    /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
    pyFloat,
    (v) => typeof v === 'number',
  ),
];

/**
 * Parse options that make the yaml library resolve plain scalars as PyYAML's SafeLoader does (Ansible's loader):
 * its YAML 1.1 schema with PyYAML's own booleans (not y/n), ints (`0755` octal, `0o755` and `09` text, `1:30`
 * base 60) and floats (a dot required: `1e3` is text, `1.0e+3` a float; `e1`, `.`, `-.5` text). Timestamps stay
 * the text written (PyYAML makes dates; Ansible prints them as that text).
 */
export const PYYAML: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  customTags: (tags: Tags): Tags => [
    // The library's implicit scalar resolvers for these types go; explicit tags (`!!int "3"`) still resolve.
    ...tags.filter((t) => typeof t === 'string' || ![BOOL, INT, FLOAT, 'tag:yaml.org,2002:timestamp'].includes(t.tag) || !('test' in t) || !t.test),
    ...PYYAML_TAGS,
  ],
};

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };
export type YamlObject = { [key: string]: YamlValue };

interface Positions {
  self: SourcePos;
  keys: Map<string | number, SourcePos>;
  values: Map<string | number, SourcePos>;
  /** Characters before a scalar value's text on its line: 1 for a quoted scalar (Jinja error columns). */
  quotes: Map<string | number, number>;
}

// Positions of every map and list a file produced: plain JS values for the loaders, positions on the side.
const positions = new WeakMap<object, Positions>();
const scalarPositions = new WeakMap<object, SourcePos>();

/** Where a map or list starts, or where one of its keys (or that key's value) is written. */
export function posOf(container: object, key?: string | number, which: 'key' | 'value' = 'key'): SourcePos | undefined {
  const p = positions.get(container);
  if (!p) return scalarPositions.get(container);
  if (key === undefined) return p.self;
  return (which === 'key' ? p.keys.get(key) : p.values.get(key)) ?? p.self;
}

/** 1 when the value at `key` is a quoted scalar, else 0 (its text starts right at its position). */
export function quoteOf(container: object, key: string | number): number {
  return positions.get(container)?.quotes.get(key) ?? 0;
}

/** Give `to` (a map built from `from`'s entries) the same key positions. */
export function sharePositions(from: object, to: object): void {
  const p = positions.get(from);
  if (p) positions.set(to, p);
}

/** A copy of a map with some keys renamed (`ansible.builtin.include_tasks` → `include_tasks`), positions kept. */
export function renameKeys(from: YamlObject, rename: (key: string) => string): YamlObject {
  const to: YamlObject = {};
  for (const [k, v] of Object.entries(from)) to[rename(k)] = v;
  const p = positions.get(from);
  if (p) {
    const moved = <T>(m: Map<string | number, T>): Map<string | number, T> => new Map([...m].map(([k, v]) => [typeof k === 'string' ? rename(k) : k, v]));
    positions.set(to, { self: p.self, keys: moved(p.keys), values: moved(p.values), quotes: moved(p.quotes) });
  }
  return to;
}

/** A path as users see it in messages: relative to the working folder when inside it. */
export { displayPath };

function toValue(node: unknown, doc: Document, lines: LineCounter, file: string, seen: Set<Node>, text: string): YamlValue {
  const at = (n: { range?: [number, number, number] | null } | null | undefined): SourcePos => {
    const offset = n?.range?.[0] ?? 0;
    const { line, col } = lines.linePos(offset);
    return { file, line, col };
  };
  // A value's position: a block scalar's (| or >) is its first content line, where its text starts.
  const valueAt = (n: Node | null | undefined): SourcePos => {
    if (isScalar(n) && (n.type === 'BLOCK_LITERAL' || n.type === 'BLOCK_FOLDED') && n.range) {
      const nl = text.indexOf('\n', n.range[0]);
      if (nl >= 0) {
        let i = nl + 1;
        while (text[i] === ' ') i++;
        const { line, col } = lines.linePos(i);
        return { file, line, col };
      }
    }
    return at(n);
  };
  const quoteIn = (n: Node | null | undefined): number => (isScalar(n) && (n.type === 'QUOTE_DOUBLE' || n.type === 'QUOTE_SINGLE') ? 1 : 0);
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    const target = node.resolve(doc);
    if (!target) throw new InputError(at(node), `unknown alias *${node.source}`);
    if (seen.has(target)) throw new InputError(at(node), `alias *${node.source} refers to itself`);
    seen.add(target);
    try {
      return toValue(target, doc, lines, file, seen, text);
    } finally {
      seen.delete(target);
    }
  }
  if (isScalar(node)) {
    const v = node.value;
    if (v === undefined || v === null) return null;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return Number(v);
    if (v instanceof Date) return v.toISOString();
    return String(v);
  }
  if (isSeq(node)) {
    const list: YamlValue[] = [];
    const info: Positions = { self: at(node), keys: new Map(), values: new Map(), quotes: new Map() };
    node.items.forEach((item, i) => {
      const p = valueAt(item as Node);
      info.keys.set(i, p);
      info.values.set(i, p);
      info.quotes.set(i, quoteIn(item as Node));
      list.push(toValue(item, doc, lines, file, seen, text));
    });
    positions.set(list, info);
    return list;
  }
  if (isMap(node)) {
    const obj: YamlObject = {};
    const info: Positions = { self: at(node), keys: new Map(), values: new Map(), quotes: new Map() };
    const merged: YamlObject[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const isMerge = isScalar(keyNode) && (keyNode.value === '<<' || typeof keyNode.value === 'symbol');
      const rawKey = keyNode === null ? null : toValue(keyNode, doc, lines, file, seen, text);
      if (isMerge) {
        const source = toValue(pair.value, doc, lines, file, seen, text);
        for (const m of Array.isArray(source) ? source : [source]) {
          if (m === null || typeof m !== 'object' || Array.isArray(m)) {
            throw new InputError(at(pair.value as Node), 'a merge key (<<) takes a map or a list of maps');
          }
          merged.push(m);
        }
        continue;
      }
      const key = String(rawKey);
      if (Object.prototype.hasOwnProperty.call(obj, key)) {
        throw new InputError(at(keyNode), `duplicate key "${key}"`);
      }
      info.keys.set(key, at(keyNode));
      info.values.set(key, valueAt((pair.value as Node | null) ?? keyNode));
      info.quotes.set(key, quoteIn(pair.value as Node | null));
      obj[key] = toValue(pair.value, doc, lines, file, seen, text);
    }
    for (const m of merged) {
      const mp = positions.get(m);
      for (const [k, v] of Object.entries(m)) {
        if (k in obj) continue;
        obj[k] = v;
        if (mp) {
          info.keys.set(k, mp.keys.get(k) ?? mp.self);
          info.values.set(k, mp.values.get(k) ?? mp.self);
          info.quotes.set(k, mp.quotes.get(k) ?? 0);
        }
      }
    }
    positions.set(obj, info);
    return obj;
  }
  throw new InputError(at(node as Node), 'unsupported YAML node');
}

/**
 * Where a reader should look for a syntax error. The yaml library reports an unclosed quote or bracket where the
 * input ran out, a misaligned line at its start, and an over-indented key at the value above it.
 */
function syntaxErrorAt(errors: readonly YAMLError[], text: string): { offset: number; message: string } {
  const [error, next] = errors;
  const message = error.message.split('\n')[0];
  const pos = error.pos[0];
  const quote = /^Missing closing (["'])quote/.exec(message)?.[1];
  if (quote) return { offset: openingQuote(text, pos, quote), message: `this ${quote === '"' ? 'double' : 'single'}-quoted string is never closed` };
  const close = /end with an? ([\]}])/.exec(message)?.[1];
  if (close) {
    const open = close === ']' ? '[' : '{';
    return { offset: openingBracket(text, pos, open, close), message: `this ${open} is never closed with ${close}` };
  }
  if (error.code === 'BLOCK_AS_IMPLICIT_KEY' && next?.code === 'MULTILINE_IMPLICIT_KEY') {
    const lineStart = text.lastIndexOf('\n', next.pos[1] - 1) + 1;
    return { offset: lineStart + leadingSpaces(text, lineStart), message: 'a key is not allowed here (is this line indented too far?)' };
  }
  const atLineStart = pos === 0 || text[pos - 1] === '\n';
  return { offset: atLineStart ? pos + leadingSpaces(text, pos) : pos, message };
}

function leadingSpaces(text: string, from: number): number {
  return /^ */.exec(text.slice(from))?.[0].length ?? 0;
}

/** The quote that opened a string still open at `end` (inside it, `"` is escaped as \" and `'` doubled as ''). */
function openingQuote(text: string, end: number, quote: string): number {
  for (let i = end - 1; i >= 0; i--) {
    if (text[i] !== quote) continue;
    if (quote === '"' && text[i - 1] !== '\\') return i;
    if (quote === "'" && text[i - 1] === "'") i--;
    else if (quote === "'") return i;
  }
  return end;
}

/** The bracket left open before `end`. */
function openingBracket(text: string, end: number, open: string, close: string): number {
  let depth = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (text[i] === close) depth++;
    else if (text[i] === open && depth-- === 0) return i;
  }
  return end;
}

/** Parse YAML text into plain values with positions; a syntax error becomes an InputError at its line and column. */
export function parseYaml(text: string, file: string): YamlValue[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { ...PYYAML, lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: false });
  if (!Array.isArray(docs)) {
    // An empty stream
    return [];
  }
  const out: YamlValue[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      const { offset, message } = syntaxErrorAt(doc.errors, text);
      const { line, col } = lines.linePos(offset);
      throw new InputError({ file, line, col }, `YAML syntax error: ${message}`);
    }
    out.push(toValue(doc.contents, doc, lines, file, new Set(), text));
  }
  return out;
}

/** Read and parse one YAML file of one document (an empty file is null). */
export function loadYamlFile(path: string): YamlValue {
  let text: string;
  const file = displayPath(path);
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError({ file, line: 1, col: 1 }, `cannot read: ${(error as Error).message}`);
  }
  const docs = parseYaml(text, file);
  if (docs.length > 1) {
    throw new InputError({ file, line: 1, col: 1 }, 'expected one YAML document, found several');
  }
  return docs[0] ?? null;
}

export function isObject(value: unknown): value is YamlObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The name of a value's YAML type, for messages ("expected a list, got a string"). */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}
