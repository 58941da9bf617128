// Secrets never reach a terminal or a log: every reporter passes every event through here before printing it.

import type { RunEvent } from './events.ts';

export const MASK = '********';
export const KEY_REDACTED = '<private key redacted>';
export const CENSORED_MSG = 'the output has been hidden due to no_log: true';

// A PEM private key block of any kind (RSA, EC, ENCRYPTED, OPENSSH...); a block cut short runs to the end.
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|[\s\S]*$)/g;

export class Masker {
  #secrets = new Set<string>();
  /** Longest first, so a secret that contains another is masked whole. */
  #ordered: string[] = [];

  /** Registers a secret value: no_log values, noLog arguments, become passwords. */
  add(secret: string): void {
    for (const value of [secret, secret.trim()]) {
      if (value === '' || this.#secrets.has(value)) continue;
      this.#secrets.add(value);
      this.#ordered = [...this.#secrets].sort((a, b) => b.length - a.length);
    }
  }

  /** The text with every secret replaced by `********` and every private key block redacted. */
  text(text: string): string {
    let out = text.replace(PRIVATE_KEY, KEY_REDACTED);
    for (const secret of this.#ordered) out = out.replaceAll(secret, MASK);
    return out;
  }

  /** A deep copy of `value` with every string masked, in nested objects and lists alike. */
  mask<T>(value: T): T {
    return this.#copy(value, new WeakMap()) as T;
  }

  #copy(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value !== 'object' || value === null) return value;
    // Bytes may hold a key file or a password: shown as masked text, never as raw bytes.
    if (ArrayBuffer.isView(value)) return this.text(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
    if (value instanceof Date) return new Date(value.getTime());
    const known = seen.get(value);
    if (known !== undefined) return known;
    if (Array.isArray(value)) {
      const list: unknown[] = [];
      seen.set(value, list);
      for (const item of value) list.push(this.#copy(item, seen));
      return list;
    }
    const object: Record<string, unknown> = {};
    seen.set(value, object);
    if (value instanceof Error) object.message = this.text(value.message);
    for (const [key, item] of Object.entries(value)) object[this.text(key)] = this.#copy(item, seen);
    return object;
  }
}

/** The event as a reporter may show it: censored results keep only their status, host and task; all is masked. */
export function redactEvent(event: RunEvent, masker: Masker): RunEvent {
  if (event.type === 'result' && event.censored) {
    const { type, host, task, status, ignored, delegatedTo } = event;
    const kept: RunEvent = { type, host, task, status, censored: true, msg: CENSORED_MSG };
    if (ignored !== undefined) kept.ignored = ignored;
    if (delegatedTo !== undefined) kept.delegatedTo = delegatedTo;
    return masker.mask(kept);
  }
  return masker.mask(event);
}
