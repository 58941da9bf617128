// The value model of kplay's Jinja: JavaScript values with the few Python distinctions Ansible's output shows
// (an integral float prints `2.0`, a tuple prints `(1, 2)`, `True`/`None`), the undefined value, and unsafe marks.
//
// Plain JS values are used everywhere (strings, numbers, booleans, null, arrays, plain objects) so filters and the
// runner need no conversion; only an integral float is boxed (`PyFloat`), because `4 / 2` must print `2.0`.

/** An integral float (`2.0`): JavaScript cannot tell it from `2`, Python prints it differently. */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
  toString(): string {
    return pyRepr(this);
  }
}

/** A callable value: a macro, a global function, a Python method. Arguments as Python passes them. */
export class Callable {
  constructor(
    readonly name: string,
    readonly fn: (args: unknown[], kwargs: Record<string, unknown>) => unknown,
  ) {}
}

/** Jinja's `namespace()`: the one mutable object `{% set ns.x = ... %}` may write to. */
export class Namespace {
  constructor(readonly attrs: Record<string, unknown>) {}
}

/** Python's naive datetime (from `to_datetime`), kept as UTC milliseconds plus microseconds. */
export class PyDateTime {
  constructor(readonly ms: number) {}
  toString(): string {
    const d = new Date(this.ms);
    const p = (n: number, w = 2): string => String(n).padStart(w, '0');
    const micro = Math.round((this.ms % 1000) * 1000);
    const base = `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
    return micro ? `${base}.${p(micro, 6)}` : base;
  }
}

/** Python's timedelta: the difference of two datetimes. */
export class PyTimeDelta {
  constructor(readonly seconds: number) {}
  toString(): string {
    const days = Math.floor(this.seconds / 86400);
    let rest = this.seconds - days * 86400;
    const h = Math.floor(rest / 3600);
    rest -= h * 3600;
    const m = Math.floor(rest / 60);
    const s = rest - m * 60;
    const secs = Number.isInteger(s) ? String(s).padStart(2, '0') : s.toFixed(6).padStart(9, '0');
    const clock = `${h}:${String(m).padStart(2, '0')}:${secs}`;
    return days ? `${days} day${Math.abs(days) === 1 ? '' : 's'}, ${clock}` : clock;
  }
}

/** Arrays that Python would hold as tuples (`d.items()`, `(1, 2)`): printed with parentheses. */
const TUPLES = new WeakSet<object>();
export function tuple<T>(items: T[]): T[] {
  TUPLES.add(items);
  return items;
}
export const isTuple = (v: unknown): boolean => Array.isArray(v) && TUPLES.has(v);

/**
 * Ansible's undefined value: any use other than `is defined`, `default`, `mandatory` fails with its message.
 * `message` is Ansible's wording: "'x' is undefined" or "'dict object' has no attribute 'y'".
 */
export class Undefined {
  constructor(
    readonly message: string,
    /** Jinja's plain Undefined (an inline if without else): prints as '' instead of failing. */
    readonly lenient = false,
  ) {}
}

/**
 * A map whose entries are computed when read (`vars`, `hostvars[host]`): lookups and `in` work, iterating does not.
 */
export class LazyMap {
  constructor(
    readonly name: string,
    readonly get: (key: string) => unknown,
    readonly keys: () => string[],
  ) {}
}

export class JinjaRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JinjaRuntimeError';
  }
}

export function failUndefined(u: Undefined): never {
  throw new JinjaRuntimeError(u.message);
}

// ----- unsafe data: host data that is never compiled as a template -----

// The unsafe mark itself lives in core: the YAML reader makes it too (`!unsafe`).
export { UnsafeText, UNSAFE } from '../core/unsafe.ts';
import { UnsafeText, UNSAFE, markUnsafeTree } from '../core/unsafe.ts';

/**
 * Mark a value from a host (registered result, fact, command output, slurped file) as unsafe: never evaluated as a
 * template at any depth, and anything computed from it is unsafe too. Every list and map inside is marked.
 */
export function markUnsafe<T>(value: T): T {
  noteUnsafeMutation();
  return markUnsafeTree(value) as T;
}

// Lists and maps found free of unsafe data, with the generation they were checked in: a variable read many times
// (facts, a big list) is walked once. Anything that may put unsafe data into an existing object starts a new
// generation, which invalidates every entry.
let generation = 0;
const safeChecked = new WeakMap<object, number>();

/** Unsafe data was (or may have been) put into an existing list or map: forget what was found safe. */
export function noteUnsafeMutation(): void {
  generation++;
}

/** Is this value (or anything inside it) unsafe? */
export function containsUnsafe(value: unknown, depth = 0): boolean {
  if (value instanceof UnsafeText) return true;
  if (value === null || typeof value !== 'object' || depth > 200) return false;
  if ((value as Record<symbol, unknown>)[UNSAFE] === true) return true;
  if (safeChecked.get(value) === generation) return false;
  let found = false;
  if (Array.isArray(value)) found = value.some((v) => containsUnsafe(v, depth + 1));
  else if (isPlainObject(value)) found = Object.values(value).some((v) => containsUnsafe(v, depth + 1));
  if (!found) safeChecked.set(value, generation);
  return found;
}

/** The plain JavaScript value for a module or for output: unsafe strings unwrapped, integral floats as numbers. */
export function toPlain(value: unknown): unknown {
  if (value instanceof UnsafeText) return value.text;
  if (value instanceof PyFloat) return value.value;
  if (value instanceof Undefined) failUndefined(value);
  if (Array.isArray(value)) return value.map(toPlain);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
    return out;
  }
  return value;
}

// ----- Python semantics -----

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export const isString = (v: unknown): v is string | UnsafeText => typeof v === 'string' || v instanceof UnsafeText;
export const isNumber = (v: unknown): v is number | PyFloat =>
  (typeof v === 'number' || v instanceof PyFloat) && typeof v !== 'boolean';
export const isFloat = (v: unknown): boolean => v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
export const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v);

/** A number as JavaScript: unboxes PyFloat. */
export function num(v: unknown): number {
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new JinjaRuntimeError(`unsupported operand type: expected a number, got ${pyTypeName(v)}`);
}

/** A float result: boxed when integral so it prints `2.0`. */
export function makeFloat(v: number): number | PyFloat {
  return Number.isInteger(v) ? new PyFloat(v) : v;
}

export function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof UnsafeText) return v.text;
  return pyStr(v);
}

export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (v instanceof Undefined) return 'AnsibleUndefined';
  if (v instanceof LazyMap) return v.name;
  if (v instanceof PyDateTime) return 'datetime';
  if (v instanceof PyTimeDelta) return 'timedelta';
  if (typeof v === 'boolean') return 'bool';
  if (isFloat(v)) return 'float';
  if (typeof v === 'number') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof UnsafeText) return 'AnsibleUnsafeText';
  if (isTuple(v)) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'function') return 'function';
  if (isPlainObject(v)) return 'dict';
  return 'object';
}

/** Python's truth value. */
export function truthy(v: unknown): boolean {
  if (v instanceof Undefined) failUndefined(v);
  if (v === null || v === undefined || v === false) return false;
  if (v === true) return true;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof PyFloat) return v.value !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof UnsafeText) return v.text.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`;
  let s = String(n);
  // Python writes exponents with at least two digits and a sign: 1e-07, 1e+16.
  s = s.replace(/e([+-])(\d)$/, 'e$10$2');
  return s;
}

function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch < ' ' || ch === '\x7f') out += '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

/** Python's repr(): how a value prints inside a list or dict. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatRepr(v);
  if (typeof v === 'string') return strRepr(v);
  if (v instanceof UnsafeText) return strRepr(v.text);
  if (v instanceof Undefined) failUndefined(v);
  if (Array.isArray(v)) {
    const inner = v.map(pyRepr).join(', ');
    if (isTuple(v)) return v.length === 1 ? `(${inner},)` : `(${inner})`;
    return `[${inner}]`;
  }
  if (isPlainObject(v)) {
    return `{${Object.entries(v).map(([k, x]) => `${strRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  }
  if (typeof v === 'function') return `<function ${v.name || 'anonymous'}>`;
  if (v instanceof PyDateTime) {
    const d = new Date(v.ms);
    const parts = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
    while (parts.length > 5 && parts[parts.length - 1] === 0) parts.pop();
    return `datetime.datetime(${parts.join(', ')})`;
  }
  if (v instanceof PyTimeDelta) {
    const days = Math.floor(v.seconds / 86400);
    const secs = Math.floor(v.seconds - days * 86400);
    const args = [days ? `days=${days}` : '', secs ? `seconds=${secs}` : ''].filter(Boolean);
    return `datetime.timedelta(${args.join(', ')})`;
  }
  return String(v);
}

/** Python's str(): how a value prints in template output. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof PyDateTime || v instanceof PyTimeDelta) return v.toString();
  if (v instanceof UnsafeText) return v.text;
  return pyRepr(v);
}

/** Python's ==. */
export function pyEq(a: unknown, b: unknown): boolean {
  if (a instanceof Undefined || b instanceof Undefined) return a === b;
  if (a instanceof UnsafeText) a = a.text;
  if (b instanceof UnsafeText) b = b.text;
  const an = typeof a === 'number' || a instanceof PyFloat || typeof a === 'boolean';
  const bn = typeof b === 'number' || b instanceof PyFloat || typeof b === 'boolean';
  if (an && bn) return num(a) === num(b);
  if (an || bn) return false;
  if (a === null || a === undefined) return b === null || b === undefined;
  if (a instanceof PyDateTime && b instanceof PyDateTime) return a.ms === b.ms;
  if (a instanceof PyTimeDelta && b instanceof PyTimeDelta) return a.seconds === b.seconds;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (isTuple(a) !== isTuple(b)) return false;
    return a.length === b.length && a.every((x, i) => pyEq(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && pyEq(a[k], b[k]));
  }
  return a === b;
}

/** Python's ordering (<): numbers with numbers, strings with strings, lists element-wise. */
export function pyCompare(a: unknown, b: unknown): number {
  if (a instanceof Undefined) failUndefined(a);
  if (b instanceof Undefined) failUndefined(b);
  if (a instanceof UnsafeText) a = a.text;
  if (b instanceof UnsafeText) b = b.text;
  const an = typeof a === 'number' || a instanceof PyFloat || typeof a === 'boolean';
  const bn = typeof b === 'number' || b instanceof PyFloat || typeof b === 'boolean';
  if (an && bn) return num(a) - num(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof PyDateTime && b instanceof PyDateTime) return a.ms - b.ms;
  if (a instanceof PyTimeDelta && b instanceof PyTimeDelta) return a.seconds - b.seconds;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = pyCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  throw new JinjaRuntimeError(
    `'<' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`,
  );
}

/** Python's `in`. */
export function pyContains(container: unknown, item: unknown): boolean {
  if (container instanceof Undefined) failUndefined(container);
  if (item instanceof Undefined) failUndefined(item);
  if (isString(container)) {
    if (!isString(item)) throw new JinjaRuntimeError(`'in <string>' requires string as left operand, not ${pyTypeName(item)}`);
    return str(container).includes(str(item));
  }
  if (Array.isArray(container)) return container.some((x) => pyEq(x, item));
  if (isPlainObject(container)) return isString(item) && Object.prototype.hasOwnProperty.call(container, str(item));
  if (container instanceof LazyMap) return isString(item) && container.get(str(item)) !== undefined;
  throw new JinjaRuntimeError(`argument of type '${pyTypeName(container)}' is not iterable`);
}

/** Iterate as Python would: a string by characters, a dict by keys. */
export function pyIter(v: unknown): unknown[] {
  if (v instanceof Undefined) failUndefined(v);
  if (Array.isArray(v)) return v;
  if (isString(v)) return Array.from(str(v));
  if (isPlainObject(v)) return Object.keys(v);
  if (v instanceof LazyMap) return v.keys();
  throw new JinjaRuntimeError(`'${pyTypeName(v)}' object is not iterable`);
}
