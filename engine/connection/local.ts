// The `local` connection: this machine, without SSH. Used for localhost and `ansible_connection: local`.

import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chmod, chown, copyFile, lstat, open, readFile, readlink, rename, rm, stat as fsStat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { Readable } from 'node:stream';
import {
  CommandTimeoutError,
  InterruptedError,
  type BecomeOptions,
  type Connection,
  type ExecOptions,
  type ExecResult,
  type FileStat,
  type LocalFile,
  type PutOptions,
  type StatOptions,
} from './connection.ts';
import { shellQuote } from '../core/shell.ts';
import { atomicPutCommand, becomeCommand, parseStat, statCommand } from './shell-ops.ts';
import { tempBeside, trackLocalTemp } from '../core/temp-path.ts';
import { noteControllerChange } from './read-ahead.ts';

const currentUser = userInfo().username;

/** Whether `become` needs sudo here, or we already are that user. */
function needsSudo(become: BecomeOptions | undefined): become is BecomeOptions {
  return become !== undefined && become.user !== currentUser;
}

function ownerIds(owner: string | undefined, group: string | undefined): Promise<[number, number] | null> {
  if (!owner && !group) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const script = `id -u ${owner ? shellQuote(owner) : ''} && ${group ? `getent group ${shellQuote(group)} | cut -d: -f3` : 'id -g'}`;
    const child = spawn('/bin/sh', ['-c', script]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (rc) => {
      const [uid, gid] = out.trim().split('\n').map(Number);
      if (rc !== 0 || Number.isNaN(uid) || Number.isNaN(gid) || gid === undefined) {
        reject(new Error(`unknown owner or group: ${owner ?? ''}:${group ?? ''}`));
      } else resolve([owner ? uid : -1, group ? gid : -1]);
    });
  });
}

/** sha256 of a file, read through one reused 1 MiB buffer: any size, flat memory (no garbage per chunk). */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const file = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

export class LocalConnection implements Connection {
  /** Commands running now: each leads a process group of its own, which interrupt() ends whole. */
  private readonly children = new Set<ChildProcess>();
  private interrupted: InterruptedError | undefined;

  constructor(readonly hostName = 'localhost') {}

  exec(command: string, options: Omit<ExecOptions, 'stdin'> & { stdin?: string | Buffer | Readable } = {}): Promise<ExecResult> {
    if (this.interrupted) return Promise.reject(this.interrupted);
    // It may change a host's files through a shared folder: hosts' cached reads go (read-ahead.ts).
    noteControllerChange();
    const become = options.become;
    const sudo = needsSudo(become);
    const script = sudo ? becomeCommand(command, become.user, become.password !== undefined) : command;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', script], {
        cwd: options.cwd,
        env: options.env ? { ...process.env, ...options.env } : process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        // A group of its own: an interrupted run ends the command and all it started (the terminal's Ctrl-C reaches
        // only kplay, which decides).
        detached: true,
      });
      this.children.add(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer =
        options.timeoutMs !== undefined
          ? setTimeout(() => {
              timedOut = true;
              try {
                if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
              } catch {
                child.kill('SIGKILL'); // the group is gone already
              }
            }, options.timeoutMs)
          : undefined;
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => {
        err.push(d);
        options.onStderr?.(d.toString());
      });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        this.children.delete(child);
        if (timer) clearTimeout(timer);
        if (this.interrupted) return reject(this.interrupted);
        if (timedOut) {
          reject(new CommandTimeoutError(options.timeoutMs as number));
          return;
        }
        resolve({
          rc: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString(),
        });
      });
      child.stdin.on('error', () => undefined); // the command may exit without reading its stdin
      const prefix = sudo && become.password !== undefined ? `${become.password}\n` : '';
      const stdin = options.stdin;
      if (stdin !== undefined && typeof stdin !== 'string' && !Buffer.isBuffer(stdin)) {
        child.stdin.write(prefix);
        stdin.on('error', () => child.kill('SIGKILL'));
        stdin.pipe(child.stdin);
      } else child.stdin.end(prefix ? Buffer.concat([Buffer.from(prefix), Buffer.from(stdin ?? '')]) : (stdin ?? ''));
    });
  }

  async put(path: string, content: Buffer | string, options: PutOptions = {}): Promise<void> {
    noteControllerChange();
    if (needsSudo(options.become)) {
      const r = await this.exec(atomicPutCommand(path, options), { stdin: content, become: options.become });
      if (r.rc !== 0) throw new Error(`cannot write ${path}: ${r.stderr.trim()}`);
      return;
    }
    await this.placeTemp(path, options, (tmp) => writeFile(tmp, content, { mode: 0o600, flag: 'wx' }));
  }

  /** Write a temp file beside `path` with `write`, set its mode and owner, rename it over `path`; never leave it. */
  private async placeTemp(path: string, options: PutOptions, write: (tmp: string) => Promise<void>): Promise<void> {
    if (this.interrupted) throw this.interrupted;
    const tmp = tempBeside(path);
    const done = trackLocalTemp(tmp);
    try {
      await write(tmp);
      await chmod(tmp, options.mode ?? 0o644);
      const ids = await ownerIds(options.owner, options.group);
      if (ids) await chown(tmp, ids[0], ids[1]);
      if (this.interrupted) throw this.interrupted;
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    } finally {
      done();
    }
  }

  /** A file copied by the kernel (copy_file_range): nothing of it passes through this process's memory. */
  async putFile(path: string, file: LocalFile, options: PutOptions = {}): Promise<void> {
    noteControllerChange();
    if (needsSudo(options.become)) {
      const tmp = tempBeside(path);
      const command = atomicPutCommand(path, { ...options, mode: options.mode ?? 0o644 }, { bytes: file.size, sha256: file.sha256 }, tmp);
      const r = await this.exec(command, { stdin: createReadStream(file.localPath), become: options.become });
      if (r.rc !== 0) throw new Error(`cannot write ${path}: ${r.stderr.trim() || `exit ${r.rc}`}`);
      return;
    }
    await this.placeTemp(path, options, (tmp) => copyFile(file.localPath, tmp));
  }

  readStream(path: string, options: { become?: BecomeOptions } = {}): Readable {
    if (!needsSudo(options.become)) return createReadStream(path);
    const p = shellQuote(path);
    const child = spawn('/bin/sh', ['-c', becomeCommand(`exec cat -- ${p}`, options.become.user, options.become.password !== undefined)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child.stdin.end(options.become.password !== undefined ? `${options.become.password}\n` : '');
    child.on('close', (code) => {
      if (code !== 0) child.stdout.destroy(new Error(`cannot read ${path}: exit ${code}`));
    });
    return child.stdout;
  }

  /** End every running command's process group; later calls fail with InterruptedError. */
  async interrupt(): Promise<void> {
    this.interrupted ??= new InterruptedError(this.hostName);
    for (const child of this.children) {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  async get(path: string, options: { become?: BecomeOptions } = {}): Promise<Buffer | null> {
    if (needsSudo(options.become)) {
      const p = shellQuote(path);
      const r = await this.exec(`if [ -e ${p} ]; then cat -- ${p}; else exit 3; fi`, { become: options.become });
      if (r.rc === 3) return null;
      if (r.rc !== 0) throw new Error(`cannot read ${path}: ${r.stderr.trim()}`);
      return Buffer.from(r.stdout);
    }
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async stat(path: string, options: StatOptions = {}): Promise<FileStat> {
    if (needsSudo(options.become)) {
      const r = await this.exec(statCommand(path, options), { become: options.become });
      if (r.rc !== 0) throw new Error(`cannot stat ${path}: ${r.stderr.trim()}`);
      return parseStat(r.stdout);
    }
    let st;
    try {
      st = options.follow ? await fsStat(path) : await lstat(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { exists: false };
      throw error;
    }
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'link' : 'other';
    const result: FileStat = {
      exists: true,
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: st.size,
      mtime: Math.floor(st.mtimeMs / 1000),
      ...names(st.uid, st.gid),
    };
    if (type === 'link') result.target = await readlink(path);
    if (type === 'file' && options.checksum) {
      result.sha256 = await sha256OfFile(path);
    }
    return result;
  }

  async close(): Promise<void> {}
}

// uid/gid → names, read once from /etc/passwd and /etc/group (stat over the shell gives names directly).
let idNames: { users: Map<number, string>; groups: Map<number, string> } | undefined;
function names(uid: number, gid: number): { owner?: string; group?: string } {
  if (!idNames) {
    idNames = { users: readIds('/etc/passwd'), groups: readIds('/etc/group') };
  }
  return { owner: idNames.users.get(uid) ?? String(uid), group: idNames.groups.get(gid) ?? String(gid) };
}
function readIds(file: string): Map<number, string> {
  const map = new Map<number, string>();
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id !== undefined) map.set(Number(id), name);
    }
  } catch {
    // no such file: ids stay numeric
  }
  return map;
}
