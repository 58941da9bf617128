// `{{ expr }}` in YAML strings and bare `when:` expressions: JavaScript over a host's variables.
//
// A name that is not a variable is an error naming it, never a silent empty string. A string that is exactly one
// `{{ expr }}` keeps the value's type (a list stays a list).

import { basename, dirname } from 'node:path';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import { stringify as toYamlText, parse as fromYamlText } from 'yaml';
import { shellQuote } from '../core/shell.ts';

export class UndefinedVariableError extends Error {
  constructor(readonly variable: string) {
    super(`undefined variable "${variable}"`);
    this.name = 'UndefinedVariableError';
  }
}

export class ExpressionError extends Error {
  constructor(
    readonly expression: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

// Names that resolve to JavaScript's own globals rather than to variables.
const GLOBALS = new Set([
  'undefined', 'NaN', 'Infinity', 'Math', 'JSON', 'String', 'Number', 'Boolean', 'Array', 'Object', 'Date',
  'RegExp', 'parseInt', 'parseFloat', 'isNaN', 'encodeURIComponent', 'decodeURIComponent', 'Set', 'Map',
]);

/** Small helpers available in every expression, for what Ansible users reach for with Jinja filters. */
export const HELPERS: Record<string, unknown> = {
  b64encode: (s: string) => Buffer.from(String(s)).toString('base64'),
  b64decode: (s: string) => Buffer.from(String(s), 'base64').toString(),
  toJson: (v: unknown) => JSON.stringify(v),
  fromJson: (s: string) => JSON.parse(s) as unknown,
  toYaml: (v: unknown) => toYamlText(v),
  fromYaml: (s: string) => fromYamlText(s) as unknown,
  basename: (p: string) => basename(p),
  dirname: (p: string) => dirname(p),
  quote: (s: string) => shellQuote(String(s)),
  sha256: (s: string) => createHash('sha256').update(String(s)).digest('hex'),
  lookup: (kind: string, arg: string): string => {
    if (kind === 'env') return process.env[arg] ?? '';
    if (kind === 'file') return readFileSync(arg, 'utf8').replace(/\n$/, '');
    throw new Error(`lookup: unknown kind "${kind}" (env, file)`);
  },
};

const JINJA_FILTER = /(?<!\|)\|(?!\|)\s*(default|d|int|string|bool|join|length|lower|upper|to_json|to_yaml|to_nice_json|to_nice_yaml|b64encode|b64decode|basename|dirname|trim|replace|regex_replace|first|last|list|unique|map|select|selectattr|ipaddr|quote|mandatory)\b/;

const compiled = new Map<string, (scope: object) => unknown>();

function compile(expr: string): (scope: object) => unknown {
  let fn = compiled.get(expr);
  if (fn) return fn;
  const filter = JINJA_FILTER.exec(expr);
  if (filter) {
    throw new ExpressionError(
      expr,
      `"| ${filter[1]}" is a Jinja filter; kplay expressions are JavaScript (e.g. \`vars.x ?? 'default'\`, \`list.join(',')\`, \`x.length\`)`,
    );
  }
  try {
    // Sloppy-mode function so that `with` can resolve names through the scope proxy.
    fn = new Function('__scope', `with (__scope) { return (${expr}\n); }`) as (scope: object) => unknown;
  } catch (error) {
    // Report the parser's complaint about the user's text alone, not about the wrapper around it.
    let reason = (error as Error).message;
    try {
      new Script(expr); // parse the text alone: "Unexpected end of input", not a complaint about the wrapper's ')'
    } catch (plain) {
      reason = (plain as Error).message;
    }
    throw new ExpressionError(expr, `invalid expression "${expr}": ${reason}`);
  }
  compiled.set(expr, fn);
  return fn;
}

/**
 * A view of variables for expressions: reading an unknown name throws UndefinedVariableError; string values that hold
 * `{{ }}` are rendered when read (Ansible's lazy templating), with a guard against a variable that refers to itself.
 */
export function scopeProxy(vars: Record<string, unknown>): Record<string, unknown> {
  return createScope(vars).strict;
}

/**
 * Two views of one set of variables: `strict` for expressions (unknown names throw) and `view`, an ordinary-looking
 * object for EJS templates and modules (unknown names are simply absent). Both render `{{ }}` values when read.
 */
export function createScope(vars: Record<string, unknown>): { strict: Record<string, unknown>; view: Record<string, unknown> } {
  const rendering = new Set<string>();
  const lenient = new Proxy(vars, {
    get: (target, key) => (typeof key === 'string' && key in target ? read(key) : undefined),
    getOwnPropertyDescriptor: (target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(target, key);
      return d && typeof key === 'string' ? { ...d, value: read(key) } : d;
    },
  });
  const read = (key: string): unknown => {
    const value = vars[key];
    if (!isTemplatedValue(value)) return value;
    if (rendering.has(key)) throw new ExpressionError(key, `variable "${key}" refers to itself`);
    rendering.add(key);
    try {
      return renderValue(value, proxy);
    } finally {
      rendering.delete(key);
    }
  };
  const proxy: Record<string, unknown> = new Proxy(vars, {
    has: (_target, key) => typeof key === 'string' && !GLOBALS.has(key),
    get: (target, key) => {
      if (typeof key !== 'string') return undefined;
      if (key in target) return read(key);
      if (key === 'vars') return lenient;
      if (key in HELPERS) return HELPERS[key];
      if (key === 'defined') return (name: string) => name in target && target[name] !== undefined;
      throw new UndefinedVariableError(key);
    },
  });
  return { strict: proxy, view: lenient };
}

function isTemplatedValue(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{');
  if (Array.isArray(value)) return value.some(isTemplatedValue);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).some(isTemplatedValue);
  }
  return false;
}

/** Evaluate one expression (a `when:` condition, an `assert` line) over a scope made by `scopeProxy`. */
export function evaluate(expr: string, scope: Record<string, unknown>): unknown {
  const fn = compile(expr);
  try {
    return fn(scope);
  } catch (error) {
    if (error instanceof UndefinedVariableError || error instanceof ExpressionError) throw error;
    throw new ExpressionError(expr, `expression "${expr}" failed: ${(error as Error).message}`);
  }
}

const WHOLE = /^\s*\{\{([\s\S]*?)\}\}\s*$/;
const PART = /\{\{([\s\S]*?)\}\}/g;

function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Render `{{ }}` in a string, or deeply in lists and maps. */
export function renderValue(value: unknown, scope: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return value;
    if (value.includes('{%')) {
      throw new ExpressionError(value, `"{% %}" is Jinja; use a JavaScript expression in {{ }} or a template (.ejs)`);
    }
    const whole = WHOLE.exec(value);
    if (whole && !whole[1].includes('}}')) return evaluate(whole[1].trim(), scope);
    return value.replace(PART, (_m, expr: string) => toText(evaluate(expr.trim(), scope)));
  }
  if (Array.isArray(value)) return value.map((v) => renderValue(v, scope));
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderValue(v, scope);
    return out;
  }
  return value;
}

/** Evaluate a list of conditions (all must hold), as `when:` does. Bare booleans and strings are allowed. */
export function conditionsHold(conditions: readonly string[], scope: Record<string, unknown>): boolean {
  return conditions.every((c) => Boolean(evaluate(c.replace(/^\s*\{\{([\s\S]*)\}\}\s*$/, '$1'), scope)));
}

/** Check an expression compiles, for load-time errors. */
export function checkExpression(expr: string): void {
  compile(expr);
}
