// YAML parsing that keeps where every value came from, so any later error can name file:line:col.
//
// Files are read as YAML 1.1 exactly as Ansible's PyYAML resolves plain scalars (PYYAML below): `mode: 0644` is
// octal 420, `yes`/`on` are booleans, `1e3` and `e1` stay text.

import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import {
  LineCounter,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  visit,
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
import { markUnsafeTree, UnsafeText } from './unsafe.ts';

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

export type YamlValue = string | UnsafeText | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };
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

/** Bounds on nesting and aliases: real files stay far below them; a hostile one fails at once, not the machine. */
export const YAML_LIMITS = {
  /** Levels of maps and lists inside each other (Ansible's PyYAML gives up between 400 and 1000). */
  depth: 500,
  /**
   * Values that aliases (*name, <<: *name) may copy in one document, at least; a longer file may copy as many values
   * as it has characters, so the work stays in proportion to the file and a "billion laughs" stops at once.
   */
  aliasedValues: 10_000,
};

/** One document's walk: the anchors being expanded (a cycle), how deep it is, how much aliases have copied. */
interface Walk {
  seen: Set<Node>;
  targets: Map<Node, Node>;
  depth: number;
  inAlias: number;
  aliased: number;
  budget: number;
  /** The `!unsafe` node whose value is being read (its tag is handled once). */
  unwrapping?: Node;
}

/** Thrown inside an alias's expansion when the budget runs out; the outermost alias turns it into an InputError. */
class AliasLimit extends Error {}

function toValue(node: unknown, doc: Document, lines: LineCounter, file: string, walk: Walk, text: string): YamlValue {
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
    const target = walk.targets.get(node);
    if (!target) throw new InputError(at(node), `unknown alias *${node.source}`);
    if (walk.seen.has(target)) throw new InputError(at(node), `alias *${node.source} refers to itself`);
    walk.seen.add(target);
    walk.inAlias++;
    try {
      return toValue(target, doc, lines, file, walk, text);
    } catch (error) {
      if (error instanceof AliasLimit && walk.inAlias === 1) {
        throw new InputError(at(node), `aliases copy more than ${walk.budget} values (is this a "billion laughs" file?); write the data out instead`);
      }
      throw error;
    } finally {
      walk.seen.delete(target);
      walk.inAlias--;
    }
  }
  if (walk.inAlias > 0 && ++walk.aliased > walk.budget) throw new AliasLimit();
  // Ansible's `!unsafe`: the value (at any depth) is data, never evaluated as a template.
  if ((isScalar(node) || isSeq(node) || isMap(node)) && node.tag === '!unsafe' && walk.unwrapping !== node) {
    const outer = walk.unwrapping;
    walk.unwrapping = node;
    try {
      return markUnsafeTree(toValue(node, doc, lines, file, walk, text)) as YamlValue;
    } finally {
      walk.unwrapping = outer;
    }
  }
  if (isScalar(node)) {
    // Ansible decrypts these with a vault password; used as they are, they would be ciphertext taken for the value.
    if (node.tag === '!vault') {
      throw new InputError(at(node), 'a !vault value: kplay has no Ansible Vault; give the secret with -e @file, a vars file kept out of the repository, or an env lookup');
    }
    const v = node.value;
    if (v === undefined || v === null) return null;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return Number(v);
    if (v instanceof Date) return v.toISOString();
    return String(v);
  }
  if ((isSeq(node) || isMap(node)) && walk.depth >= YAML_LIMITS.depth) {
    throw new InputError(at(node), `nested more than ${YAML_LIMITS.depth} levels deep`);
  }
  if (isSeq(node)) {
    walk.depth++;
    const list: YamlValue[] = [];
    const info: Positions = { self: at(node), keys: new Map(), values: new Map(), quotes: new Map() };
    node.items.forEach((item, i) => {
      const p = valueAt(item as Node);
      info.keys.set(i, p);
      info.values.set(i, p);
      info.quotes.set(i, quoteIn(item as Node));
      list.push(toValue(item, doc, lines, file, walk, text));
    });
    positions.set(list, info);
    walk.depth--;
    return list;
  }
  if (isMap(node)) {
    walk.depth++;
    const obj: YamlObject = {};
    const info: Positions = { self: at(node), keys: new Map(), values: new Map(), quotes: new Map() };
    const merged: YamlObject[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const isMerge = isScalar(keyNode) && (keyNode.value === '<<' || typeof keyNode.value === 'symbol');
      const rawKey = keyNode === null ? null : toValue(keyNode, doc, lines, file, walk, text);
      if (isMerge) {
        const source = toValue(pair.value, doc, lines, file, walk, text);
        for (const m of Array.isArray(source) ? source : [source]) {
          if (m === null || typeof m !== 'object' || Array.isArray(m) || m instanceof UnsafeText) {
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
      obj[key] = toValue(pair.value, doc, lines, file, walk, text);
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
    walk.depth--;
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

/**
 * Each alias's anchored node, in one pass: an alias means the last anchor of its name before it. (The library's
 * Alias.resolve searches the whole document for each alias: 3000 hosts sharing defaults took 18 s.)
 */
function aliasTargets(doc: Document): Map<Node, Node> {
  const anchors = new Map<string, Node>();
  const targets = new Map<Node, Node>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) targets.set(node, target);
      } else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  return targets;
}

/** Parse YAML text into plain values with positions; a syntax error becomes an InputError at its line and column. */
export function parseYaml(text: string, file: string): YamlValue[] {
  refuseControlCharacters(text, file);
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
      // The parser recurses per level and runs out of stack somewhere past 800: the same limit, said plainly.
      if (/Maximum call stack/.test(message)) {
        const deep = tooDeepBracket(text);
        throw new InputError(deep < 0 ? { file, line, col } : { file, ...lineColAt(text, deep) }, `nested more than ${YAML_LIMITS.depth} levels deep`);
      }
      throw new InputError({ file, line, col }, `YAML syntax error: ${message}`);
    }
    out.push(toValue(doc.contents, doc, lines, file, { seen: new Set(), targets: aliasTargets(doc), depth: 0, inAlias: 0, aliased: 0, budget: Math.max(YAML_LIMITS.aliasedValues, text.length) }, text));
  }
  return out;
}

/** The bracket that opens level depth+1 of flow ([ {) nesting, outside quotes; -1 when there is none. */
function tooDeepBracket(text: string): number {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') {
      if (++depth > YAML_LIMITS.depth) return i;
    } else if (c === ']' || c === '}') depth--;
  }
  return -1;
}

/** Line and column (1-based, in characters) of an offset in text. */
function lineColAt(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

// What YAML 1.1 (and so PyYAML) does not allow in a stream: C0 and C1 controls other than tab, newline, return and
// NEL, and the two non-characters. A NUL in a playbook is a damaged or binary file, never meant.
// eslint-disable-next-line no-control-regex
const NON_PRINTABLE = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]/;

/** A NUL or another control character YAML forbids, refused where it is. */
export function refuseControlCharacters(text: string, file: string, where = 'YAML'): void {
  const m = NON_PRINTABLE.exec(text);
  if (!m) return;
  const code = m[0].charCodeAt(0);
  const name = code === 0 ? 'a NUL byte' : `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  throw new InputError({ file, ...lineColAt(text, m.index) }, `${name} is not allowed in ${where} (is this a binary file?)`);
}

/**
 * A YAML file's bytes as text. YAML files are UTF-8 (a UTF-8 byte-order mark is dropped, as PyYAML does); other bytes
 * are refused where the first one is, instead of turning into U+FFFD and reaching a host.
 */
export function decodeUtf8(bytes: Buffer, file: string, what = 'YAML files'): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new InputError({ file, line: 1, col: 1 }, `this file is UTF-16 (it starts with a UTF-16 byte-order mark); ${what} must be UTF-8`);
  }
  const text = bytes.toString('utf8');
  if (isUtf8(bytes)) return text.startsWith('\uFEFF') ? text.slice(1) : text;
  // The first U+FFFD that the bytes did not spell out (EF BF BD) is where decoding failed.
  let at = 0;
  let offset = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp === 0xfffd && !(bytes[at] === 0xef && bytes[at + 1] === 0xbf && bytes[at + 2] === 0xbd)) break;
    at += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    offset += ch.length;
  }
  const byte = `0x${bytes[at].toString(16).toUpperCase().padStart(2, '0')}`;
  throw new InputError({ file, ...lineColAt(text, offset) }, `a byte that is not UTF-8 (${byte}); ${what} must be UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)`);
}

/** Read and parse one YAML file of one document (an empty file is null). */
export function loadYamlFile(path: string): YamlValue {
  let text: string;
  const file = displayPath(path);
  try {
    text = decodeUtf8(readFileSync(path), file);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError({ file, line: 1, col: 1 }, `cannot read: ${(error as Error).message}`);
  }
  const docs = parseYaml(text, file);
  if (docs.length > 1) {
    throw new InputError({ file, line: 1, col: 1 }, 'expected one YAML document, found several');
  }
  return docs[0] ?? null;
}

export function isObject(value: unknown): value is YamlObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof UnsafeText);
}

/** The name of a value's YAML type, for messages ("expected a list, got a string"). */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && !(value instanceof UnsafeText)) return 'a map';
  if (typeof value === 'string' || value instanceof UnsafeText) return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}
