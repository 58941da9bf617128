// One connection per host for the whole run, opened on the host's first task that needs it, from Ansible's
// connection variables. In --check every connection is wrapped in the planned-state overlay.

import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Connection } from '../connection/connection.ts';
import { LocalConnection } from '../connection/local.ts';
import { PlannedConnection } from '../connection/planned.ts';
import type { ReadAhead } from '../connection/read-ahead.ts';

export interface ConnectionSettings {
  check: boolean;
  knownHostsFile?: string;
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  commandTimeoutMs?: number;
  becomePassword?: string;
  /** Folder relative key and known_hosts paths resolve against (the inventory's). */
  baseDir: string;
}

const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

function str(value: unknown): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

/** `-o UserKnownHostsFile=F` in Ansible's ssh arguments: an inventory made for Ansible keeps its known_hosts. */
function userKnownHostsFile(vars: Record<string, unknown>): string | undefined {
  for (const key of ['ansible_ssh_common_args', 'ansible_ssh_extra_args', 'ansible_ssh_args']) {
    const match = /UserKnownHostsFile[= ]\s*("[^"]+"|'[^']+'|\S+)/.exec(str(vars[key]) ?? '');
    if (match) return match[1].replace(/^["']|["']$/g, '');
  }
  return undefined;
}

export class ConnectionPool {
  private readonly open = new Map<string, Promise<Connection>>();
  /** Read-ahead hints for hosts not connected yet, given to their connection once open. */
  private readonly early = new Map<string, ReadAhead[]>();
  private readonly local: Connection;

  constructor(private readonly settings: ConnectionSettings) {
    this.local = settings.check ? new PlannedConnection(new LocalConnection()) : new LocalConnection();
  }

  /** This machine (for controller-side work: pki, delegate_to localhost). */
  controller(): Connection {
    return this.local;
  }

  /** Which transport a host uses, from its variables (a play's `connection:` is already merged in). */
  static isLocal(hostName: string, vars: Record<string, unknown>): boolean {
    const kind = str(vars.ansible_connection);
    if (kind) return kind === 'local';
    return LOCAL_NAMES.has(hostName) && str(vars.ansible_host) === undefined;
  }

  /**
   * The connection for a host, chosen and opened on its first use only (its variables are read then, not on every
   * task); a failure to connect rejects every later use too (the host is unreachable).
   */
  get(hostName: string, vars: () => Record<string, unknown>): Promise<Connection> {
    let conn = this.open.get(hostName);
    if (!conn) {
      const resolved = vars();
      conn = ConnectionPool.isLocal(hostName, resolved) ? Promise.resolve(this.local) : this.openSsh(hostName, resolved);
      this.open.set(hostName, conn);
    }
    return conn;
  }

  /** Paths a host's coming tasks will stat (engine/run/read-ahead.ts): a hint for its connection. */
  prefetch(hostName: string, reads: ReadAhead[]): void {
    const conn = this.open.get(hostName);
    if (!conn) {
      this.early.set(hostName, [...(this.early.get(hostName) ?? []), ...reads]);
      return;
    }
    conn.then((c) => (c instanceof PlannedConnection ? c.real : c).prefetch?.(reads)).catch(() => undefined);
  }

  private async openSsh(hostName: string, vars: Record<string, unknown>): Promise<Connection> {
    const keyFile = str(vars.ansible_ssh_private_key_file) ?? str(vars.ansible_private_key_file);
    const knownHosts =
      str(vars.kplay_known_hosts_file) ??
      str(vars.kplay_known_hosts) ??
      str(vars.ansible_ssh_known_hosts_file) ??
      userKnownHostsFile(vars) ??
      this.settings.knownHostsFile ??
      resolve(homedir(), '.ssh/known_hosts');
    const { SshConnection } = await import('../connection/ssh.ts'); // ssh2 is loaded only when a host needs it
    const conn = await SshConnection.open({
      hostName,
      address: str(vars.ansible_host) ?? hostName,
      port: Number(str(vars.ansible_port) ?? 22),
      user: str(vars.ansible_user) ?? str(vars.ansible_ssh_user) ?? 'root',
      privateKeyFiles: keyFile ? [resolve(this.settings.baseDir, keyFile.replace(/^~(?=\/)/, homedir()))] : [],
      knownHostsFile: resolve(this.settings.baseDir, knownHosts.replace(/^~(?=\/)/, homedir())),
      acceptNewHostKeys: this.settings.acceptNewHostKeys,
      connectTimeoutMs: Number(str(vars.ansible_timeout) ?? 0) * 1000 || this.settings.connectTimeoutMs,
      keepaliveIntervalMs: 5000,
      commandTimeoutMs: this.settings.commandTimeoutMs,
      becomePassword: str(vars.ansible_become_password) ?? str(vars.ansible_become_pass) ?? this.settings.becomePassword,
      password: str(vars.ansible_password) ?? str(vars.ansible_ssh_pass) ?? str(vars.ansible_ssh_password),
    });
    const early = this.early.get(hostName);
    this.early.delete(hostName);
    if (early) conn.prefetch(early);
    return this.settings.check ? new PlannedConnection(conn) : conn;
  }

  /** Drop a host's connection (it broke on purpose: a reboot) so the next use opens a new one. */
  async forget(hostName: string): Promise<void> {
    const conn = await this.open.get(hostName)?.catch(() => undefined);
    this.open.delete(hostName);
    if (conn && conn !== this.local) await conn.close().catch(() => undefined);
  }

  /**
   * The run is interrupted: every connection (open or opening) ends its commands and removes its temp files; one that
   * is still opening is interrupted as soon as it is open.
   */
  async interrupt(): Promise<void> {
    const all = [this.local, ...[...this.open.values()].map((p) => p.catch(() => undefined))];
    await Promise.all(all.map(async (p) => {
      const conn = await p;
      const real = conn instanceof PlannedConnection ? conn.real : conn;
      await real?.interrupt?.().catch(() => undefined);
    }));
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map(async (p) => {
      const conn = await p.catch(() => undefined);
      if (conn && conn !== this.local) await conn.close();
    }));
  }
}
