// One run's Jinja: the filters, tests and lookups it knows (built-in and users' plugins), the parsed-text caches,
// and the three ways Ansible evaluates text: a YAML value that may hold `{{ }}` (ansible-core 2.14's non-native
// rules), a bare conditional, and a template file.

import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, basename } from 'node:path';
import { userInfo, hostname } from 'node:os';
import { formatPos, InputError } from '../core/source.ts';
import { BUILTIN_FILTERS } from './filters.ts';
import { BUILTIN_TESTS } from './tests.ts';
import { BUILTIN_LOOKUPS, LookupError, type LookupFn, type LookupHost } from './lookups.ts';
import {
  EvalContext,
  evalExpr,
  outputText,
  renderNodes,
  type Environment,
  type FilterFn,
  type TestFn,
  type VariableSource,
} from './interpret.ts';
import { JinjaSyntaxError, inputErrorAt, parseExpression, parseTemplate, type JNode, type TextAt } from './parse.ts';
import {
  Callable,
  JinjaRuntimeError,
  LazyMap,
  Namespace,
  isTuple,
  PyFloat,
  Undefined,
  UnsafeText,
  UNSAFE,
  failUndefined,
  isPlainObject,
  isString,
  makeFloat,
  markUnsafe,
  num,
  pyStr,
  str,
  truthy,
} from './values.ts';
import type { Plugins } from './plugins.ts';

/** Ansible's placeholder for `omit`: a module argument equal to it is dropped. */
export const OMIT = '__omit_place_holder__kplay';

/** Filters whose string result is never turned back into a list or dict (Ansible's STRING_TYPE_FILTERS). */
const STRING_TYPE_FILTERS = new Set(['string', 'to_json', 'to_nice_json', 'to_yaml', 'to_nice_yaml', 'ppretty', 'json']);

export interface ScopeOptions {
  /** Folders to find controller files in, by kind (role files/ or templates/, then the playbook's folder). */
  searchPath?: (kind: 'files' | 'templates' | 'vars') => string[];
  /** The playbook's folder: relative paths of files lookups write (password). */
  basedir?: string;
}

/** An error while evaluating (undefined variable, bad operand, failed lookup): the runner adds task and file:line. */
export class TemplateError extends Error {
  constructor(
    readonly detail: string,
    readonly text: string,
  ) {
    super(detail);
    this.name = 'TemplateError';
  }
}

export interface TemplateFileInfo {
  /** The template's path on the controller. */
  path: string;
  /** The host it is rendered for (template_host is the controller's name in Ansible). */
  managed?: string;
}

/** Ansible's SINGLE_VAR: a text that is only `{{ name }}`. */
const SINGLE_VAR = /^\{\{\s*(\w*)\s*\}\}$/;

function hasTemplate(s: string): boolean {
  return s.includes('{{') || s.includes('{%') || s.includes('{#');
}

/** Variables of one host and task, read lazily: a value holding `{{ }}` is rendered when read, once. */
export class Scope implements VariableSource {
  private readonly cache = new Map<string, unknown>();
  private readonly rendering = new Set<string>();
  constructor(
    readonly jinja: Jinja,
    readonly vars: Record<string, unknown> | VariableSource,
    readonly options: ScopeOptions = {},
  ) {}

  lookup(name: string): unknown {
    if (this.cache.has(name)) return this.cache.get(name);
    let raw: unknown;
    if (isVariableSource(this.vars)) raw = this.vars.lookup(name);
    else raw = Object.prototype.hasOwnProperty.call(this.vars, name) ? this.vars[name] : undefined;
    if (raw === undefined) {
      if (name === 'vars') return this.varsView(false);
      if (name === 'omit') return OMIT;
      return undefined;
    }
    if (!needsRender(raw)) return raw;
    if (this.rendering.has(name)) {
      throw new TemplateError(`recursive loop detected in template string: variable '${name}' refers to itself`, name);
    }
    this.rendering.add(name);
    try {
      const value = this.jinja.renderValue(raw, this);
      this.cache.set(name, value);
      return value;
    } finally {
      this.rendering.delete(name);
    }
  }

  /** A variable as written, not rendered (undefined when there is none). */
  raw(name: string): unknown {
    if (isVariableSource(this.vars)) return this.vars.lookup(name);
    return Object.prototype.hasOwnProperty.call(this.vars, name) ? this.vars[name] : undefined;
  }

  /** Every variable name of this scope (a VariableSource may list its own). */
  names(): string[] {
    if (!isVariableSource(this.vars)) return Object.keys(this.vars);
    return this.vars.names?.() ?? [];
  }

  /**
   * A host's variables by name, rendered when read: what the runner puts in `hostvars[host]`. (`vars` itself gives
   * values unrendered, as ansible-core 2.14 does.)
   */
  varsView(rendered = true): LazyMap {
    const keys = (): string[] => this.names();
    const raw = (k: string): unknown =>
      isVariableSource(this.vars) ? this.vars.lookup(k) : Object.prototype.hasOwnProperty.call(this.vars, k) ? this.vars[k] : undefined;
    return new LazyMap(rendered ? 'HostVarsVars' : 'dict', (k) => (rendered ? this.lookup(k) : raw(k)), keys);
  }
}

function isVariableSource(v: unknown): v is VariableSource {
  return typeof (v as VariableSource).lookup === 'function';
}

/** Does this value hold template text that is not unsafe? */
function needsRender(v: unknown): boolean {
  if (typeof v === 'string') return hasTemplate(v);
  if (v === null || typeof v !== 'object' || v instanceof UnsafeText) return false;
  if ((v as Record<symbol, unknown>)[UNSAFE] === true) return false;
  if (Array.isArray(v)) return v.some(needsRender);
  if (isPlainObject(v)) return Object.values(v).some(needsRender);
  return false;
}

export type { UserFilter, UserTest } from './plugins.ts';

export interface JinjaOptions {
  /** For template_run_date and now(): fixed in tests. */
  now?: () => Date;
  /** Warnings (a `{{ }}` in a conditional, a lookup error with errors='warn'). */
  warn?: (message: string) => void;
}

/** One run's Jinja. Create one per playbook run; it caches every parsed text. */
export class Jinja {
  private readonly filters = new Map<string, FilterFn>(Object.entries(BUILTIN_FILTERS));
  private readonly tests = new Map<string, TestFn>(Object.entries(BUILTIN_TESTS));
  private readonly lookups = new Map<string, LookupFn>(Object.entries(BUILTIN_LOOKUPS));
  private readonly templateTexts = new Map<string, string>();
  /** Plugin files that did not load: a name no filter or test has may be in one, so its error is the one to show. */
  private readonly brokenPlugins: InputError[] = [];
  private readonly templateOwners = new Map<string, string>();

  constructor(readonly options: JinjaOptions = {}) {}

  // ----- registry -----

  /** Add users' filters and tests (filter_plugins/, test_plugins/): names resolve from then on, also at load time. */
  addPlugins(plugins: Plugins): void {
    this.brokenPlugins.push(...(plugins.broken ?? []));
    for (const [name, fn] of Object.entries(plugins.filters)) {
      this.filters.set(name, (ctx, value, args, kwargs) => unwrapResult(fn(value, ...args, ...(Object.keys(kwargs).length ? [kwargs] : []))));
    }
    for (const [name, fn] of Object.entries(plugins.tests)) {
      this.tests.set(name, (ctx, value, args, kwargs) => truthy(fn(value, ...args, ...(Object.keys(kwargs).length ? [kwargs] : []))));
    }
  }

  hasFilter(name: string): boolean {
    return this.filters.has(name);
  }
  hasTest(name: string): boolean {
    return this.tests.has(name);
  }
  hasLookup(name: string): boolean {
    return this.lookups.has(name);
  }
  lookupNames(): string[] {
    return [...this.lookups.keys()];
  }

  /**
   * A `with_<name>:` loop's items: the lookup run over terms already rendered, as a list (Ansible's wantlist=True).
   * Ansible marks these items unsafe (wrap_var): a string item is data, never rendered again.
   */
  runLookup(name: string, terms: unknown[], scope: Scope): unknown[] {
    const ctx = this.context(scope);
    try {
      return markUnsafe(this.lookup(ctx, scope, true, [name, ...terms], {}) as unknown[]);
    } catch (error) {
      throw this.runtimeError(error, `with_${name}`);
    }
  }

  createScope(vars: Record<string, unknown> | VariableSource, options: ScopeOptions = {}): Scope {
    return new Scope(this, vars, options);
  }

  // ----- evaluation -----

  /**
   * A YAML value: strings with `{{ }}` are rendered (deeply in lists and maps). A string that is only one `{{ }}`
   * keeps its value's type only as ansible-core 2.14 does: the text of the result becomes a list, dict or bool when
   * it reads as one, and stays a string otherwise (`"{{ 5 }}"` is the string "5").
   */
  renderValue(value: unknown, scope: Scope): unknown {
    if (typeof value === 'string') return hasTemplate(value) ? this.renderString(value, scope) : value;
    if (value === null || typeof value !== 'object' || value instanceof UnsafeText || value instanceof PyFloat) return value;
    if ((value as Record<symbol, unknown>)[UNSAFE] === true) return value;
    if (Array.isArray(value)) return value.map((v) => this.renderValue(v, scope));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[hasTemplate(k) ? pyStr(this.renderString(k, scope)) : k] = this.renderValue(v, scope);
      return out;
    }
    return value;
  }

  private renderString(text: string, scope: Scope): unknown {
    // Templar's single-variable shortcut: `{{ name }}` whose variable is a number, bool or None as written (not
    // itself a template) is that value, not its text.
    const only = SINGLE_VAR.exec(text);
    if (only) {
      const raw = scope.raw(only[1]);
      if (raw === null || typeof raw === 'number' || typeof raw === 'boolean' || raw instanceof PyFloat) return raw;
    }
    const tree = this.parse(text);
    const ctx = this.context(scope);
    let result: unknown;
    try {
      const chunks = renderNodes(tree, ctx);
      result = this.concat(tree, chunks);
    } catch (error) {
      throw this.runtimeError(error, text);
    }
    return ctx.unsafe ? markUnsafe(result) : result;
  }

  /** Ansible 2.14's ansible_eval_concat. */
  private concat(tree: JNode, chunks: unknown[]): unknown {
    let out: string;
    if (chunks.length === 0) return '';
    const single = tree.children.length === 1 && tree.children[0].typename === 'Output' && tree.children[0].children.length === 1;
    if (chunks.length === 1 && single) {
      const node = tree.children[0].children[0];
      if (node.typename === 'Filter' && STRING_TYPE_FILTERS.has(String(node.name.value).replace(/^ansible\.builtin\./, ''))) {
        return outputText(chunks[0]);
      }
      const v = chunks[0];
      if (isTuple(v)) return outputText(v);
      // The value's own text would read back as itself: keep the value (what literal_eval of its repr gives).
      if (v === true || v === false) return v;
      if (Array.isArray(v) || isPlainObject(v)) return literalRoundTrip(v) ? v : outputText(v);
      out = outputText(v);
    } else {
      out = chunks.map(outputText).join('');
    }
    if (out.startsWith('{') || out.startsWith('[') || out === 'True' || out === 'False') {
      const parsed = literalEval(out);
      if (parsed !== NOT_LITERAL) return parsed;
    }
    return out;
  }

  /** Evaluate a bare expression to its value (a `debug: var:`, a `loop:` expression). */
  evaluate(expr: string, scope: Scope, kind: 'condition' | 'value' = 'value'): unknown {
    let node: JNode;
    try {
      node = parseExpression(expr, kind);
    } catch (error) {
      throw new TemplateError((error as Error).message, expr);
    }
    const ctx = this.context(scope);
    let v: unknown;
    try {
      v = evalExpr(node, ctx);
    } catch (error) {
      throw this.runtimeError(error, expr);
    }
    return ctx.unsafe ? markUnsafe(v) : v;
  }

  /**
   * One conditional (`when`, `changed_when`, `failed_when`, `until`, `assert.that`) as ansible-core 2.14's
   * _check_conditional: a bool is itself; text with `{{ }}` is rendered first (with a warning), and a text result is
   * then evaluated as an expression; an unsafe result is refused. `x is defined` on an undefined `x` holds.
   */
  condition(conditional: unknown, scope: Scope): boolean {
    if (typeof conditional === 'boolean') return conditional;
    if (conditional === null || conditional === undefined) return false;
    if (typeof conditional === 'number') return conditional !== 0;
    let text: unknown = conditional instanceof UnsafeText ? conditional : String(conditional);
    if (typeof text === 'string' && hasTemplate(text)) {
      this.options.warn?.(`conditional statements should not include jinja2 templating delimiters such as {{ }} or {% %}. Found: ${text}`);
      text = this.renderValue(text, scope);
      if (typeof text !== 'string' && !(text instanceof UnsafeText)) return truthy(text);
    }
    if (text instanceof UnsafeText) throw new TemplateError('Conditional is marked as unsafe, and cannot be evaluated.', text.text);
    const expr = String(text);
    if (expr === '') return false;
    return truthy(this.evaluate(expr, scope, 'condition'));
  }

  /** A list of conditionals: all must hold (Ansible's `when:` list). */
  conditionsHold(conditionals: readonly unknown[], scope: Scope): boolean {
    return conditionals.every((c) => this.condition(c, scope));
  }

  /**
   * Render a template file's text with Ansible's template module settings and variables (`extra`: what the module
   * knows, e.g. `template_destpath`).
   */
  renderTemplate(text: string, file: string, scope: Scope, extra: Record<string, unknown> = {}): string {
    const tree = this.parseTemplateFile(text, file);
    const sourceNewlines = trailingNewlines(text);
    const vars = { ...templateVars(file, this.options.now?.() ?? new Date(), this.templateOwners), ...extra };
    const inner = new Scope(this, { lookup: (n: string) => (n in vars ? vars[n] : scope.lookup(n)), names: () => [...Object.keys(vars), ...scope.names()] }, scope.options);
    const ctx = new EvalContext(this.environment(inner), inner, file);
    try {
      const res = renderNodes(tree, ctx).map(outputText).join('');
      return res + '\n'.repeat(Math.max(0, sourceNewlines - trailingNewlines(res)));
    } catch (error) {
      throw this.runtimeError(error, text, file);
    }
  }

  // ----- load-time checks -----

  /** Parse an expression (a `when:` line) and check its filters, tests and lookups exist; InputError at its place. */
  checkExpression(expr: string, at?: TextAt): void {
    let node: JNode;
    try {
      node = parseExpression(expr);
    } catch (error) {
      if (error instanceof JinjaSyntaxError) {
        // The expression is parsed inside `{{ }}`: running into those braces means it ended too soon.
        const e = error.detail.endsWith('unexpected token: }}') ? new JinjaSyntaxError('Jinja syntax error: unexpected end of expression', error.line, error.col) : error;
        throw inputErrorAt(e, at, `expression "${expr}"`);
      }
      throw error;
    }
    this.checkNames(node, (n, msg) => inputErrorAt(new JinjaSyntaxError(msg, n.lineno + 1, n.lineno === 0 ? n.colno - 2 : n.colno + 1), at, `expression "${expr}"`));
  }

  /** Check a YAML string value that may hold `{{ }}` (and any string in a list or map). */
  checkValue(value: unknown, at?: TextAt): void {
    if (typeof value === 'string') {
      if (!hasTemplate(value)) return;
      let tree: JNode;
      try {
        tree = parseTemplate(value);
      } catch (error) {
        if (error instanceof JinjaSyntaxError) throw inputErrorAt(error, at, `"${value}"`);
        throw error;
      }
      this.checkNames(tree, (n, msg) => inputErrorAt(new JinjaSyntaxError(msg, n.lineno + 1, n.colno + 1), at, `"${value}"`));
    } else if (Array.isArray(value)) value.forEach((v) => this.checkValue(v, undefined));
    else if (isPlainObject(value)) Object.values(value).forEach((v) => this.checkValue(v, undefined));
  }

  /** Parse a template file and check names; errors at the template's own line and column. */
  checkTemplate(text: string, file: string): void {
    const tree = this.parseTemplateFile(text, file);
    this.checkNames(tree, (n, msg) => new InputError({ file, line: n.lineno + 1, col: n.colno + 1 }, msg));
  }

  /** A template file as Jinja's loader reads it: without its one trailing newline (keep_trailing_newline=False). */
  private parseTemplateFile(text: string, file: string): JNode {
    try {
      return parseTemplate(text.replace(/\r?\n$/, ''), 'file');
    } catch (error) {
      if (error instanceof JinjaSyntaxError) throw new InputError({ file, line: error.line, col: error.col }, error.detail);
      throw error;
    }
  }

  /** An unknown filter or test while a plugin file is broken: that file's error, at its own line, naming the use. */
  private unknownName(error: InputError, what: string): InputError {
    const broken = this.brokenPlugins[0];
    if (!broken) return error;
    return new InputError(broken.pos, `${broken.detail} (the ${what} used at ${error.pos ? formatPos(error.pos) : 'an expression'} may be defined there)`);
  }

  private checkNames(root: JNode, err: (n: JNode, message: string) => InputError): void {
    const walk = (n: unknown): void => {
      if (!n || typeof n !== 'object') return;
      const node = n as JNode;
      if (node.typename === 'Filter') {
        const name = stripCollection(String(node.name.value));
        if (!this.filters.has(name)) throw this.unknownName(err(node.name, `no filter named '${name}'`), `filter '${name}'`);
      } else if (node.typename === 'Is') {
        const t = node.right.typename === 'FunCall' ? node.right.name : node.right;
        const name = t.typename === 'Symbol' ? String(t.value) : t.typename === 'Literal' ? (t.value === null ? 'none' : String(t.value)) : '';
        if (name && !this.tests.has(stripCollection(name))) throw this.unknownName(err(t, `no test named '${stripCollection(name)}'`), `test '${stripCollection(name)}'`);
      } else if (node.typename === 'FunCall' && node.name.typename === 'Symbol' && ['lookup', 'query', 'q'].includes(String(node.name.value))) {
        const first = node.args.children[0];
        if (first && first.typename === 'Literal' && typeof first.value === 'string' && !this.lookups.has(stripCollection(first.value))) {
          throw err(first, `no lookup named '${first.value}'`);
        }
      }
      for (const [k, v] of Object.entries(node)) {
        if (k === 'parent') continue;
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') walk(v);
      }
    };
    walk(root);
  }

  // ----- internals -----

  private parse(text: string): JNode {
    try {
      return parseTemplate(text);
    } catch (error) {
      throw new TemplateError((error as Error).message, text);
    }
  }

  private readonly environments = new WeakMap<Scope, Environment>();

  private context(scope: Scope): EvalContext {
    let env = this.environments.get(scope);
    if (!env) {
      env = this.environment(scope);
      this.environments.set(scope, env);
    }
    return new EvalContext(env, scope);
  }

  private runtimeError(error: unknown, text: string, file?: string): Error {
    if (error instanceof TemplateError || error instanceof InputError) return error;
    if (error instanceof JinjaRuntimeError) {
      const e = error as JinjaRuntimeError & { line?: number; col?: number };
      const where = file && e.line ? `${file}:${e.line}:${e.col}: ` : '';
      return new TemplateError(`${where}${error.message}`, text);
    }
    if (error instanceof JinjaSyntaxError) return new TemplateError(error.detail, text);
    return new TemplateError(`error while templating "${text}": ${(error as Error).message}`, text);
  }

  private environment(scope: Scope): Environment {
    return {
      filter: (name) => this.filters.get(name),
      test: (name) => this.tests.get(name),
      global: (name, ctx) => this.global(name, ctx, scope),
      loadTemplate: (name, from) => {
        const dirs = [...(from ? [dirname(from)] : []), ...(scope.options.searchPath?.('templates') ?? [])];
        const path = isAbsolute(name) ? name : dirs.map((d) => join(d, name)).find((p) => this.readable(p));
        if (!path || !this.readable(path)) throw new JinjaRuntimeError(`template not found: ${name}`);
        const text = this.templateTexts.get(path) ?? readFileSync(path, 'utf8');
        this.templateTexts.set(path, text);
        return { tree: this.parseTemplateFile(text, path), path };
      },
    };
  }

  private readable(path: string): boolean {
    if (this.templateTexts.has(path)) return true;
    try {
      this.templateTexts.set(path, readFileSync(path, 'utf8'));
      return true;
    } catch {
      return false;
    }
  }

  private global(name: string, ctx: EvalContext, scope: Scope): unknown {
    switch (name) {
      case 'range':
        return new Callable('range', (a) => {
          const [start, stop, step] = a.length === 1 ? [0, num(a[0]), 1] : [num(a[0]), num(a[1]), a.length > 2 ? num(a[2]) : 1];
          if (step === 0) throw new JinjaRuntimeError('range() arg 3 must not be zero');
          const out: number[] = [];
          if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
          else for (let i = start; i > stop; i += step) out.push(i);
          if (out.length > 100000) throw new JinjaRuntimeError('Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).');
          return out;
        });
      case 'dict':
        return new Callable('dict', (a, k) => {
          const out: Record<string, unknown> = {};
          if (isPlainObject(a[0])) Object.assign(out, a[0]);
          else if (Array.isArray(a[0])) for (const pair of a[0]) out[pyStr((pair as unknown[])[0])] = (pair as unknown[])[1];
          return Object.assign(out, k);
        });
      case 'namespace':
        return new Callable('namespace', (a, k) => new Namespace({ ...(isPlainObject(a[0]) ? a[0] : {}), ...k }));
      case 'lookup':
      case 'query':
      case 'q':
        return new Callable(name, (a, k) => this.lookup(ctx, scope, name === 'lookup' ? k.wantlist === true : true, a, k));
      case 'now':
        return new Callable('now', (a, k) => {
          const d = this.options.now?.() ?? new Date();
          const fmt = a[1] ?? k.fmt;
          if (fmt !== undefined && fmt !== null) return BUILTIN_FILTERS.strftime(ctx, fmt, [d.getTime() / 1000, truthy(a[0] ?? k.utc ?? false)], {});
          return d.toISOString();
        });
      case 'undef':
        return new Callable('undef', (a, k) => new Undefined(String(a[0] ?? k.hint ?? 'undefined via undef()')));
      case 'lipsum':
        return new Callable('lipsum', () => 'Lorem ipsum dolor sit amet.');
      case 'zip':
        return new Callable('zip', (a) => BUILTIN_FILTERS.zip(ctx, a[0], a.slice(1), {}));
      default:
        return undefined;
    }
  }

  private lookup(ctx: EvalContext, scope: Scope, wantlist: boolean, args: unknown[], kw: Record<string, unknown>): unknown {
    const [rawName, ...terms] = args;
    const name = stripCollection(str(rawName));
    const fn = this.lookups.get(name);
    if (!fn) throw new JinjaRuntimeError(`lookup plugin (${name}) not found`);
    const options = { ...kw };
    const errors = String(options.errors ?? 'strict');
    delete options.wantlist;
    delete options.errors;
    delete options.allow_unsafe;
    const allowUnsafe = kw.allow_unsafe === true;
    const host: LookupHost = {
      searchPath: (kind) => scope.options.searchPath?.(kind) ?? [process.cwd()],
      basedir: () => scope.options.basedir ?? process.cwd(),
      variable: (n) => scope.lookup(n),
      variableNames: () => scope.names(),
      renderTemplateFile: (path, extra) => {
        const text = readFileSync(path, 'utf8');
        const inner = new Scope(this, { lookup: (n: string) => (n in extra ? extra[n] : scope.lookup(n)), names: () => [...Object.keys(extra), ...scope.names()] }, scope.options);
        return this.renderTemplate(text, path, inner);
      },
    };
    let ran: unknown[];
    try {
      ran = fn(host, terms.map((t) => (t instanceof Undefined ? failUndefined(t) : t)), options);
    } catch (error) {
      if (error instanceof LookupError || !(error instanceof JinjaRuntimeError)) {
        const msg = error instanceof LookupError ? error.message : `An unhandled exception occurred while running the lookup plugin '${name}'. Error was a ${(error as Error).name}, original message: ${(error as Error).message}`;
        if (errors === 'warn') this.options.warn?.(`Lookup failed but the error is being ignored: ${msg}`);
        if (errors === 'warn' || errors === 'ignore') return wantlist ? [] : null;
        throw new JinjaRuntimeError(msg);
      }
      throw error;
    }
    // Lookup results are unsafe in Ansible (file contents, command output) unless allow_unsafe=True.
    if (ran.length && !allowUnsafe) ctx.unsafe = true;
    if (wantlist) return ran;
    if (ran.length === 0) return null;
    // Ansible joins string results with ','; other results stay a list (or the one item).
    if (ran.every(isString)) return ran.map((x) => str(x)).join(',');
    if (ran.length === 1) return ran[0];
    return ran;
  }
}

function stripCollection(name: string): string {
  return name.replace(/^(ansible\.(builtin|utils|netcommon)|community\.general)\./, '');
}

/** A user's plugin returned a JS value: integral floats cannot be told apart; keep it as it is. */
function unwrapResult(v: unknown): unknown {
  return v;
}

function trailingNewlines(s: string): number {
  const m = /\n*$/.exec(s);
  return m ? m[0].length : 0;
}

/** The variables Ansible's template module adds. */
function templateVars(file: string, now: Date, owners: Map<string, string>): Record<string, unknown> {
  // Ansible's template_uid is the name of the template file's owner (looked up once per file and run).
  const user = owners.get(file) ?? (() => {
    try {
      const uid = statSync(file).uid;
      const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
      return line ? line.split(':')[0] : String(uid);
    } catch {
      return userInfo().username;
    }
  })();
  owners.set(file, user);
  const host = hostname();
  const pad = (n: number): string => String(n).padStart(2, '0');
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  return {
    ansible_managed: 'Ansible managed',
    template_path: file,
    template_fullpath: file,
    template_destpath: '',
    template_host: host,
    template_uid: user,
    template_run_date: date,
    template_basename: basename(file),
  };
}

// ----- Python literal_eval (with Json2Python's true/false/null) over nunjucks's parse of the text -----

const NOT_LITERAL = Symbol('not-literal');

function literalEval(text: string): unknown {
  let node: JNode;
  try {
    node = parseExpression(text);
  } catch {
    return NOT_LITERAL;
  }
  try {
    return literalNode(node);
  } catch {
    return NOT_LITERAL;
  }
}

function literalNode(n: JNode): unknown {
  switch (n.typename) {
    case 'Literal':
      if (typeof n.value === 'string' || typeof n.value === 'boolean' || n.value === null || typeof n.value === 'number') {
        return (n as JNode & { float?: boolean }).float ? makeFloat(Number(n.value)) : n.value;
      }
      throw new Error('not literal');
    case 'Symbol':
      if (n.value === 'True') return true;
      if (n.value === 'False') return false;
      if (n.value === 'None') return null;
      throw new Error('not literal');
    case 'Array':
      return n.children.map(literalNode);
    case 'Group':
      return n.children.length === 1 ? literalNode(n.children[0]) : n.children.map(literalNode);
    case 'Dict': {
      const out: Record<string, unknown> = {};
      for (const p of n.children) out[pyStr(literalNode(p.key))] = literalNode(p.value as unknown as JNode);
      return out;
    }
    case 'Neg': {
      const v = literalNode(n.target);
      if (typeof v === 'number') return -v;
      if (v instanceof PyFloat) return makeFloat(-v.value);
      throw new Error('not literal');
    }
    default:
      throw new Error('not literal');
  }
}

/** Would repr(v) read back by literal_eval give v? (Not when it holds functions, undefined values, namespaces.) */
function literalRoundTrip(v: unknown): boolean {
  // inf and nan print as names literal_eval does not read back.
  if (typeof v === 'number') return Number.isFinite(v);
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || v instanceof PyFloat || v instanceof UnsafeText) return true;
  if (Array.isArray(v)) return v.every(literalRoundTrip);
  if (isPlainObject(v)) return Object.values(v).every(literalRoundTrip);
  return false;
}


