// The --check overlay: a connection that answers reads with the state earlier tasks of this run planned, so a dry run
// plans each task against what the real run would find there (a unit file a template would write, a directory a
// `file` task would create). It never writes.

import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { FileEffect, PathEffect } from '../core/effects.ts';
import type { BecomeOptions, Connection, ExecOptions, ExecResult, FileStat, PutOptions, StatOptions } from './connection.ts';

export class PlannedConnection implements Connection {
  private readonly plans = new Map<string, PathEffect>();
  /** The plans as they were at the last `reloaded` effect (a planned daemon-reload). */
  private reloaded = new Map<string, PathEffect>();

  constructor(private readonly inner: Connection) {}

  /** The connection underneath, for a task that really runs in a --check run (`check_mode: false`). */
  get real(): Connection {
    return this.inner;
  }

  get hostName(): string {
    return this.inner.hostName;
  }

  record(effects: readonly FileEffect[] | undefined): void {
    for (const effect of effects ?? []) {
      if (effect.state === 'reloaded') {
        this.reloaded = new Map(this.plans);
        continue;
      }
      const path = posix.normalize(effect.path);
      if (effect.state === 'absent') {
        for (const key of this.plans.keys()) if (key.startsWith(`${path}/`)) this.plans.delete(key);
      }
      const previous = this.plans.get(path);
      // A later `file` task may change only the mode of a file an earlier task planned: keep its content.
      if (previous?.state === 'file' && effect.state === 'file' && effect.content === undefined && effect.from === undefined) {
        this.plans.set(path, { ...previous, ...effect, content: previous.content, from: previous.from });
      } else {
        this.plans.set(path, { ...effect, path });
      }
    }
  }

  /** Whether this run plans a file, folder or link at `path` (a `src:` an earlier task would make on the controller). */
  plansToCreate(path: string): boolean {
    const effect = this.planned(path);
    return effect !== undefined && effect.state !== 'absent';
  }

  /** Paths this run planned (written or removed) at `path` or directly inside the folder `path`. */
  plannedUnder(path: string): string[] {
    const dir = posix.normalize(path);
    return [...this.plans.keys()].filter((key) => key === dir || posix.dirname(key) === dir);
  }

  /** Whether the plan for `path` came before the last planned reload (so the reader has it loaded already). */
  reloadedSincePlan(path: string): boolean {
    const normal = posix.normalize(path);
    const own = this.plans.get(normal);
    return own !== undefined && this.reloaded.get(normal) === own;
  }

  /** What this run planned at `path`: its own entry, or absent when a folder above it is planned absent. */
  planned(path: string): PathEffect | undefined {
    const normal = posix.normalize(path);
    const own = this.plans.get(normal);
    if (own) return own;
    for (let dir = posix.dirname(normal); dir !== '/' && dir !== '.'; dir = posix.dirname(dir)) {
      const above = this.plans.get(dir);
      if (above?.state === 'absent' || above?.state === 'file') return { path: normal, state: 'absent' };
    }
    return undefined;
  }

  async stat(path: string, options: StatOptions = {}): Promise<FileStat> {
    const effect = this.planned(path);
    if (!effect) return this.inner.stat(path, options);
    if (effect.state === 'absent') return { exists: false };
    if (effect.state === 'link') {
      return options.follow ? this.stat(posix.resolve(posix.dirname(path), effect.target), options) : { exists: true, type: 'link', target: effect.target, mode: 0o777 };
    }
    // Mode, owner and group the plan did not set stay as they are now (or as a new file would get them).
    const current = await this.inner.stat(path, { ...options, checksum: false });
    const stat: FileStat = {
      exists: true,
      type: effect.state,
      mode: effect.mode ?? (current.exists ? current.mode : effect.state === 'directory' ? 0o755 : 0o644),
      owner: effect.owner ?? (current.exists ? current.owner : 'root'),
      group: effect.group ?? (current.exists ? current.group : 'root'),
    };
    if (effect.state === 'file') {
      const content = effect.content ?? (effect.from !== undefined ? await this.get(effect.from) : undefined);
      if (content) {
        stat.size = content.length;
        if (options.checksum) stat.sha256 = createHash('sha256').update(content).digest('hex');
      } else if (effect.sha256 !== undefined) {
        stat.size = effect.size;
        if (options.checksum) stat.sha256 = effect.sha256;
      } else if (options.checksum && current.exists) {
        stat.sha256 = (await this.inner.stat(path, options)).sha256;
      }
    }
    return stat;
  }

  async exists(path: string, options: { become?: BecomeOptions } = {}): Promise<boolean> {
    const effect = this.planned(path);
    if (effect) return effect.state !== 'absent';
    return this.inner.exists ? this.inner.exists(path, options) : (await this.inner.stat(path, options)).exists;
  }

  async get(path: string, options: { become?: BecomeOptions } = {}): Promise<Buffer | null> {
    const effect = this.planned(path);
    if (!effect) return this.inner.get(path, options);
    if (effect.state === 'file' && effect.content !== undefined) return effect.content;
    if (effect.state === 'file' && effect.from !== undefined) return this.get(effect.from, options);
    if (effect.state === 'file') return this.inner.get(path, options);
    return null;
  }

  exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    return this.inner.exec(command, options);
  }

  put(path: string, _content: Buffer | string, _options?: PutOptions): Promise<void> {
    return Promise.reject(new Error(`refusing to write ${path} in check mode`));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The connection a task acts through: the overlay in --check, the real one under it when the task really runs. */
export function forMode(conn: Connection, check: boolean): Connection {
  return !check && conn instanceof PlannedConnection ? conn.real : conn;
}

/** Keep what a plan leaves, for the later tasks of a --check run (a real connection has nothing to keep). */
export function recordEffects(conn: Connection, effects: readonly FileEffect[] | undefined): void {
  if (conn instanceof PlannedConnection) conn.record(effects);
}

/** `conn` as a module test or the runner's --check sees it: the overlay (made once: an overlay stays as it is). */
export function overlay(conn: Connection): Connection {
  return conn instanceof PlannedConnection ? conn : new PlannedConnection(conn);
}
