// kplay's Jinja interpreter: walks nunjucks's parse tree with Jinja2's meaning as Ansible runs it (Python values and
// operators, StrictUndefined with Ansible's messages, trim_blocks, macros, includes, loop.*). No JavaScript is ever
// generated or evaluated: a template can reach only its variables, filters, tests and lookups.
//
// Every value read from a variable or looked up inside one is checked for unsafe marks; a rendering that touched
// unsafe data taints its result (the caller marks it unsafe), as Ansible's context does.

import type { JNode } from './parse.ts';
import {
  JinjaRuntimeError,
  PyFloat,
  Undefined,
  UnsafeText,
  UNSAFE,
  containsUnsafe,
  failUndefined,
  isFloat,
  isPlainObject,
  isString,
  isTuple,
  makeFloat,
  num,
  pyCompare,
  pyContains,
  pyEq,
  pyIter,
  pyRepr,
  pyStr,
  pyTypeName,
  str,
  truthy,
  tuple,
} from './values.ts';
import { pyMethod, pyPercentFormat } from './methods.ts';
import { Callable, LazyMap, Namespace, PyDateTime, PyTimeDelta } from './values.ts';
import { dateArith, dateAttribute } from './datetime.ts';

export { Callable, Namespace };

export type FilterFn = (ctx: EvalContext, value: unknown, args: unknown[], kwargs: Record<string, unknown>) => unknown;
export type TestFn = (ctx: EvalContext, value: unknown, args: unknown[], kwargs: Record<string, unknown>) => boolean;

/** What the interpreter needs from its run: names, filters, tests, and how to load a template for include/import. */
export interface Environment {
  filter(name: string): FilterFn | undefined;
  test(name: string): TestFn | undefined;
  global(name: string, ctx: EvalContext): unknown;
  /** A template for `{% include %}`/`{% import %}`: its tree and its path (for nested relative includes). */
  loadTemplate(name: string, from: string | undefined): { tree: JNode; path: string };
}

/** Variables as the runner provides them: `undefined` means not defined. Values are already rendered. */
export interface VariableSource {
  lookup(name: string): unknown;
  /** Every name it holds, for the varnames lookup. */
  names?(): string[];
}

/** One evaluation: its variables and whether it touched unsafe data. */
export class EvalContext {
  unsafe = false;
  constructor(
    readonly env: Environment,
    readonly vars: VariableSource,
    /** The template file being rendered, for relative includes and error messages. */
    readonly file?: string,
  ) {}

  /** Note a value read from data: taint this evaluation if it is (or holds) unsafe data. */
  seen(v: unknown): unknown {
    if (v instanceof UnsafeText) {
      this.unsafe = true;
      return v.text;
    }
    if (!this.unsafe && v !== null && typeof v === 'object' && containsUnsafe(v)) this.unsafe = true;
    return v;
  }
}

const MACRO_OUTPUT = Symbol('macro');

class Frame {
  readonly vars = new Map<string, unknown>();
  constructor(readonly parent?: Frame) {}
  lookup(name: string): unknown {
    if (this.vars.has(name)) return this.vars.get(name);
    return this.parent ? this.parent.lookup(name) : MISSING;
  }
}

const MISSING = Symbol('missing');

const CONSTANTS: Record<string, unknown> = { True: true, False: false, None: null, true: true, false: false, none: null };

// Filters and tests that receive an undefined value instead of failing on it.
const UNDEFINED_FILTERS = new Set(['default', 'd', 'mandatory']);
// Filters that receive undefined arguments and pass them on (`'k' | extract(missing) | default('a')`).
const UNDEFINED_ARGS = new Set(['default', 'd', 'mandatory', 'extract']);

function stripCollection(name: string): string {
  return name.replace(/^(ansible\.(builtin|utils|netcommon)|community\.general)\./, '');
}

/** Evaluate an expression node. */
export function evalExpr(node: JNode, ctx: EvalContext, frame: Frame = new Frame()): unknown {
  return new Interpreter(ctx).expr(node, frame);
}

/** Render a template tree to its output chunks (the caller joins them or keeps one value natively). */
export function renderNodes(tree: JNode, ctx: EvalContext): unknown[] {
  const out: unknown[] = [];
  new Interpreter(ctx).block(tree, new Frame(), out);
  return out;
}

/** Ansible's finalize: None prints as an empty string. */
export function outputText(v: unknown): string {
  if (v instanceof Undefined) {
    if (v.lenient) return '';
    failUndefined(v);
  }
  if (v === null || v === undefined) return '';
  return pyStr(v);
}

class Interpreter {
  constructor(readonly ctx: EvalContext) {}

  // ----- statements -----

  block(node: JNode | null, frame: Frame, out: unknown[]): void {
    if (!node) return;
    switch (node.typename) {
      case 'Root':
      case 'NodeList':
        for (const child of node.children) this.block(child, frame, out);
        return;
      case 'Output':
        for (const child of node.children) {
          if (child.typename === 'TemplateData') {
            if (child.value !== '') out.push(String(child.value));
          } else {
            const v = this.placed(child, () => this.expr(child, frame));
            if (v instanceof Undefined && !v.lenient) this.placed(child, () => failUndefined(v));
            out.push(v);
          }
        }
        return;
      case 'If':
        if (truthy(this.placed(node.cond, () => this.expr(node.cond, frame)))) this.block(node.body, frame, out);
        else this.block(node.else_, frame, out);
        return;
      case 'For':
        this.forLoop(node, frame, out);
        return;
      case 'Set':
        this.set(node, frame);
        return;
      case 'Macro':
        frame.vars.set(String(node.name.value), this.macro(node, frame));
        return;
      case 'Include':
        this.include(node, frame, out);
        return;
      case 'Import':
        frame.vars.set(String(node.target.value), this.importTemplate(node.template, frame, node.withContext === true));
        return;
      case 'FromImport':
        this.fromImport(node, frame);
        return;
      case 'Block':
        this.block(node.body, frame, out);
        return;
      case 'Extends':
      case 'Super':
        throw this.error(node, '{% extends %} and {% block %} inheritance is not supported in kplay templates');
      default:
        out.push(this.expr(node, frame));
    }
  }

  private forLoop(node: JNode, frame: Frame, out: unknown[]): void {
    // `{% for x in xs if cond %}`: nunjucks reads `xs if cond` as an inline if without else.
    let arr = node.arr;
    let filter: JNode | undefined;
    if (arr.typename === 'InlineIf' && !arr.else_) {
      filter = arr.cond;
      arr = arr.body;
    }
    const source = this.expr(arr, frame);
    if (source instanceof Undefined) failUndefined(source);
    const items = isPlainObject(source) ? Object.keys(source) : pyIter(source);
    const names = node.name.typename === 'Array' ? node.name.children.map((c) => String(c.value)) : [String(node.name.value)];
    // loop.depth counts recursive loops only (kplay has none): nested loops are each at depth 1, as in Jinja.
    const depth = 1;
    const bind = (inner: Frame, raw: unknown): void => {
      const item = this.ctx.seen(raw);
      if (names.length === 1) inner.vars.set(names[0], item);
      else {
        const parts = pyIter(item);
        if (parts.length !== names.length) {
          throw this.error(node, `too many values to unpack (expected ${names.length}, got ${parts.length})`);
        }
        names.forEach((n, k) => inner.vars.set(n, parts[k]));
      }
    };
    const kept = filter ? items.filter((raw) => {
      const probe = new Frame(frame);
      bind(probe, raw);
      return truthy(this.expr(filter, probe));
    }) : items;
    if (kept.length === 0) {
      this.block(node.else_, frame, out);
      return;
    }
    kept.forEach((raw, i) => {
      const inner = new Frame(frame);
      bind(inner, raw);
      inner.vars.set('loop', new LoopInfo(kept, i, depth));
      this.block(node.body, inner, out);
    });
  }

  private set(node: JNode, frame: Frame): void {
    let value: unknown;
    if (node.value === null || node.value === undefined) {
      const chunks: unknown[] = [];
      this.block(node.body, new Frame(frame), chunks);
      value = chunks.map(outputText).join('');
    } else {
      value = this.expr(node.value as unknown as JNode, frame);
    }
    const targets = node.targets;
    const assign = (target: JNode, v: unknown): void => {
      if (target.typename === 'Symbol') frame.vars.set(String(target.value), v);
      else if (target.typename === 'LookupVal') {
        const ns = this.expr(target.target, frame);
        if (!(ns instanceof Namespace)) throw this.error(target, 'can only assign attributes of a namespace()');
        ns.attrs[String(target.val.value)] = v;
      } else throw this.error(target, 'cannot assign to this expression');
    };
    if (targets.length === 1) assign(targets[0], value);
    else {
      const parts = pyIter(value);
      if (parts.length !== targets.length) throw this.error(node, `cannot unpack ${parts.length} values into ${targets.length} names`);
      targets.forEach((t, i) => assign(t, parts[i]));
    }
  }

  private macro(node: JNode, frame: Frame): Callable {
    const name = node.name ? String(node.name.value) : 'caller';
    const params: { name: string; default?: JNode }[] = [];
    for (const a of node.args.children) {
      if (a.typename === 'KeywordArgs') {
        for (const pair of a.children) params.push({ name: String(pair.key.value), default: pair.value as unknown as JNode });
      } else params.push({ name: String(a.value) });
    }
    const defining = frame;
    const fn = new Callable(name, (args, kwargs) => {
      const inner = new Frame(defining);
      const rest = { ...kwargs };
      const caller = rest.caller;
      delete rest.caller;
      params.forEach((p, i) => {
        if (i < args.length) inner.vars.set(p.name, args[i]);
        else if (p.name in rest) {
          inner.vars.set(p.name, rest[p.name]);
          delete rest[p.name];
        } else if (p.default) inner.vars.set(p.name, this.expr(p.default, inner));
        else inner.vars.set(p.name, new Undefined(`'${p.name}' is undefined`));
      });
      inner.vars.set('varargs', args.slice(params.length));
      inner.vars.set('kwargs', rest);
      if (caller !== undefined) inner.vars.set('caller', caller);
      const out: unknown[] = [];
      this.block(node.body, inner, out);
      return out.map(outputText).join('');
    });
    (fn as unknown as Record<symbol, boolean>)[MACRO_OUTPUT] = true;
    return fn;
  }

  private templateName(node: JNode, frame: Frame): string {
    const name = this.expr(node, frame);
    if (!isString(name)) throw this.error(node, `a template name must be a string, not ${pyTypeName(name)}`);
    return str(name);
  }

  private include(node: JNode, frame: Frame, out: unknown[]): void {
    const name = this.templateName(node.template, frame);
    let loaded: { tree: JNode; path: string };
    try {
      loaded = this.ctx.env.loadTemplate(name, this.ctx.file);
    } catch (error) {
      if (node.ignoreMissing) return;
      throw error;
    }
    const sub = new Interpreter(new EvalContextFor(this.ctx, loaded.path));
    sub.block(loaded.tree, new Frame(frame), out);
    if (sub.ctx.unsafe) this.ctx.unsafe = true;
  }

  private importTemplate(template: JNode, frame: Frame, withContext: boolean): Namespace {
    const name = this.templateName(template, frame);
    const loaded = this.ctx.env.loadTemplate(name, this.ctx.file);
    const sub = new Interpreter(new EvalContextFor(this.ctx, loaded.path));
    const moduleFrame = new Frame(withContext ? frame : undefined);
    sub.block(loaded.tree, moduleFrame, []);
    const attrs: Record<string, unknown> = {};
    for (const [k, v] of moduleFrame.vars) if (!k.startsWith('_')) attrs[k] = v;
    return new Namespace(attrs);
  }

  private fromImport(node: JNode, frame: Frame): void {
    const ns = this.importTemplate(node.template, frame, node.withContext === true);
    for (const n of node.names.children) {
      const [name, alias] = n.typename === 'Pair' ? [String(n.key.value), String(n.value && (n.value as unknown as JNode).value)] : [String(n.value), String(n.value)];
      if (!(name in ns.attrs)) throw this.error(n, `the template does not export '${name}'`);
      frame.vars.set(alias, ns.attrs[name]);
    }
  }

  // ----- expressions -----

  expr(node: JNode, frame: Frame): unknown {
    switch (node.typename) {
      case 'Literal':
        return (node as JNode & { float?: boolean }).float ? makeFloat(Number(node.value)) : node.value;
      case 'Symbol':
        return this.symbol(String(node.value), frame);
      case 'Group':
        if (node.children.length === 1 && !(node as JNode & { tuple?: boolean }).tuple) return this.expr(node.children[0], frame);
        return tuple(node.children.map((c) => this.expr(c, frame)));
      case 'Array':
        return node.children.map((c) => this.expr(c, frame));
      case 'Dict': {
        const out: Record<string, unknown> = {};
        for (const pair of node.children) {
          const k = this.expr(pair.key, frame);
          out[isString(k) ? str(k) : pyStr(k)] = this.expr(pair.value as unknown as JNode, frame);
        }
        return out;
      }
      case 'LookupVal':
        return this.lookupVal(node, frame);
      case 'InlineIf':
        if (truthy(this.expr(node.cond, frame))) return this.expr(node.body, frame);
        return node.else_ ? this.expr(node.else_, frame) : new Undefined('the inline if-expression evaluated to false and no else section was defined.', true);
      case 'Or': {
        const l = this.expr(node.left, frame);
        return truthy(l) ? l : this.expr(node.right, frame);
      }
      case 'And': {
        const l = this.expr(node.left, frame);
        return truthy(l) ? this.expr(node.right, frame) : l;
      }
      case 'Not':
        return !truthy(this.expr(node.target, frame));
      case 'In':
        return pyContains(this.defined(this.expr(node.right, frame)), this.defined(this.expr(node.left, frame)));
      case 'Is':
        return this.test(node, frame);
      case 'Compare':
        return this.compare(node, frame);
      case 'Concat':
        return outputTextStrict(this.expr(node.left, frame)) + outputTextStrict(this.expr(node.right, frame));
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
      case 'FloorDiv':
      case 'Mod':
      case 'Pow':
        return this.arith(node.typename, this.defined(this.expr(node.left, frame)), this.defined(this.expr(node.right, frame)));
      case 'Neg': {
        const v = this.defined(this.expr(node.target, frame));
        return isFloat(v) ? makeFloat(-num(v)) : -num(v);
      }
      case 'Pos':
        return this.defined(this.expr(node.target, frame));
      case 'Filter':
        return this.filter(node, frame);
      case 'FunCall':
        return this.call(node, frame);
      case 'Capture': {
        const chunks: unknown[] = [];
        this.block(node.body, new Frame(frame), chunks);
        return chunks.map(outputText).join('');
      }
      case 'TemplateData':
        return String(node.value);
      case 'Caller':
        return this.macro(node, frame);
      default:
        throw this.error(node, `unsupported Jinja syntax (${node.typename})`);
    }
  }

  private defined(v: unknown): unknown {
    if (v instanceof Undefined) failUndefined(v);
    return v;
  }

  private symbol(name: string, frame: Frame): unknown {
    const local = frame.lookup(name);
    if (local !== MISSING) return local;
    if (name in CONSTANTS) return CONSTANTS[name];
    const v = this.ctx.vars.lookup(name);
    if (v !== undefined) return this.ctx.seen(v);
    const g = this.ctx.env.global(name, this.ctx);
    if (g !== undefined) return g;
    return new Undefined(`'${name}' is undefined`);
  }

  private lookupVal(node: JNode, frame: Frame): unknown {
    const target = this.expr(node.target, frame);
    // Ansible's undefined keeps its first failure through attribute chains: `x.y.z` names x.
    if (target instanceof Undefined) return target;
    if (node.val.typename === 'Slice') return this.slice(target, node.val, frame);
    const key = this.expr(node.val, frame);
    const dotted = (node as JNode & { bracket?: boolean }).bracket !== true;
    return this.ctx.seen(getItem(target, key, dotted));
  }

  private slice(target: unknown, s: JNode, frame: Frame): unknown {
    const start = this.expr(s.start, frame);
    const stop = this.expr(s.stop, frame);
    const step = this.expr(s.step, frame);
    const seq = isString(target) ? Array.from(str(target)) : Array.isArray(target) ? target : undefined;
    if (!seq) throw new JinjaRuntimeError(`'${pyTypeName(target)}' object is not subscriptable`);
    const out = pySlice(seq, start === null ? undefined : num(start), stop === null ? undefined : num(stop), step === null ? 1 : num(step));
    return isString(target) ? out.join('') : isTuple(target) ? tuple(out) : out;
  }

  private compare(node: JNode, frame: Frame): boolean {
    let left = this.defined(this.expr(node.expr, frame));
    for (const op of node.ops) {
      const right = this.defined(this.expr(op.expr, frame));
      let ok: boolean;
      switch (op.type) {
        case '==':
          ok = pyEq(left, right);
          break;
        case '!=':
          ok = !pyEq(left, right);
          break;
        case '<':
          ok = pyCompare(left, right) < 0;
          break;
        case '<=':
          ok = pyCompare(left, right) <= 0;
          break;
        case '>':
          ok = pyCompare(left, right) > 0;
          break;
        case '>=':
          ok = pyCompare(left, right) >= 0;
          break;
        default:
          throw this.error(op, `'${op.type}' is not a Jinja operator`);
      }
      if (!ok) return false;
      left = right;
    }
    return true;
  }

  arith(op: string, a: unknown, b: unknown): unknown {
    if (a instanceof PyDateTime || a instanceof PyTimeDelta || b instanceof PyDateTime || b instanceof PyTimeDelta) return dateArith(op, a, b);
    if (op === 'Add') {
      if (isString(a) && isString(b)) return str(a) + str(b);
      if (Array.isArray(a) && Array.isArray(b)) return isTuple(a) ? tuple([...a, ...b]) : [...a, ...b];
    }
    if (op === 'Mul') {
      if (isString(a) && typeof b === 'number') return str(a).repeat(Math.max(0, b));
      if (Array.isArray(a) && typeof b === 'number') return Array.from({ length: Math.max(0, b) }, () => a).flat();
    }
    if (op === 'Mod' && isString(a)) return pyPercentFormat(str(a), isTuple(b) ? b : [b]);
    const numeric = (v: unknown): boolean => typeof v === 'number' || v instanceof PyFloat || typeof v === 'boolean';
    if (!numeric(a) || !numeric(b)) {
      const sym = { Add: '+', Sub: '-', Mul: '*', Div: '/', FloorDiv: '//', Mod: '%', Pow: '**' }[op];
      throw new JinjaRuntimeError(`unsupported operand type(s) for ${sym}: '${pyTypeName(a)}' and '${pyTypeName(b)}'`);
    }
    const x = num(a);
    const y = num(b);
    const float = isFloat(a) || isFloat(b);
    const result = (v: number): unknown => (float ? makeFloat(v) : v);
    switch (op) {
      case 'Add':
        return result(x + y);
      case 'Sub':
        return result(x - y);
      case 'Mul':
        return result(x * y);
      case 'Div':
        if (y === 0) throw new JinjaRuntimeError('division by zero');
        return makeFloat(x / y);
      case 'FloorDiv':
        if (y === 0) throw new JinjaRuntimeError('integer division or modulo by zero');
        return result(Math.floor(x / y));
      case 'Mod': {
        if (y === 0) throw new JinjaRuntimeError('integer division or modulo by zero');
        return result(((x % y) + y) % y);
      }
      default: {
        if (!float && y < 0) return makeFloat(x ** y);
        return result(x ** y);
      }
    }
  }

  private args(list: JNode[], frame: Frame): { args: unknown[]; kwargs: Record<string, unknown> } {
    const args: unknown[] = [];
    const kwargs: Record<string, unknown> = {};
    for (const a of list) {
      if (a.typename === 'KeywordArgs') {
        for (const pair of a.children) kwargs[String(pair.key.value)] = this.expr(pair.value as unknown as JNode, frame);
      } else args.push(this.expr(a, frame));
    }
    return { args, kwargs };
  }

  private filter(node: JNode, frame: Frame): unknown {
    const name = stripCollection(String(node.name.value));
    const fn = this.ctx.env.filter(name);
    if (!fn) throw this.error(node, `no filter named '${name}'`);
    const [input, ...rest] = node.args.children;
    const value = this.expr(input, frame);
    const { args, kwargs } = this.args(rest, frame);
    if (!UNDEFINED_FILTERS.has(name)) {
      if (value instanceof Undefined) failUndefined(value);
    }
    if (!UNDEFINED_ARGS.has(name)) {
      for (const a of args) if (a instanceof Undefined) failUndefined(a);
      for (const a of Object.values(kwargs)) if (a instanceof Undefined) failUndefined(a);
    }
    return fn(this.ctx, value, args, kwargs);
  }

  private test(node: JNode, frame: Frame): boolean {
    const value = this.expr(node.left, frame);
    let testNode = node.right;
    let args: unknown[] = [];
    let kwargs: Record<string, unknown> = {};
    if (testNode.typename === 'FunCall') {
      ({ args, kwargs } = this.args(testNode.args.children, frame));
      testNode = testNode.name;
    }
    let name: string;
    if (testNode.typename === 'Symbol') name = String(testNode.value);
    else if (testNode.typename === 'Literal' && (testNode.value === null || typeof testNode.value === 'boolean')) {
      name = testNode.value === null ? 'none' : String(testNode.value);
    } else if (testNode.typename === 'LookupVal') name = lookupName(testNode);
    else throw this.error(node, 'expected a test name after "is"');
    name = stripCollection(name);
    const fn = this.ctx.env.test(name);
    if (!fn) throw this.error(node, `no test named '${name}'`);
    for (const a of args) if (a instanceof Undefined) failUndefined(a);
    return fn(this.ctx, value, args, kwargs);
  }

  private call(node: JNode, frame: Frame): unknown {
    const callee = this.expr(node.name, frame);
    const { args, kwargs } = this.args(node.args.children, frame);
    if (callee instanceof Undefined) {
      throw new JinjaRuntimeError(callee.message.replace(/ has no attribute /, ' has no attribute ').replace(/$/, ''));
    }
    if (callee instanceof Callable) return callee.fn(args, kwargs);
    throw this.error(node, `'${pyTypeName(callee)}' object is not callable`);
  }

  /** Run `fn`; a runtime error without a position gets `node`'s (a template's undefined variable at its line:col). */
  placed<T>(node: JNode, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      const e = error as JinjaRuntimeError & { line?: number; col?: number };
      if (error instanceof JinjaRuntimeError && e.line === undefined) {
        e.line = node.lineno + 1;
        e.col = node.colno + 1;
      }
      throw error;
    }
  }

  error(node: JNode, message: string): JinjaRuntimeError {
    const e = new JinjaRuntimeError(message);
    (e as JinjaRuntimeError & { line?: number; col?: number }).line = node.lineno + 1;
    (e as JinjaRuntimeError & { line?: number; col?: number }).col = node.colno + 1;
    return e;
  }
}

/** An include/import renders with the same variables, its own file for relative paths, and shared taint. */
class EvalContextFor extends EvalContext {
  constructor(parent: EvalContext, file: string) {
    super(parent.env, parent.vars, file);
  }
}

function lookupName(node: JNode): string {
  if (node.typename === 'Symbol') return String(node.value);
  return `${lookupName(node.target)}.${String(node.val.value)}`;
}

function outputTextStrict(v: unknown): string {
  if (v instanceof Undefined) failUndefined(v);
  return outputText(v) === '' && v === null ? 'None' : outputText(v);
}

/** `loop.*` inside a for loop. */
export class LoopInfo {
  constructor(
    readonly items: unknown[],
    readonly i: number,
    readonly depth: number,
  ) {}
  get(name: string): unknown {
    const n = this.items.length;
    switch (name) {
      case 'index':
        return this.i + 1;
      case 'index0':
        return this.i;
      case 'revindex':
        return n - this.i;
      case 'revindex0':
        return n - this.i - 1;
      case 'first':
        return this.i === 0;
      case 'last':
        return this.i === n - 1;
      case 'length':
        return n;
      case 'depth':
        return this.depth;
      case 'depth0':
        return this.depth - 1;
      case 'previtem':
        return this.i > 0 ? this.items[this.i - 1] : new Undefined("there is no previous item");
      case 'nextitem':
        return this.i < n - 1 ? this.items[this.i + 1] : new Undefined('there is no next item');
      case 'cycle':
        return new Callable('cycle', (args) => args[this.i % args.length]);
      case 'changed':
        return new Callable('changed', () => true);
      default:
        return new Undefined(`'LoopContext' object has no attribute '${name}'`);
    }
  }
}

export function pySlice<T>(seq: T[], start: number | undefined, stop: number | undefined, step: number): T[] {
  if (step === 0) throw new JinjaRuntimeError('slice step cannot be zero');
  const n = seq.length;
  const norm = (v: number | undefined, dflt: number, lo: number, hi: number): number => {
    if (v === undefined) return dflt;
    if (v < 0) v += n;
    return Math.min(Math.max(v, lo), hi);
  };
  const out: T[] = [];
  if (step > 0) {
    const a = norm(start, 0, 0, n);
    const b = norm(stop, n, 0, n);
    for (let i = a; i < b; i += step) out.push(seq[i]);
  } else {
    const a = norm(start, n - 1, -1, n - 1);
    const b = norm(stop, -1, -1, n - 1);
    for (let i = a; i > b; i += step) out.push(seq[i]);
  }
  return out;
}

/** Jinja's getattr/getitem: `obj.name` prefers attributes (methods), `obj[key]` prefers items. */
export function getItem(target: unknown, key: unknown, dotted: boolean): unknown {
  if (target instanceof Undefined) return target;
  if (target instanceof UnsafeText) target = target.text;
  if (target instanceof Namespace) {
    return isString(key) && str(key) in target.attrs ? target.attrs[str(key)] : new Undefined(`'Namespace' object has no attribute '${pyStr(key)}'`);
  }
  if (target instanceof LoopInfo) return target.get(str(key));
  if ((target instanceof PyDateTime || target instanceof PyTimeDelta) && isString(key)) {
    const v = dateAttribute(target, str(key));
    return v === undefined ? new Undefined(`'${pyTypeName(target)} object' has no attribute '${str(key)}'`) : v;
  }
  if (target instanceof LazyMap) {
    // As Jinja's getattr on a Mapping: `.keys` is the method; `['keys']` is the item.
    const m = dotted && isString(key) ? pyMethod(target, str(key)) : undefined;
    if (m) return m;
    const v = isString(key) ? target.get(str(key)) : undefined;
    return v === undefined ? new Undefined(`'${target.name}' object has no attribute '${pyStr(key)}'`) : v;
  }
  if (dotted && isString(key)) {
    const m = pyMethod(target, str(key));
    if (m) return m;
  }
  if (Array.isArray(target) || isString(target)) {
    if (typeof key === 'number' || (typeof key === 'string' && /^-?\d+$/.test(key) && dotted)) {
      const seq = isString(target) ? Array.from(str(target)) : (target as unknown[]);
      let i = Number(key);
      if (i < 0) i += seq.length;
      if (i >= 0 && i < seq.length) return seq[i];
      return new Undefined(`${pyTypeName(target)} object has no element ${String(key)}`);
    }
  } else if (isPlainObject(target)) {
    const k = isString(key) ? str(key) : typeof key === 'number' || typeof key === 'boolean' || key === null ? pyStr(key) : undefined;
    if (k !== undefined && Object.prototype.hasOwnProperty.call(target, k) && (k as unknown) !== UNSAFE) return target[k];
  }
  if (!dotted && isString(key)) {
    const m = pyMethod(target, str(key));
    if (m) return m;
  }
  const what = pyTypeName(target) === 'str' ? 'str object' : `${pyTypeName(target)} object`;
  if (target === null) return new Undefined(`'None' has no attribute '${pyStr(key)}'`);
  if (isString(key)) {
    const hint = str(key) === 'length' ? " (Jinja: use the filter '| length')" : '';
    return new Undefined(`'${what}' has no attribute '${str(key)}'${hint}`);
  }
  return new Undefined(`'${what}' has no element ${pyRepr(key)}`);
}
