// OpenSSH known_hosts: read (plain and hashed names, [host]:port, wildcards, negation, @revoked), check a server's key,
// and append newly accepted keys. Host certificates (@cert-authority) are not supported and are skipped.

import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { globToRegExp } from '../core/glob.ts';

interface Entry {
  line: number;
  revoked: boolean;
  /** Comma-separated patterns, or a hashed name `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  key: Buffer;
}

/** An entry with how its names are matched, built once: a run checks every host against the same file. */
interface Indexed extends Entry {
  /** Position in the file's entries (results keep file order). */
  order: number;
  /** Undefined for entries of plain names only (found through the index); else the entry's own test. */
  matches?: (name: string) => boolean;
}

export type HostKeyCheck =
  | { status: 'known' }
  | { status: 'unknown' }
  | { status: 'revoked'; line: number }
  | { status: 'changed'; line: number; keyType: string; fingerprint: string };

/** The key type inside an SSH public key blob (its first string), e.g. `ssh-ed25519`. */
export function keyTypeOf(blob: Buffer): string {
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:…` as `ssh-keygen -l` prints it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The name known_hosts stores for a host: `addr`, or `[addr]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Names without `*`, `?` or `!`: matched by equal lowercase text, through the index. */
function plainNames(hosts: string): string[] | undefined {
  if (hosts.startsWith('|1|') || /[*?!]/.test(hosts)) return undefined;
  return hosts.split(',').map((name) => name.toLowerCase());
}

/** The test of a hashed entry, or of one with wildcards or negations (compiled once). */
function matcher(hosts: string): (name: string) => boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return () => false;
    const key = Buffer.from(salt, 'base64');
    return (name) => createHmac('sha1', key).update(name).digest('base64') === hash;
  }
  const patterns = hosts.split(',').map((pattern) => {
    const negated = pattern.startsWith('!');
    return { negated, regexp: globToRegExp(negated ? pattern.slice(1) : pattern, { brackets: false, ignoreCase: true }) };
  });
  return (name) => {
    let matched = false;
    for (const { negated, regexp } of patterns) {
      if (!regexp.test(name)) continue;
      if (negated) return false; // a negated match wins over everything
      matched = true;
    }
    return matched;
  };
}

/** Loaded files by path, reused while the file's size and time stay the same (every host of a run reads the same one). */
const loaded = new Map<string, { stamp: string; knownHosts: Promise<KnownHosts> }>();

export class KnownHosts {
  /** Entries indexed so far. */
  private count = 0;
  /** Entries of plain names by lowercase name. */
  private readonly byName = new Map<string, Indexed[]>();
  /** Hashed entries and entries with patterns: tested one by one. */
  private readonly patterned: Indexed[] = [];
  private readonly revoked: Indexed[] = [];

  private constructor(
    readonly file: string,
    entries: Entry[],
  ) {
    for (const entry of entries) this.index(entry);
  }

  private index(entry: Entry): void {
    const names = plainNames(entry.hosts);
    const indexed: Indexed = { ...entry, order: this.count++, matches: names ? undefined : matcher(entry.hosts) };
    if (entry.revoked) this.revoked.push(indexed);
    if (!names) return void this.patterned.push(indexed);
    for (const name of new Set(names)) {
      const list = this.byName.get(name);
      if (list) list.push(indexed);
      else this.byName.set(name, [indexed]);
    }
  }

  /** Entries naming `name`, in file order. */
  private matching(name: string): Indexed[] {
    const found = [...(this.byName.get(name.toLowerCase()) ?? []), ...this.patterned.filter((e) => e.matches!(name))];
    return found.sort((a, b) => a.order - b.order);
  }

  /** A missing file is an empty one. Loaded once while it does not change. */
  static async load(file: string): Promise<KnownHosts> {
    const stamp = await stat(file).then(
      (s) => `${s.size}:${s.mtimeMs}:${s.ino}`,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return 'missing';
        throw error;
      },
    );
    const known = loaded.get(file);
    if (known?.stamp === stamp) return known.knownHosts;
    const knownHosts = KnownHosts.read(file);
    loaded.set(file, { stamp, knownHosts });
    knownHosts.catch(() => loaded.get(file)?.knownHosts === knownHosts && loaded.delete(file));
    return knownHosts;
  }

  private static async read(file: string): Promise<KnownHosts> {
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return new KnownHosts(file, KnownHosts.parse(text));
  }

  static parse(text: string): Entry[] {
    const entries: Entry[] = [];
    text.split('\n').forEach((raw, index) => {
      const fields = raw.trim().split(/\s+/);
      if (fields[0] === '' || fields[0].startsWith('#')) return;
      const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
      if (marker !== undefined && marker !== '@revoked') return; // @cert-authority: certificates are not supported
      const [hosts, keyType, key] = fields;
      if (!hosts || !keyType || !key) return;
      entries.push({ line: index + 1, revoked: marker === '@revoked', hosts, keyType, key: Buffer.from(key, 'base64') });
    });
    return entries;
  }

  /** Key types recorded for this host, in file order: offered first so the server picks a key we can check. */
  keyTypesFor(host: string, port: number): string[] {
    const name = knownHostsName(host, port);
    return [...new Set(this.matching(name).filter((e) => !e.revoked).map((e) => e.keyType))];
  }

  /**
   * Whether `blob` is this host's key. Any recorded key that differs counts as a change (also one of another type):
   * we never silently accept a new key for a host we already know.
   */
  check(host: string, port: number, blob: Buffer): HostKeyCheck {
    const name = knownHostsName(host, port);
    const revoked = this.revoked.find((e) => e.key.equals(blob));
    if (revoked) return { status: 'revoked', line: revoked.line };
    const recorded = this.matching(name).filter((e) => !e.revoked);
    if (recorded.some((e) => e.key.equals(blob))) return { status: 'known' };
    const other = recorded.find((e) => e.keyType === keyTypeOf(blob)) ?? recorded[0];
    if (!other) return { status: 'unknown' };
    return { status: 'changed', line: other.line, keyType: other.keyType, fingerprint: fingerprintOf(other.key) };
  }

  /** Record a key (one appended line; the file is made 0600 and its folder 0700 when new). */
  async add(host: string, port: number, blob: Buffer): Promise<void> {
    const line = `${knownHostsName(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const current = await readFile(this.file, 'utf8').catch(() => '');
    const separator = current === '' || current.endsWith('\n') ? '' : '\n';
    await appendFile(this.file, `${separator}${line}\n`, { mode: 0o600 });
    this.index({ line: -1, revoked: false, hosts: knownHostsName(host, port), keyType: keyTypeOf(blob), key: blob });
  }
}
