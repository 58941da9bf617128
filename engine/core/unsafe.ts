// Unsafe text: a string that is data, never evaluated as a template (host data, and YAML's `!unsafe` tag). It lives
// in core because the YAML reader makes it as well as the Jinja layer.

/** A string that is data. Its text is printed as it is and never evaluated. */
export class UnsafeText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

/** Enumerable symbol on a list or map of unsafe data: spread and Object.assign copy it, JSON output never shows it. */
export const UNSAFE: unique symbol = Symbol('kplay.unsafe');

const isMap = (v: object): v is Record<string, unknown> => {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * Mark a value as unsafe data: a string becomes UnsafeText; every list and map inside gets the UNSAFE mark (the
 * strings in them stay strings: reading from a marked list or map taints what is read). Other objects stay as they are.
 */
export function markUnsafeTree(value: unknown, seen = new Set<object>()): unknown {
  if (typeof value === 'string') return new UnsafeText(value);
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  if (!Array.isArray(value) && !isMap(value)) return value;
  seen.add(value);
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (v !== null && typeof v === 'object') markUnsafeTree(v, seen);
  Object.defineProperty(value, UNSAFE, { value: true, enumerable: true, configurable: true, writable: true });
  return value;
}

/** Is this value unsafe data itself (unsafe text, or a list or map marked unsafe)? */
export function isUnsafe(value: unknown): boolean {
  return value instanceof UnsafeText || (value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[UNSAFE] === true);
}
