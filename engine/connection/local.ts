// The `local` connection: this machine, without SSH. Used for localhost and `ansible_connection: local`.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, readFile, readlink, rename, rm, stat as fsStat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { CommandTimeoutError, type BecomeOptions, type Connection, type ExecOptions, type ExecResult, type FileStat, type PutOptions, type StatOptions } from './connection.ts';
import { shellQuote } from '../core/shell.ts';
import { atomicPutCommand, becomeCommand, parseStat, statCommand } from './shell-ops.ts';
import { tempBeside } from '../core/temp-path.ts';
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

export class LocalConnection implements Connection {
  constructor(readonly hostName = 'localhost') {}

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
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
        // Its own process group, so a timeout ends everything it started (`sleep 25 | cat`), not only the shell:
        // a child left behind would keep the pipes open and the task waiting.
        detached: options.timeoutMs !== undefined,
      });
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
        if (timer) clearTimeout(timer);
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
      const input = sudo && become.password !== undefined ? `${become.password}\n${options.stdin ?? ''}` : options.stdin;
      child.stdin.end(input ?? '');
    });
  }

  async put(path: string, content: Buffer | string, options: PutOptions = {}): Promise<void> {
    noteControllerChange();
    if (needsSudo(options.become)) {
      const r = await this.exec(atomicPutCommand(path, options), { stdin: content, become: options.become });
      if (r.rc !== 0) throw new Error(`cannot write ${path}: ${r.stderr.trim()}`);
      return;
    }
    const tmp = tempBeside(path);
    try {
      await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
      await chmod(tmp, options.mode ?? 0o644);
      const ids = await ownerIds(options.owner, options.group);
      if (ids) await chown(tmp, ids[0], ids[1]);
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
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
      result.sha256 = createHash('sha256').update(await readFile(path)).digest('hex');
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
