// Secrets never reach an output. One registry per run (`Masker`): a secret is registered where it enters the run (the
// become password from -K or a file, connection and become passwords from any variable, a module's noLog arguments,
// the arguments and output of no_log tasks), and every sink masks what it writes with it: the reporters (text at every
// -v, --diff, JSON) through redactEvent, input errors, warnings, the state files. Besides the registered values, what
// is secret by its form is masked wherever it shows: PEM private keys, anything base64 or hex that decodes to a key or
// a secret, the values of secret-named fields (`secret:`, `token:`, `client-key-data:`...). A file diff that holds a
// secret shows only that it changed, with a digest of each side.

import { createHash, createPrivateKey } from 'node:crypto';
import type { RunEvent } from './events.ts';
import type { FileDiff } from './effects.ts';

export const MASK = '********';
export const KEY_REDACTED = '<private key redacted>';
export const CENSORED_MSG = 'the output has been hidden due to no_log: true';

/** Variables that hold a password wherever they are set (inventory, vars, -e): their values are secrets. */
export const SECRET_VARS: readonly string[] = [
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_sudo_pass',
  'ansible_sudo_password',
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_ssh_password',
];

/** Keys of maps (results, variables) whose string values are shown masked, whatever they hold. */
const SECRET_KEY = new RegExp(
  `^(?:password|passwd|passphrase|secret|token|client[-_]key[-_]data|private[-_]key|url_password|ssh_key_passphrase|${SECRET_VARS.join('|')})$`,
  'i',
);

/** Keys of a result that hold what a command or module printed or read. */
const OUTPUT_KEYS = new Set(['stdout', 'stderr', 'stdout_lines', 'stderr_lines', 'content', 'msg', 'ansible_facts']);

/** A PEM private key block of any kind (RSA, EC, ENCRYPTED, OPENSSH...); a block cut short runs to the end. */
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|[\s\S]*$)/g;
const PRIVATE_KEY_HEAD = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const FIELD_NAMES = 'ansible_(?:become|sudo|ssh)_pass(?:word)?|ansible_password|url_password|client-key-data|client_key_data|secret|token|password|passwd';
/**
 * The value of a field named as secret: `secret: X` or `"token": "X"` where a key stands (a line's start, after `{`
 * or `,`: YAML and JSON, never prose such as "unexpected token: x"), `password=X` as an option or a k=v word.
 */
const SECRET_FIELD = new RegExp(
  `((?:(?:^|[{,])[ \\t]*(?:- )?["']?(?:${FIELD_NAMES})["']?[ \\t]*:|(?:^|[\\s-])(?:${FIELD_NAMES})=)[ \\t]*)(["']?)([^\\s"',}]{4,})`,
  'gim',
);
/** The fields of key-bearing formats (kubeconfig, encryption config): a file with one is shown as a digest. */
const KEY_FIELD = /(?:^|[{,])[ \t]*(?:- )?["']?(?:client-key-data|client_key_data|secret|token)["']?[ \t]*:[ \t]*["']?([^\s"',}]{4,})/im;
/** Base64 (plain or URL-safe), possibly wrapped over lines (real or JSON-escaped newlines). */
const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}(?:(?:\r?\n|\\n)[A-Za-z0-9+/_-]{4,}={0,2})*/g;
const HEX_RUN = /[0-9a-fA-F]{16,}/g;

/** Whether DER bytes are a private key (PKCS#8, PKCS#1 or SEC1), as a bare base64 or hex body would hold. */
function isDerKey(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes[0] !== 0x30) return false;
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      createPrivateKey({ key: bytes, format: 'der', type });
      return true;
    } catch {
      // not this form
    }
  }
  return false;
}

/** What a diff shows of secret content: that there is some, its size and a digest (so a change is still seen). */
export function hiddenContent(content: string | Buffer): string {
  if (content.length === 0) return '';
  const size = typeof content === 'string' ? Buffer.byteLength(content) : content.length;
  return `(secret content hidden: ${size} bytes, sha256:${createHash('sha256').update(content).digest('hex')})\n`;
}

export class Masker {
  #secrets = new Set<string>();
  /** Longest first, so a secret that contains another is masked whole. */
  #ordered: string[] = [];
  /** text() of strings already seen (task names, hosts and paths repeat in every event); emptied when a secret is added. */
  #memo = new Map<string, string>();

  /**
   * Registers a secret value (and the forms it takes when printed: JSON-escaped, URL-encoded, base64, hex). Values
   * under 3 characters cannot be masked without masking everything and are not registered.
   */
  add(secret: string): void {
    const plain = [secret, secret.trim()].filter((s) => s.length >= 3);
    let grew = false;
    for (const value of plain) {
      const bytes = Buffer.from(value);
      const forms = [
        value,
        JSON.stringify(value).slice(1, -1),
        encodeURIComponent(value),
        bytes.toString('base64'),
        bytes.toString('base64').replace(/=+$/, ''),
        bytes.toString('base64url'),
        bytes.toString('hex'),
        bytes.toString('hex').toUpperCase(),
      ];
      for (const form of forms) {
        if (this.#secrets.has(form)) continue;
        this.#secrets.add(form);
        grew = true;
      }
    }
    if (grew) {
      this.#ordered = [...this.#secrets].sort((a, b) => b.length - a.length);
      this.#memo.clear();
    }
  }

  /** Every string inside `value` (nested lists and maps too) registered as a secret. */
  addAll(value: unknown, minLength = 3, depth = 0): void {
    if (typeof value === 'string') {
      if (value.length >= minLength) this.add(value);
    } else if (Array.isArray(value) && depth < 20) {
      for (const item of value) this.addAll(item, minLength, depth + 1);
    } else if (typeof value === 'object' && value !== null && depth < 20) {
      for (const item of Object.values(value)) this.addAll(item, minLength, depth + 1);
    }
  }

  /** What a no_log task returned: its output and messages, and every value under a secret-named key. */
  addOutput(result: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(result)) {
      if (OUTPUT_KEYS.has(key) || SECRET_KEY.test(key)) this.addAll(value, 4);
      // The words of a command line (`mysql -pX`), not its short ones (`echo`), which are everywhere.
      else if (key === 'cmd') this.addAll(typeof value === 'string' ? value.split(/\s+/) : value, 6);
      else if (key === 'results' && Array.isArray(value)) for (const item of value) if (typeof item === 'object' && item !== null) this.addOutput(item as Record<string, unknown>);
    }
  }

  /** Whether a text holds a secret in any form this masker knows: a key, a registered value, an encoded one. */
  holdsSecret(text: string, depth = 0): boolean {
    if (this.#ordered.some((s) => text.includes(s))) return true;
    // exec in a loop, not matchAll (which copies the regular expression on every call: this runs for every string shown).
    SECRET_FIELD.lastIndex = 0;
    for (let m = SECRET_FIELD.exec(text); m !== null; m = SECRET_FIELD.exec(text)) {
      if (m[3] !== MASK) {
        SECRET_FIELD.lastIndex = 0;
        return true;
      }
    }
    return this.holdsKey(text, depth);
  }

  /** Whether a text holds key material: a private key in any encoding, or a key field of a kubeconfig or encryption config. */
  holdsKey(text: string, depth = 0): boolean {
    if (PRIVATE_KEY_HEAD.test(text)) return true;
    const field = KEY_FIELD.exec(text);
    if (field && field[1] !== MASK) return true;
    if (depth >= 2) return false;
    for (const run of text.match(BASE64_RUN) ?? []) if (this.#encodedSecret(run, 'base64', depth)) return true;
    for (const run of text.match(HEX_RUN) ?? []) if (this.#encodedSecret(run, 'hex', depth)) return true;
    return false;
  }

  /** Whether a base64 or hex run decodes (at any alignment) to a private key or to text that holds a secret. */
  #encodedSecret(run: string, encoding: 'base64' | 'hex', depth: number): boolean {
    const clean = run.replace(/\\n|\s/g, '');
    for (let offset = 0; offset < (encoding === 'base64' ? 4 : 2); offset++) {
      const bytes = Buffer.from(clean.slice(offset), encoding === 'base64' ? 'base64' : 'hex');
      if (bytes.length < 3) continue;
      if (offset === 0 && isDerKey(bytes)) return true;
      if (this.holdsSecret(bytes.toString('latin1'), depth + 1)) return true;
    }
    return false;
  }

  /** The text with every secret replaced by `********` and every private key block redacted. */
  text(text: string): string {
    const known = this.#memo.get(text);
    if (known !== undefined) return known;
    const out = this.#maskText(text);
    if (text.length <= 4096) {
      if (this.#memo.size >= 10_000) this.#memo.clear();
      this.#memo.set(text, out);
    }
    return out;
  }

  #maskText(text: string): string {
    let out = text.replace(PRIVATE_KEY, KEY_REDACTED);
    for (const secret of this.#ordered) out = out.replaceAll(secret, MASK);
    out = out.replace(SECRET_FIELD, (all, head: string, quote: string, value: string) => (value === MASK ? all : `${head}${quote}${MASK}`));
    out = out.replace(BASE64_RUN, (run) => (this.#encodedSecret(run, 'base64', 0) ? MASK : run));
    return out.replace(HEX_RUN, (run) => (this.#encodedSecret(run, 'hex', 0) ? MASK : run));
  }

  /** A deep copy of `value` with every string masked, in nested objects and lists alike. */
  mask<T>(value: T): T {
    return this.#copy(value, new WeakMap()) as T;
  }

  /**
   * A diff as it may be shown. A file that holds key material says only that it changed, with a digest of each side
   * (masked in place, its lines would all read alike); so does one whose change is all in masked values. Otherwise
   * its secrets are masked in place, as everywhere.
   */
  diff(change: FileDiff): FileDiff {
    if (change.prepared !== undefined) return change;
    const digests = { path: change.path, before: hiddenContent(change.before), after: hiddenContent(change.after) };
    if (this.holdsKey(change.before) || this.holdsKey(change.after)) return digests;
    const [before, after] = [this.text(change.before), this.text(change.after)];
    return before === after && change.before !== change.after ? digests : { ...change, before, after };
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
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const item = (value as Record<string, unknown>)[key];
      object[this.text(key)] = typeof item === 'string' && item !== '' && SECRET_KEY.test(key) ? MASK : this.#copy(item, seen);
    }
    return object;
  }
}

/**
 * The event as a reporter may show it: censored results keep only their status, host and task; diffs that hold a
 * secret become digests; all is masked.
 */
export function redactEvent(event: RunEvent, masker: Masker): RunEvent {
  if (event.type === 'result' && event.censored) {
    const { type, host, task, status, ignored, delegatedTo } = event;
    const kept: RunEvent = { type, host, task, status, censored: true, msg: CENSORED_MSG };
    if (ignored !== undefined) kept.ignored = ignored;
    if (delegatedTo !== undefined) kept.delegatedTo = delegatedTo;
    return masker.mask(kept);
  }
  if (event.type === 'result' && event.diff) return masker.mask({ ...event, diff: event.diff.map((d) => masker.diff(d)) });
  return masker.mask(event);
}
