// Parsing Jinja text into a tree, with nunjucks's lexer and parser (kept from the library; only its compiler and
// runtime are replaced by kplay's interpreter). Each text is parsed once per process and cached.
//
// Also refuses JavaScript that is not Jinja (`===`, `&&`, `!x`...) with the Jinja way to write it, and turns parse
// errors into InputError at the file, line and column of the text itself.

// Only nunjucks's lexer, parser and nodes (and its Jinja compatibility patch of the parser): its compiler,
// runtime, environment and loaders are never used, so they are not loaded (start-up cost).
import lexer from 'nunjucks/src/lexer.js';
import parser from 'nunjucks/src/parser.js';
import nodes from 'nunjucks/src/nodes.js';
import lib from 'nunjucks/src/lib.js';
import installJinjaCompat from 'nunjucks/src/jinja-compat.js';
import { InputError, type SourcePos } from '../core/source.ts';

/** A node of nunjucks's tree. Fields depend on `typename` (see nunjucks/src/nodes.js). */
export interface JNode {
  typename: string;
  lineno: number; // 0-based
  colno: number; // 0-based
  children: JNode[];
  value: unknown;
  target: JNode;
  val: JNode;
  left: JNode;
  right: JNode;
  cond: JNode;
  body: JNode;
  else_: JNode | null;
  arr: JNode;
  name: JNode;
  args: JNode;
  expr: JNode;
  ops: JNode[];
  type: string;
  key: JNode;
  targets: JNode[];
  template: JNode;
  names: JNode;
  withContext: boolean | null;
  ignoreMissing: boolean;
  start: JNode;
  stop: JNode;
  step: JNode;
}

interface Token {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}

/** Jinja2's float_re and integer_re (decimal), at the start of the text. */
const JINJA_NUMBER = /^(?:\d+_)*\d+(?:(?:\.(?:\d+_)*\d+)?[eE][+-]?(?:\d+_)*\d+|\.(?:\d+_)*\d+)?(?![\w])/;

/** The parts of nunjucks's lexer and parser that Jinja2's grammar needs adjusted. */
interface ParserProto {
  peekToken(): Token;
  nextToken(): Token;
  pushToken(t: Token): void;
  skipSymbol(name: string): boolean;
  fail(msg: string, lineno?: number, colno?: number): never;
  parseCompare(): JNode;
  parsePrimary(noPostfix?: boolean): JNode;
  parseSignature(tolerant?: boolean, noParens?: boolean): JNode | null;
  parseAggregate(): JNode | null;
  parseExpression(): JNode;
  skip(type: string): boolean;
  skipValue(type: string, value: string): boolean;
  parsePostfix(node: JNode): JNode;
  parseIs(): JNode;
}

interface TokenizerProto {
  forward(): void;
  current(): string;
  isFinished(): boolean;
  nextToken(): Token | null;
  _parseString(delimiter: string): string;
  in_code: boolean;
  str: string;
  index: number;
  lineno: number;
  colno: number;
  /** kplay: open `{` inside the current code block, and whether that block is a `{{ }}`. */
  braces?: number;
  inVariable?: boolean;
}

interface NodeClass {
  new (lineno: number, colno: number, ...fields: unknown[]): JNode;
}

interface NunjucksInternals {
  parser: { parse(src: string, extensions: unknown, opts: { trimBlocks: boolean; lstripBlocks: boolean }): JNode; Parser: { prototype: ParserProto } };
  lexer: { lex(src: string, opts: object): TokenizerProto };
  nodes: Record<string, NodeClass>;
}

const nj = { lexer, parser, nodes } as unknown as NunjucksInternals;
patchAggregate();
// Adds slices (`x[1:3]`) to the parser (around patchAggregate's parseAggregate). Its runtime and compiler halves
// patch stand-ins: kplay has neither.
(installJinjaCompat as (this: object) => void).call({
  lexer,
  parser,
  nodes,
  lib,
  runtime: { contextOrFrameLookup: (): undefined => undefined, memberLookup: (): undefined => undefined },
  compiler: { Compiler: class {} },
});
patchGrammar();

/**
 * Jinja2 accepts a trailing comma in lists, dicts and tuples (`{'a': 1,}`; `(1,)` is a tuple). Installed before
 * nunjucks's Jinja compatibility, which wraps this parseAggregate to add slices (`x[1:3]`).
 */
function patchAggregate(): void {
  const parser = nj.parser.Parser.prototype;
  const CLOSE = new Set(['right-paren', 'right-bracket', 'right-curly']);
  const add = (node: JNode, child: JNode): void => (node as JNode & { addChild(c: JNode): void }).addChild(child);
  // Jinja2 accepts a trailing comma in lists, dicts, tuples and calls (`{'a': 1,}`, `f(x,)`); `(1,)` is a tuple.
  parser.parseAggregate = function parseAggregate(this: ParserProto): JNode | null {
    const tok = this.nextToken();
    const kind = { 'left-paren': nj.nodes.Group, 'left-bracket': nj.nodes.Array, 'left-curly': nj.nodes.Dict }[tok.type];
    if (!kind) return null;
    const node = new kind(tok.lineno, tok.colno);
    while (true) {
      if (CLOSE.has(this.peekToken().type)) {
        this.nextToken();
        break;
      }
      if (node.children.length > 0) {
        if (!this.skip('comma')) this.fail('parseAggregate: expected comma after expression', tok.lineno, tok.colno);
        if (CLOSE.has(this.peekToken().type)) {
          this.nextToken();
          if (node.typename === 'Group') (node as JNode & { tuple?: boolean }).tuple = true;
          break;
        }
      }
      if (node.typename === 'Dict') {
        const key = this.parsePrimary();
        if (!this.skip('colon')) this.fail('parseAggregate: expected colon after dict key', tok.lineno, tok.colno);
        const value = this.parseExpression();
        add(node, new nj.nodes.Pair(key.lineno, key.colno, key, value));
      } else add(node, this.parseExpression());
    }
    return node;
  };
}


/**
 * Where nunjucks's grammar is not Jinja2's: string escapes as Python reads them (`'\w'` keeps its backslash),
 * `x.0` index lookups, and a test's single argument without parentheses (`n is divisibleby 3`).
 */
function patchGrammar(): void {
  const tokenizer = Object.getPrototypeOf(nj.lexer.lex('', {})) as TokenizerProto;
  tokenizer._parseString = function parseString(this: TokenizerProto, delimiter: string): string {
    this.forward();
    let out = '';
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '\n': '' };
    while (!this.isFinished() && this.current() !== delimiter) {
      const cur = this.current();
      if (cur !== '\\') {
        out += cur;
        this.forward();
        continue;
      }
      this.forward();
      const c = this.current();
      if (literalBackslashes && this.inVariable) {
        out += '\\' + c;
        this.forward();
        continue;
      }
      if (c in simple) {
        out += simple[c];
        this.forward();
      } else if (c === 'x' || c === 'u' || c === 'U') {
        const len = c === 'x' ? 2 : c === 'u' ? 4 : 8;
        let hex = '';
        this.forward();
        for (let i = 0; i < len && /[0-9a-fA-F]/.test(this.current()); i++) {
          hex += this.current();
          this.forward();
        }
        out += hex.length === len ? String.fromCodePoint(parseInt(hex, 16)) : `\\${c}${hex}`;
      } else if (/[0-7]/.test(c)) {
        let oct = '';
        for (let i = 0; i < 3 && /[0-7]/.test(this.current()); i++) {
          oct += this.current();
          this.forward();
        }
        out += String.fromCharCode(parseInt(oct, 8));
      } else {
        // Python keeps the backslash of an unknown escape: regexes like '\w+' reach the filter intact.
        out += '\\';
      }
    }
    this.forward();
    return out;
  };

  // Jinja balances braces inside code: `{{ {'a': {'b': 1}} }}` closes the dicts before the variable.
  const nextToken = tokenizer.nextToken;
  tokenizer.nextToken = function balanced(this: TokenizerProto): Token | null {
    if (this.in_code && (this.braces ?? 0) > 0 && this.str.startsWith('}', this.index)) {
      const tok = { type: 'right-curly', value: '}', lineno: this.lineno, colno: this.colno };
      this.forward();
      this.braces = (this.braces ?? 1) - 1;
      return tok;
    }
    // Jinja's number literals that nunjucks's lexer splits or reads as names: exponents (`1e3`, `1.5e-3`) and
    // underscores (`1_000`).
    if (this.in_code && /[0-9]/.test(this.str[this.index] ?? '') && !/[\w.]/.test(this.str[this.index - 1] ?? '')) {
      const m = JINJA_NUMBER.exec(this.str.slice(this.index, this.index + 80));
      if (m && /[eE_]/.test(m[0])) {
        const number = { type: /[.eE]/.test(m[0]) ? 'float' : 'int', value: m[0].replace(/_/g, ''), lineno: this.lineno, colno: this.colno };
        for (let i = 0; i < m[0].length; i++) this.forward();
        return number;
      }
    }
    const tok = nextToken.call(this);
    if (tok) {
      if (tok.type === 'left-curly') this.braces = (this.braces ?? 0) + 1;
      else if (tok.type === 'variable-start') this.inVariable = true;
      else if (tok.type === 'block-start') this.inVariable = false;
      else if (tok.type === 'variable-end' || tok.type === 'block-end') {
        this.braces = 0;
        this.inVariable = false;
      }
    }
    return tok;
  };

  const parser = nj.parser.Parser.prototype;
  const { LookupVal, Literal, FunCall, NodeList } = nj.nodes;
  const add = (node: JNode, child: JNode): void => (node as JNode & { addChild(c: JNode): void }).addChild(child);
  parser.parseSignature = function parseSignature(this: ParserProto, tolerant?: boolean, noParens?: boolean): JNode | null {
    let tok = this.peekToken();
    if (!noParens && tok.type !== 'left-paren') {
      if (tolerant) return null;
      this.fail('expected arguments', tok.lineno, tok.colno);
    }
    if (tok.type === 'left-paren') tok = this.nextToken();
    const args = new nj.nodes.NodeList(tok.lineno, tok.colno);
    const kwargs = new nj.nodes.KeywordArgs(tok.lineno, tok.colno);
    let checkComma = false;
    while (true) {
      tok = this.peekToken();
      if (!noParens && tok.type === 'right-paren') {
        this.nextToken();
        break;
      } else if (noParens && tok.type === 'block-end') break;
      if (checkComma && !this.skip('comma')) this.fail('parseSignature: expected comma after expression', tok.lineno, tok.colno);
      if (checkComma && !noParens && this.peekToken().type === 'right-paren') continue;
      const arg = this.parseExpression();
      if (this.skipValue('operator', '=')) add(kwargs, new nj.nodes.Pair(arg.lineno, arg.colno, arg, this.parseExpression()));
      else add(args, arg);
      checkComma = true;
    }
    if (kwargs.children.length) add(args, kwargs);
    return args;
  };
  parser.parsePostfix = function parsePostfix(this: ParserProto, node: JNode): JNode {
    for (let tok = this.peekToken(); tok; tok = this.peekToken()) {
      if (tok.type === 'left-paren') node = new FunCall(tok.lineno, tok.colno, node, this.parseSignature() as JNode);
      else if (tok.type === 'left-bracket') {
        const lookup = this.parseAggregate() as JNode;
        if (lookup.children.length > 1) this.fail('invalid index');
        node = new LookupVal(tok.lineno, tok.colno, node, lookup.children[0]);
      } else if (tok.type === 'operator' && tok.value === '.') {
        this.nextToken();
        const val = this.nextToken();
        if (val.type === 'symbol') node = new LookupVal(tok.lineno, tok.colno, node, new Literal(val.lineno, val.colno, val.value));
        else if (val.type === 'int') node = new LookupVal(tok.lineno, tok.colno, node, new Literal(val.lineno, val.colno, Number(val.value)));
        else if (val.type === 'float') {
          // `x.0.1` lexes as x . 0.1: two index lookups; `x.0.name` as x . 0. name: an index, then an attribute.
          const [a, b] = val.value.split('.');
          node = new LookupVal(tok.lineno, tok.colno, node, new Literal(val.lineno, val.colno, Number(a)));
          if (b !== '') node = new LookupVal(tok.lineno, tok.colno, node, new Literal(val.lineno, val.colno + a.length + 1, Number(b)));
          else {
            const attr = this.nextToken();
            if (attr.type !== 'symbol') this.fail(`expected name as lookup value, got ${attr.value}`, attr.lineno, attr.colno);
            node = new LookupVal(tok.lineno, tok.colno, node, new Literal(attr.lineno, attr.colno, attr.value));
          }
        } else this.fail(`expected name as lookup value, got ${val.value}`, val.lineno, val.colno);
      } else break;
    }
    return node;
  };

  const STOP = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else']);
  parser.parseIs = function parseIs(this: ParserProto): JNode {
    let node = this.parseCompare();
    if (this.skipSymbol('is')) {
      const not = this.skipSymbol('not');
      let test = this.parsePrimary();
      // Jinja2: `x is divisibleby 3` passes one argument without parentheses.
      const next = this.peekToken();
      if (test.typename === 'Symbol' && next && (['int', 'float', 'string', 'none', 'boolean'].includes(next.type) || (next.type === 'symbol' && !STOP.has(next.value)))) {
        const arg = this.parsePrimary();
        test = new FunCall(test.lineno, test.colno, test, new NodeList(arg.lineno, arg.colno, [arg]));
      }
      node = new nj.nodes.Is(node.lineno, node.colno, node, test);
      if (not) node = new nj.nodes.Not(node.lineno, node.colno, node);
    }
    return node;
  };
}

/** Ansible's settings: trim_blocks on, lstrip_blocks off. */
const OPTS = { trimBlocks: true, lstripBlocks: false };

/** A parse or syntax error in Jinja text, at a 1-based line and column inside that text. */
export class JinjaSyntaxError extends Error {
  constructor(
    readonly detail: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(detail);
    this.name = 'JinjaSyntaxError';
  }
}

const cache = new Map<string, JNode | JinjaSyntaxError>();

// Ansible escapes backslashes in string literals of task values and conditionals before Jinja reads them, so there
// `'\d+'` and `'\n'` keep their backslash; template files (`.j2`) read Python escapes. True while parsing the former.
let literalBackslashes = false;

/** How a text is read: a task value or conditional (`value`), or a template file or an included one (`file`). */
export type TextKind = 'value' | 'file';

/** Parse a template (any text with `{{ }}`/`{% %}`/`{# #}`); throws JinjaSyntaxError. */
export function parseTemplate(text: string, kind: TextKind = 'value'): JNode {
  const key = `${kind}\0${text}`;
  let tree = cache.get(key);
  if (tree === undefined) {
    try {
      refuseJavaScript(text, false);
      literalBackslashes = kind === 'value';
      tree = annotate(nj.parser.parse(text, undefined, OPTS), text);
    } catch (error) {
      tree = toSyntaxError(error, text);
    } finally {
      literalBackslashes = false;
    }
    cache.set(key, tree);
  }
  if (tree instanceof JinjaSyntaxError) throw tree;
  return tree;
}

const exprCache = new Map<string, JNode | JinjaSyntaxError>();

/**
 * Parse a bare expression; throws JinjaSyntaxError with positions inside `expr`. A conditional is read as Ansible
 * presents it (`{% if expr %}`: Python string escapes); a `var:`/value expression as `{{ expr }}` (backslashes kept).
 */
export function parseExpression(expr: string, kind: 'condition' | 'value' = 'condition'): JNode {
  const key = `${kind}\0${expr}`;
  let node = exprCache.get(key);
  if (node === undefined) {
    try {
      refuseJavaScript(expr, true);
    } catch (error) {
      exprCache.set(key, error as JinjaSyntaxError);
      throw error;
    }
    try {
      // Newlines are allowed inside `{{ }}`; the wrapper's 3 columns are taken off positions on the first line.
      const wrapped = `{{ ${expr} }}`;
      literalBackslashes = kind === 'value';
      let root: JNode;
      try {
        root = annotate(nj.parser.parse(wrapped, undefined, OPTS), wrapped);
      } finally {
        literalBackslashes = false;
      }
      const out = root.children.length === 1 ? root.children[0] : undefined;
      if (!out || out.typename !== 'Output' || out.children.length !== 1) {
        throw new JinjaSyntaxError('expected one expression', 1, 1);
      }
      node = out.children[0];
    } catch (error) {
      const e = toSyntaxError(error, `{{ ${expr} }}`);
      node = new JinjaSyntaxError(e.detail, e.line, e.line === 1 ? Math.max(1, e.col - 3) : e.col);
    }
    exprCache.set(key, node);
  }
  if (node instanceof JinjaSyntaxError) throw node;
  return node;
}

function toSyntaxError(error: unknown, text: string): JinjaSyntaxError {
  if (error instanceof JinjaSyntaxError) return error;
  const e = error as { message?: string; lineno?: number; colno?: number };
  const raw = String(e.message ?? error);
  // nunjucks prefixes "(unknown path) [Line n, Column m]"; keep only the reason.
  const reason = raw.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('(unknown path)')).pop() ?? raw;
  // nunjucks's positions are 1-based; an error at the end of the text (an unclosed block) has none.
  const lines = text.split('\n');
  const line = e.lineno ?? lines.length;
  const col = e.colno ?? (lines[line - 1] ?? '').length + 1;
  return new JinjaSyntaxError(`Jinja syntax error: ${reason.replace(/^parse\w*: /, '')}`, line, col);
}

/**
 * What nunjucks's tree does not keep but Python's meaning needs, read back from the source text: whether a lookup
 * was `a.b` or `a['b']` (attributes first, or items first), and whether a number literal was a float (`2.0`).
 */
function annotate(root: JNode, text: string): JNode {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const at = (n: JNode): number => (lineStarts[n.lineno] ?? 0) + n.colno;
  const walk = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    const node = n as JNode & { bracket?: boolean; float?: boolean };
    if (typeof node.typename === 'string') {
      if (node.typename === 'TemplateData' && typeof node.value === 'string' && /^\r?\n/.test(node.value)) {
        // Jinja's trim_blocks also drops the newline after a comment and after {% endraw %}; nunjucks does not.
        const before = text.slice(Math.max(0, at(node) - 40), at(node));
        if (/#\}$/.test(before) || /\{%-?\s*endraw\s*-?%\}$/.test(before)) node.value = node.value.replace(/^\r?\n/, '');
      }
      if (node.typename === 'LookupVal') {
        node.bracket = text[at(node)] === '[';
        // `x.0.name`, `x.0.1`: the index after a dot is an int, whatever text follows it.
        const val = (node as JNode & { val?: JNode & { dotIndex?: boolean } }).val;
        if (!node.bracket && val?.typename === 'Literal') val.dotIndex = true;
      }
      if (node.typename === 'Literal' && typeof node.value === 'number' && Number.isInteger(node.value) && !(node as { dotIndex?: boolean }).dotIndex) {
        const m = /^[0-9_.eE+-]+/.exec(text.slice(at(node)));
        // After a `.` it is an index (`x.0.1`), never a float: Jinja's float_re has the same (?<!\.).
        if (m && /[.eE]/.test(m[0]) && text[at(node) - 1] !== '.') node.float = true;
      }
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === 'parent') continue;
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') walk(v);
    }
  };
  walk(root);
  return root;
}

// ----- JavaScript that is not Jinja -----

const JS_ONLY: [RegExp, string][] = [
  [/===/, "'===' is JavaScript; Jinja compares with '=='"],
  [/!==/, "'!==' is JavaScript; Jinja compares with '!='"],
  [/&&/, "'&&' is JavaScript; write 'and'"],
  [/\|\|/, "'||' is JavaScript; write 'or' (or `x | default(y)` for a fallback)"],
  [/\?\?/, "'??' is JavaScript; write `x | default(y)`"],
  [/=>/, "'=>' (arrow function) is JavaScript; use filters such as map, select, selectattr"],
  [/\.includes\(/, "'.includes(' is JavaScript; write `item in list` or `'text' in string`"],
  [/!(?!=)/, "'!' is JavaScript; write 'not x'"],
  [/(?<![=!<>])=(?![=])/, "'=' assigns; compare with '=='"],
];

/** Blank out string literals (keeping length) so operators inside quotes are not mistaken for code. */
function blankStrings(code: string): string {
  return code.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, (m) => m[0] + ' '.repeat(m.length - 2) + m[0]);
}

/** The code parts of a template: `{{ }}` and `{% %}` bodies with their offsets; whole text for an expression. */
function codeRegions(text: string, bare: boolean): { start: number; code: string; statement: boolean }[] {
  if (bare) return [{ start: 0, code: text, statement: false }];
  const out: { start: number; code: string; statement: boolean }[] = [];
  const re = /\{%-?\s*raw\s*-?%\}[\s\S]*?\{%-?\s*endraw\s*-?%\}|\{#[\s\S]*?#\}|\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== undefined) out.push({ start: m.index + 2, code: m[1], statement: false });
    else if (m[2] !== undefined) out.push({ start: m.index + 2, code: m[2], statement: true });
  }
  return out;
}

function refuseJavaScript(text: string, bare: boolean): void {
  for (const region of codeRegions(text, bare)) {
    let code = blankStrings(region.code);
    // `{% set x = 1 %}`, keyword arguments `f(a=1)` and `{% macro m(a=1) %}` use '=' legitimately.
    if (region.statement && /^\s*-?\s*set\s/.test(code)) code = code.replace(/^(\s*-?\s*set\s[^=]*)=/, (m) => ' '.repeat(m.length));
    code = code.replace(/([(,]\s*[A-Za-z_]\w*\s*)=(?![=>])/g, (_m, p: string) => p + ' ');
    // Whitespace control markers `{{-`/`-}}`, and `{%- ... -%}` never contain these characters.
    for (const [re, message] of JS_ONLY) {
      const m = re.exec(code);
      if (m) {
        const offset = region.start + m.index;
        const before = text.slice(0, offset);
        const line = before.split('\n').length;
        const col = offset - before.lastIndexOf('\n');
        throw new JinjaSyntaxError(message, line, col);
      }
    }
  }
}

// ----- positions -----

/** Where a scalar's text starts (its first character, after any quote) in a YAML file. */
export interface TextAt {
  pos: SourcePos;
  /** Characters before the text in the scalar on its line: 1 for a quoted scalar, 0 for a plain one. */
  quote?: number;
}

/** An InputError at the real line and column of a syntax error inside a YAML scalar or template file. */
export function inputErrorAt(error: JinjaSyntaxError, at: TextAt | undefined, context: string): InputError {
  if (!at) return new InputError(undefined, `${error.detail} in ${context}`);
  const { pos, quote = 0 } = at;
  // Lines after the first of a multi-line scalar are reported at their own line; their indentation is unknown here.
  const line = pos.line + error.line - 1;
  const col = error.line === 1 ? pos.col + quote + error.col - 1 : error.col;
  return new InputError({ file: pos.file, line, col }, `${error.detail} in ${context}`);
}
