// The one interface every module talks to a host through. `local` and `ssh` implement it; modules never know which.

import type { Readable } from 'node:stream';
import type { FileEffect } from '../core/effects.ts';

export interface BecomeOptions {
  /** Run as this user through sudo (default root). */
  user: string;
  /** Password for sudo; without it sudo must not ask (-n). */
  password?: string;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  cwd?: string;
  env?: Record<string, string>;
  become?: BecomeOptions;
  /** Kill the command and fail after this many milliseconds. */
  timeoutMs?: number;
  /** Sees the command's stderr as it comes (a download's progress meter); the result still holds all of it. */
  onStderr?: (chunk: string) => void;
}

/** A command ended because it ran past its `timeoutMs` (everything it started was killed). */
export class CommandTimeoutError extends Error {
  constructor(readonly timeoutMs: number, message = `command timed out after ${timeoutMs} ms`) {
    super(message);
    this.name = 'CommandTimeoutError';
  }
}

export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
}

export interface PutOptions {
  /** Octal permission bits, e.g. 0o644. Applied before the rename, so the target never has other modes. */
  mode?: number;
  owner?: string;
  group?: string;
  become?: BecomeOptions;
}

export interface MkdirOptions {
  /** Exact permission bits (no umask); default: what mkdir(1) makes. */
  mode?: number;
  /** Both or neither (a name or a number). */
  owner?: string;
  group?: string;
  become?: BecomeOptions;
}

/** A controller file to write on a host: streamed, never held whole in memory; `sha256` is checked on the host. */
export interface LocalFile {
  localPath: string;
  size: number;
  sha256: string;
}

export type FileType = 'file' | 'directory' | 'link' | 'other';

export interface FileStat {
  exists: boolean;
  type?: FileType;
  /** Permission bits only (mode & 0o7777). */
  mode?: number;
  owner?: string;
  group?: string;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  /** For links: where the link points. */
  target?: string;
  /** sha256 hex of a regular file's content, when asked for. */
  sha256?: string;
}

export interface StatOptions {
  checksum?: boolean;
  /** Follow a symlink to what it points to (default false: report the link itself). */
  follow?: boolean;
  become?: BecomeOptions;
}

/**
 * A live connection to one host. Each call is one round trip at most.
 * `put` is atomic: it writes a temp file beside the target and renames it, so a failure never leaves a half-written file.
 */
export interface Connection {
  readonly hostName: string;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  put(path: string, content: Buffer | string, options?: PutOptions): Promise<void>;
  /** `put` of a controller file, streamed (bounded memory, any size); the host checks its sha256 before the rename. */
  putFile?(path: string, file: LocalFile, options?: PutOptions): Promise<void>;
  /** A file's content as a stream (any size); the stream fails if the file cannot be read. */
  readStream?(path: string, options?: { become?: BecomeOptions }): Readable;
  /** Content of a file, or null when it does not exist. */
  get(path: string, options?: { become?: BecomeOptions }): Promise<Buffer | null>;
  stat(path: string, options?: StatOptions): Promise<FileStat>;
  /** Optional: whether `path` exists (a link counts, dangling or not), as `stat(path).exists`, maybe without a round trip. */
  exists?(path: string, options?: { become?: BecomeOptions }): Promise<boolean>;
  /**
   * What an earlier task of this run planned at `path`, without a round trip: only the --check overlay
   * (connection/planned.ts) has plans; a real connection has none. A planned file without `content` is
   * "planned, content not known yet" (a key or certificate made when the real run applies): `get` answers null.
   */
  planned?(path: string): FileEffect | undefined;
  /** In --check: whether a planned reload (systemd's daemon-reload) came after the plan for `path`. */
  reloadedSincePlan?(path: string): boolean;
  /**
   * Optional: make one directory whose parent exists, with `mode`, `owner` and `group`, without starting a process on
   * the host, and return its attributes. Undefined when it made nothing (the parent is missing, the path exists, an
   * owner the host's files do not name, become, only one of owner and group): the caller then runs its command.
   */
  mkdir?(path: string, options?: MkdirOptions): Promise<FileStat | undefined>;
  /** Paths this --check run planned (written or removed) at `path` or directly inside the folder `path`. */
  plannedUnder?(path: string): string[];
  /**
   * Optional: the host's coming tasks will stat these paths (checksum: compare content). A far connection reads them
   * together on the first stat that needs one, and answers later stats from that until a command or write may have
   * changed them (read-ahead.ts). A hint only: nothing is read that a stat would not read.
   */
  prefetch?(reads: readonly ReadAhead[]): void;
  /**
   * The run is interrupted: refuse new work, end the commands running on the host (their whole session there), remove
   * the temp files of writes in flight; the operations in flight then fail with InterruptedError.
   */
  interrupt?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A path a host's coming tasks will stat (read-ahead.ts); `checksum`: they compare its content; `existsOnly`: they ask
 * only whether it exists (`creates`, `removes`).
 */
export interface ReadAhead {
  path: string;
  checksum?: boolean;
  existsOnly?: boolean;
}

/** The host could not be reached or the connection broke: the host is reported `unreachable`, not `failed`. */
export class UnreachableError extends Error {
  constructor(
    readonly hostName: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnreachableError';
  }
}

/** The run was interrupted (SIGINT/SIGTERM) while this operation was in flight: not the host's fault. */
export class InterruptedError extends UnreachableError {
  constructor(hostName: string) {
    super(hostName, 'interrupted');
    this.name = 'InterruptedError';
  }
}
