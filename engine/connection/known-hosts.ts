// OpenSSH known_hosts: read (plain and hashed names, [host]:port, wildcards, negation, @revoked), check a server's key,
// and append newly accepted keys. Host certificates (@cert-authority) are not supported and are skipped.

import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
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

function globMatches(pattern: string, name: string): boolean {
  return globToRegExp(pattern, { brackets: false, ignoreCase: true }).test(name);
}

function hostsMatch(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false; // a negated match wins over everything
    } else if (globMatches(pattern, name)) matched = true;
  }
  return matched;
}

export class KnownHosts {
  private constructor(
    readonly file: string,
    private readonly entries: Entry[],
  ) {}

  /** A missing file is an empty one. */
  static async load(file: string): Promise<KnownHosts> {
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
    return [...new Set(this.entries.filter((e) => !e.revoked && hostsMatch(e.hosts, name)).map((e) => e.keyType))];
  }

  /**
   * Whether `blob` is this host's key. Any recorded key that differs counts as a change (also one of another type):
   * we never silently accept a new key for a host we already know.
   */
  check(host: string, port: number, blob: Buffer): HostKeyCheck {
    const name = knownHostsName(host, port);
    const revoked = this.entries.find((e) => e.revoked && e.key.equals(blob));
    if (revoked) return { status: 'revoked', line: revoked.line };
    const recorded = this.entries.filter((e) => !e.revoked && hostsMatch(e.hosts, name));
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
    this.entries.push({ line: -1, revoked: false, hosts: knownHostsName(host, port), keyType: keyTypeOf(blob), key: blob });
  }
}
