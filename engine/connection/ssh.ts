// The `ssh` connection, on ssh2: one TCP connection per host for the whole run. Commands run on channels of it (many at
// once, up to sshd's MaxSessions), files go over one sftp session opened on first use. Host keys are checked against
// known_hosts; anything that breaks the connection itself is an UnreachableError, anything else a plain Error.

import { createHash, createPrivateKey, sign } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import pLimit from 'p-limit';
import ssh2 from 'ssh2';
import type {
  AnyAuthMethod,
  CipherAlgorithm,
  ClientChannel,
  ConnectConfig,
  KexAlgorithm,
  ParsedKey,
  ServerHostKeyAlgorithm,
  SFTPWrapper,
  Stats,
} from 'ssh2';
import {
  CommandTimeoutError,
  InterruptedError,
  UnreachableError,
  type BecomeOptions,
  type Connection,
  type ExecOptions,
  type ExecResult,
  type FileStat,
  type LocalFile,
  type MkdirOptions,
  type PutOptions,
  type StatOptions,
} from './connection.ts';
import { recordLeftovers, takeLeftovers, type Leftover } from './leftovers.ts';
import { ReadCache, type ReadAhead } from './read-ahead.ts';
import { RESIDENT_MAX_COMMAND, RESIDENT_SCRIPT, ResidentShell, ResidentUnavailable } from './resident-shell.ts';
import { SessionIdHead, SID_MARK } from './session-id.ts';
import { shellQuote } from '../core/shell.ts';
import { fingerprintOf, KnownHosts, keyTypeOf, knownHostsName } from './known-hosts.ts';
import { atomicPutCommand, becomeCommand, inlinePutCommand, parseStat, statCommand } from './shell-ops.ts';
import { tempBeside } from '../core/temp-path.ts';

/** Files up to this size have their checksum computed here from an sftp read; larger ones by sha256sum on the host. */
const SFTP_CHECKSUM_MAX = 256 * 1024;
/** sftp read and write size: every server answers reads and takes writes this large. */
const READ_CHUNK = 32 * 1024;
/** From this round-trip time on, a small file is written by one command (1 round trip) instead of sftp (3 requests in turn). */
const FAR_RTT_MS = 20;
/** Paths read along with a missed one on a near host (a far one reads up to 64). */
const NEAR_BATCH = 4;
/** Up to this size, text written by a command goes in its command line (well under sshd's packet limit). */
const INLINE_PUT_MAX_BYTES = 32 * 1024;
// ssh2's channel window and packet size (lib/Channel.js), for channels opened ahead of time.
const MAX_WINDOW = 2 * 1024 * 1024;
const PACKET_SIZE = 32 * 1024;

/** The parts of ssh2's client used to open a session channel ahead of time and start a command on it without waiting. */
interface ClientInternals {
  _chanMgr?: { add(callback: unknown): number };
  _protocol?: { session(id: number, window: number, packetSize: number): void; exec(id: number, command: string, wantReply: boolean): void };
}
interface ChannelInternals {
  _callbacks: Array<(failed: boolean | Error) => void>;
  outgoing: { id: number; state: string };
  subtype?: string;
  allowHalfOpen: boolean;
}

export interface SshOptions {
  /** Inventory name (for messages and results). */
  hostName: string;
  address: string;
  port: number;
  user: string;
  privateKeyFiles: string[];
  /** ssh-agent socket; default $SSH_AUTH_SOCK. */
  agent?: string;
  knownHostsFile: string;
  /** Record the key of a host not yet in known_hosts (never replaces a changed one). */
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  /** Default timeout of every command. */
  commandTimeoutMs?: number;
  becomePassword?: string;
  /** Log in with this password when no key is taken (ansible_password); never printed. */
  password?: string;
  /** Commands at once on the connection (sshd's MaxSessions, default 10; one session is kept for sftp). */
  maxSessions?: number;
}

// Fast key exchange first (lab-facts §4: sntrup761 costs ten times more CPU), then what older servers speak.
const KEX: KexAlgorithm[] = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group-exchange-sha256',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group16-sha512',
];
const CIPHERS: CipherAlgorithm[] = [
  'aes128-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
  'aes256-gcm@openssh.com',
  'aes128-ctr',
  'aes256-ctr',
];
const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Ask first for the key types known_hosts has for this host, as OpenSSH does, so a known host is not "unknown". */
function hostKeyAlgorithms(knownTypes: string[]): ServerHostKeyAlgorithm[] {
  const known = knownTypes.flatMap((type) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type]));
  return [...new Set([...HOST_KEY_ALGORITHMS.filter((a) => known.includes(a)), ...HOST_KEY_ALGORITHMS])];
}

/** Larger files go through the shell path, which cleans up after itself if the connection drops midway. */
const SFTP_PUT_MAX_BYTES = 1024 * 1024;

const ACCEPT_HINT = 'run with --accept-new-host-keys (config: accept_new_host_keys: true) to record it';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface KeySources {
  methods: AnyAuthMethod[];
  /** Why listed key files were not offered (missing, encrypted...). */
  problems: string[];
}

/** Key files read and parsed, by path, while their size and time stay the same: every host of a run uses the same. */
const parsedKeys = new Map<string, { stamp: string; key: Promise<ParsedKey | string> }>();

/** A private key file parsed (ssh2 then uses it as it is), or why it cannot be offered. */
async function privateKey(file: string): Promise<ParsedKey | string> {
  let stamp: string;
  try {
    const st = await stat(file);
    stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? messageOf(error);
  }
  const known = parsedKeys.get(file);
  if (known?.stamp === stamp) return known.key;
  const key = readFile(file).then(
    (content) => {
      const parsed = ssh2.utils.parseKey(content);
      return parsed instanceof Error ? `${parsed.message} (a key with a passphrase must be loaded into ssh-agent)` : signingOnce(parsed);
    },
    (error: NodeJS.ErrnoException) => error.code ?? messageOf(error),
  );
  parsedKeys.set(file, { stamp, key });
  return key;
}

/**
 * An Ed25519 key signs with a key object made once: ssh2 signs with the key's PEM text, which OpenSSL decodes again
 * for every login (0.47 against 0.05 ms a signature here; 500 hosts, 0.2 CPU-s). Ed25519 takes no hash algorithm,
 * so nothing else changes; other key types sign as ssh2 does.
 */
function signingOnce(key: ParsedKey): ParsedKey {
  if (key.type !== 'ssh-ed25519' || !key.isPrivateKey()) return key;
  const keyObject = createPrivateKey(key.getPrivatePEM());
  key.sign = (data: string | Buffer): Buffer => {
    try {
      return sign(null, typeof data === 'string' ? Buffer.from(data) : data, keyObject);
    } catch (error) {
      // As ssh2's own: a failed signature is returned, not thrown (its types say Buffer; its caller checks for Error).
      return (error instanceof Error ? error : new Error(String(error))) as unknown as Buffer;
    }
  };
  return key;
}

async function authMethods(options: SshOptions): Promise<KeySources> {
  const methods: AnyAuthMethod[] = [];
  const problems: string[] = [];
  for (const file of options.privateKeyFiles) {
    const key = await privateKey(file);
    if (typeof key === 'string') problems.push(`${file}: ${key}`);
    else methods.push({ type: 'publickey', username: options.user, key });
  }
  const agent = options.agent ?? process.env.SSH_AUTH_SOCK;
  if (agent) methods.push({ type: 'agent', username: options.user, agent });
  if (options.password !== undefined) methods.push({ type: 'password', username: options.user, password: options.password });
  return { methods, problems };
}

export class SshConnection implements Connection {
  readonly hostName: string;
  /** Set once the connection is gone; every later call fails with it. */
  private broken: UnreachableError | undefined;
  /** Rejecters of operations in flight, failed at once when the connection drops. */
  private readonly inFlight = new Set<(error: Error) => void>();
  private readonly sessions: ReturnType<typeof pLimit>;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  /** Owner and group names for sftp stats; dropped by every command and by writes to /etc/passwd or /etc/group. */
  private idCache: Promise<IdNames> | undefined;
  /** A command ran since the names were read: check the files' stamps before using them. */
  private idsStale = false;
  /** Stats read ahead for coming tasks (read-ahead.ts). */
  private readonly cache = new ReadCache();
  /** Reads of the cache's batch in flight: path → the batch's promise. */
  private readonly batches = new Map<string, Promise<void>>();
  /** A session channel opened ahead of time: the next command starts on it at once (1 round trip, not 3). */
  private spare: Promise<ClientChannel> | undefined;
  /** Shortest channel open or sftp answer seen: the network round trip, near enough. */
  private rttMs = Infinity;
  /** Set by interrupt(): every later call fails with it (the cleanup's own commands excepted). */
  private interrupted: InterruptedError | undefined;
  /** Commands running on the host: the session id their shell reported (undefined until it has), and their sudo. */
  private readonly running = new Map<ClientChannel, { sid: Promise<number | undefined>; sudo?: BecomeOptions }>();
  /** Temp files of writes in flight on the host, with the sudo they are written through. */
  private readonly temps = new Map<string, BecomeOptions | undefined>();
  /** The connection's resident shell (resident-shell.ts), started by the first command that can use it. */
  private resident: ResidentShell | undefined;
  /** The cleanup of an interrupted run (interrupt()), which close() waits for. */
  private cleaning: Promise<void> | undefined;
  /** The host could not run one (it has no setsid): commands get sessions. */
  private residentRefused = false;

  private constructor(
    private readonly client: ssh2.Client,
    private readonly options: SshOptions,
  ) {
    this.hostName = options.hostName;
    // One session is the sftp one, one the spare channel, one the resident shell.
    this.sessions = pLimit(Math.max(1, (options.maxSessions ?? 10) - 3));
    const lost = (reason: string) => {
      if (!this.broken) this.rememberTemps();
      this.broken ??= new UnreachableError(this.hostName, reason);
      for (const reject of this.inFlight) reject(this.broken);
      this.inFlight.clear();
    };
    client.on('error', (error: Error) => lost(`connection to ${this.where} failed: ${error.message}`));
    // 'end'/'close' come before ssh2 closes the channels, so channels see `broken` already set.
    client.on('end', () => lost(`connection to ${this.where} dropped`));
    client.on('close', () => lost(`connection to ${this.where} dropped`));
    coalesceWrites(client);
    pingOnlyWhenQuiet(client, options.keepaliveIntervalMs);
  }

  private get where(): string {
    return `${this.options.user}@${this.options.address}:${this.options.port}`;
  }

  /** The connection broke with writes in flight: their temp files may stay on the host; the next connection removes them. */
  private rememberTemps(): void {
    recordLeftovers(this.where, [...this.temps].map(([path, sudo]) => ({ path, become: sudo?.user })));
    this.temps.clear();
  }

  /** Remove the temp files earlier connections to this host left (leftovers.ts); those it cannot are kept on record. */
  private async removeLeftovers(): Promise<void> {
    const leftovers = takeLeftovers(this.where);
    const byUser = new Map<string | undefined, Leftover[]>();
    for (const l of leftovers) byUser.set(l.become, [...(byUser.get(l.become) ?? []), l]);
    await Promise.all(
      [...byUser].map(async ([user, list]) => {
        const become = user === undefined ? undefined : { user };
        const r = await this.execReadOnly(`rm -f -- ${list.map((l) => shellQuote(l.path)).join(' ')}`, { become }).catch(() => undefined);
        if (r?.rc !== 0) recordLeftovers(this.where, list);
      }),
    );
  }

  /** A write's temp file, known until `done` (removed by interrupt(), remembered if the connection drops). */
  private trackTemp(tmp: string, sudo: BecomeOptions | undefined): () => void {
    this.temps.set(tmp, sudo);
    return () => this.temps.delete(tmp);
  }

  /** Connect, verify the host key and log in; every failure is an UnreachableError saying what to do. */
  static async open(options: SshOptions): Promise<SshConnection> {
    const where = `${options.address}:${options.port}`;
    const unreachable = (message: string) => new UnreachableError(options.hostName, message);
    const knownHosts = await KnownHosts.load(options.knownHostsFile);
    const { methods, problems } = await authMethods(options);
    if (methods.length === 0) {
      throw unreachable(`no SSH key to log in to ${where} with: no usable key file${problems.length ? ` (${problems.join('; ')})` : ''} and no ssh-agent`);
    }
    let hostKeyFailure: string | undefined;
    const verifyHostKey = (key: Buffer, verify: (ok: boolean) => void) => {
      const check = knownHosts.check(options.address, options.port, key);
      const offered = `${keyTypeOf(key)} ${fingerprintOf(key)}`;
      const name = knownHostsName(options.address, options.port);
      if (check.status === 'known') return verify(true);
      if (check.status === 'unknown' && options.acceptNewHostKeys) {
        knownHosts.add(options.address, options.port, key).then(
          () => verify(true),
          (error: unknown) => {
            hostKeyFailure = `cannot record the host key of ${name} in ${options.knownHostsFile}: ${messageOf(error)}`;
            verify(false);
          },
        );
        return;
      }
      if (check.status === 'unknown') {
        hostKeyFailure = `host key of ${name} is unknown: ${offered} is not in ${options.knownHostsFile}; check the fingerprint, then add it to that file or ${ACCEPT_HINT}`;
      } else if (check.status === 'revoked') {
        hostKeyFailure = `host key of ${name} (${offered}) is marked @revoked in ${options.knownHostsFile} line ${check.line}`;
      } else {
        hostKeyFailure =
          `HOST KEY CHANGED for ${name}: it offers ${offered} but ${options.knownHostsFile} line ${check.line} has ` +
          `${check.keyType} ${check.fingerprint}. This could be an attack; if the host was reinstalled, remove the old key ` +
          `(ssh-keygen -R '${name}' -f ${options.knownHostsFile}) and connect again. A changed key is never accepted automatically.`;
      }
      verify(false);
    };

    const client = new ssh2.Client();
    const config: ConnectConfig = {
      host: options.address,
      port: options.port,
      username: options.user,
      authHandler: methods,
      hostVerifier: verifyHostKey,
      readyTimeout: options.connectTimeoutMs,
      keepaliveInterval: options.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      debug: process.env.KPLAY_SSH_DEBUG ? (line: string) => process.stderr.write(`${line}\n`) : undefined,
      algorithms: { kex: KEX, cipher: CIPHERS, serverHostKey: hostKeyAlgorithms(knownHosts.keyTypesFor(options.address, options.port)) },
    };
    await new Promise<void>((resolve, reject) => {
      const fail = (message: string) => {
        client.removeAllListeners();
        client.on('error', () => undefined);
        client.destroy();
        reject(unreachable(message));
      };
      // ssh2's readyTimeout does not cover a TCP connect that hangs (packets dropped): bound the whole login here.
      const timer = setTimeout(() => fail(`cannot connect to ${where}: no answer within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
      client.once('ready', () => {
        clearTimeout(timer);
        client.removeAllListeners();
        resolve();
      });
      client.once('error', (error: Error & { code?: string; level?: string }) => {
        clearTimeout(timer);
        if (hostKeyFailure) return fail(hostKeyFailure);
        if (error.level === 'client-authentication') {
          const tried = [
            ...options.privateKeyFiles.filter((f) => !problems.some((p) => p.startsWith(`${f}:`))),
            ...methods.filter((m) => m.type === 'agent').map(() => 'ssh-agent'),
            ...methods.filter((m) => m.type === 'password').map(() => 'the password'),
          ];
          return fail(
            `${options.user}@${where} refused every key offered (${tried.join(', ') || 'none'})` +
              `${problems.length ? `; not offered: ${problems.join('; ')}` : ''}: check ansible_user, ansible_ssh_private_key_file and ansible_password`,
          );
        }
        if (error.code === 'ECONNREFUSED') return fail(`connection refused by ${where}: is sshd running and listening on port ${options.port}?`);
        if (error.level === 'client-timeout') return fail(`cannot connect to ${where}: no answer within ${options.connectTimeoutMs} ms`);
        fail(`cannot connect to ${where}: ${error.message}`);
      });
      client.once('close', () => {
        clearTimeout(timer);
        fail(hostKeyFailure ?? `connection to ${where} closed during login`);
      });
      client.connect(config);
      client.setNoDelay(true); // small requests and replies: Nagle + delayed ACK would add ~40 ms to each
    });
    const connection = new SshConnection(client, options);
    // Both are needed by nearly every run: their round trips overlap the first task's instead of adding to them.
    connection.sftp().catch(() => undefined);
    connection.keepSpare();
    await connection.removeLeftovers();
    return connection;
  }

  /** The host's coming tasks will stat these paths: read them together on the first stat that needs one. */
  prefetch(reads: readonly ReadAhead[]): void {
    this.cache.announce(reads);
  }

  /** Whether `become` needs sudo, or the login user already is that user. */
  private sudoFor(become: BecomeOptions | undefined): BecomeOptions | undefined {
    return become && become.user !== this.options.user ? become : undefined;
  }

  /**
   * A promise that also fails at once with the connection's UnreachableError if the connection drops, and turns any
   * error seen after a drop into that UnreachableError.
   */
  private guarded<T>(start: (resolve: (value: T) => void, reject: (error: Error) => void) => void, cleanup = false): Promise<T> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.interrupted && !cleanup) return Promise.reject(this.interrupted);
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error) => {
        this.inFlight.delete(fail);
        reject(this.broken ?? error);
      };
      this.inFlight.add(fail);
      start((value) => {
        this.inFlight.delete(fail);
        resolve(value);
      }, fail);
    });
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    // A command may change anything: users, files. Dropped before it starts and again when it ends (a read sent
    // meanwhile may have seen the host half way).
    this.idsStale = true;
    this.cache.invalidate();
    // On a far host the resident shell also checks, right after the command, which paths the coming tasks' `creates`
    // and `removes` name exist: those tasks need no round trip of their own.
    const checkAfter = this.rttMs >= FAR_RTT_MS ? this.cache.pendingExistence() : [];
    let checked: string | undefined;
    try {
      const { checked: found, ...result } = await this.execReadOnly(command, options, { checkAfter });
      checked = found;
      return result;
    } finally {
      this.idsStale = true;
      this.cache.invalidate();
      if (checked !== undefined) this.cache.storeExistence(checkAfter, checked);
    }
  }

  /** Whether `path` exists: known without a round trip after a read-ahead or a command's existence check, else a stat. */
  async exists(path: string, options: { become?: BecomeOptions } = {}): Promise<boolean> {
    const known = this.sudoFor(options.become) ? undefined : this.cache.exists(path);
    return known ?? (await this.stat(path, options)).exists;
  }

  /** A command that changes nothing the cache holds (a checksum, a stat, a write whose path the caller drops). */
  private execReadOnly(
    command: string,
    options: Omit<ExecOptions, 'stdin'> & { stdin?: string | Buffer | Readable } = {},
    io: { stdout?: Writable; cleanup?: boolean; checkAfter?: readonly string[] } = {},
  ): Promise<ExecResult & { checked?: string }> {
    let script = command;
    if (options.env) {
      const exports = Object.entries(options.env).map(([name, value]) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid environment variable name: ${name}`);
        return `export ${name}=${shellQuote(value)}; `;
      });
      script = exports.join('') + script;
    }
    if (options.cwd) script = `cd ${shellQuote(options.cwd)} || exit 1; ${script}`;
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs;
    // The host kills the whole command after the timeout too (with a second of grace: we give up first), so nothing
    // keeps running there once we have reported the timeout.
    if (timeoutMs !== undefined) script = `exec timeout -s KILL ${(timeoutMs + 1000) / 1000} /bin/sh -c ${shellQuote(script)}`;
    const sudo = this.sudoFor(options.become);
    const password = sudo ? (sudo.password ?? this.options.becomePassword) : undefined;
    let stdin = options.stdin;
    let prefix: Buffer | undefined;
    if (sudo) {
      script = becomeCommand(script, sudo.user, password !== undefined);
      if (password !== undefined) prefix = Buffer.from(`${password}\n`);
    }
    if (prefix && !isStream(stdin)) {
      stdin = Buffer.concat([prefix, Buffer.from(stdin ?? '')]);
      prefix = undefined;
    }
    // Always /bin/sh, whatever the login shell (even a csh) and its rc files are; it prints its pid first (SID_MARK):
    // the login shell exec'd it (or the resident shell's setsid did), so that pid leads the command's session.
    const marked = `printf '${SID_MARK}%s\\n' $$ >&2; ${script}`;
    const remote = `exec /bin/sh -c ${shellQuote(marked)}`;
    const channelIo = { stdin, prefix, stdout: io.stdout, sudo, cleanup: io.cleanup ?? false, onStderr: options.onStderr };
    const inSession = () => this.runChannel(remote, channelIo, timeoutMs, command);
    // A plain command (no other user, no input, output collected) goes to the resident shell when it is free: the
    // same script, run by `setsid /bin/sh -c` in a session of its own, without a new sshd session on the host.
    if (!sudo && stdin === undefined && !io.stdout && !io.cleanup && !options.onStderr && marked.length <= RESIDENT_MAX_COMMAND) {
      const shell = this.residentShell();
      if (shell) return this.runResident(shell, { command: marked, checkAfter: io.checkAfter ?? [] }, timeoutMs, command, inSession);
    }
    return inSession();
  }

  private runChannel(
    remote: string,
    io: { stdin?: string | Buffer | Readable; prefix?: Buffer; stdout?: Writable; sudo?: BecomeOptions; cleanup: boolean; onStderr?: (chunk: string) => void },
    timeoutMs: number | undefined,
    label: string,
  ): Promise<ExecResult> {
    const run = () =>
      this.guarded<ExecResult>((resolve, reject) => {
        this.startCommand(remote, (error: Error | undefined, channel: ClientChannel) => {
          if (error) return reject(new Error(`cannot start a command on ${this.hostName}: ${error.message}`));
          const out: Buffer[] = [];
          const err: Buffer[] = [];
          let rc: number | undefined;
          let timedOut = false;
          const head = new SessionIdHead();
          this.running.set(channel, { sid: head.sid, sudo: io.sudo });
          const timer =
            timeoutMs === undefined
              ? undefined
              : setTimeout(() => {
                  timedOut = true;
                  channel.signal('KILL');
                  channel.close();
                  reject(new CommandTimeoutError(timeoutMs, `command timed out after ${timeoutMs} ms on ${this.hostName}: ${label.slice(0, 200)}`));
                }, timeoutMs);
          if (io.stdout) channel.pipe(io.stdout, { end: false });
          else channel.on('data', (d: Buffer) => out.push(d));
          channel.stderr.on('data', (d: Buffer) => {
            d = head.push(d);
            if (d.length === 0) return;
            err.push(d);
            io.onStderr?.(d.toString());
          });
          channel.on('exit', (code: number | null, signal?: string) => {
            rc = code ?? 128 + ((signal && (constants.signals as Record<string, number>)[`SIG${signal}`]) || 1);
          });
          channel.on('close', () => {
            clearTimeout(timer);
            this.running.delete(channel);
            err.push(head.end());
            if (timedOut) return;
            if (rc === undefined) return reject(new Error(`command on ${this.hostName} ended without an exit status`));
            resolve({ rc, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
          });
          channel.on('error', (e: Error) => reject(new Error(`command on ${this.hostName} failed: ${e.message}`)));
          const stdin = io.stdin;
          if (isStream(stdin)) {
            if (io.prefix) channel.write(io.prefix);
            stdin.on('error', (e: Error) => {
              channel.close();
              reject(new Error(`cannot read what to send to ${this.hostName}: ${e.message}`));
            });
            stdin.pipe(channel);
          } else channel.end(stdin ?? '');
        });
      }, io.cleanup);
    // The cleanup of an interrupted run must not wait behind the commands it ends.
    return io.cleanup ? run() : this.sessions(run);
  }

  /** The resident shell if it is free (started now if there is none yet), else undefined: the command gets a session. */
  private residentShell(): ResidentShell | undefined {
    if (this.resident && !this.resident.retired) return this.resident.busy ? undefined : this.resident;
    const internals = this.client as unknown as ClientInternals;
    if (this.residentRefused || this.broken || this.interrupted || !internals._protocol || !this.spare) return undefined;
    const channel = new Promise<ClientChannel>((resolve, reject) =>
      this.startCommand(`exec /bin/sh -c ${shellQuote(RESIDENT_SCRIPT)}`, (error, started) => (error ? reject(error) : resolve(started))),
    );
    channel.catch(() => undefined);
    this.resident = new ResidentShell(channel);
    return this.resident;
  }

  /** `checkAfter`: paths whose existence the shell checks right after the command (the result's `checked`). */
  private runResident(
    shell: ResidentShell,
    { command, checkAfter }: { command: string; checkAfter: readonly string[] },
    timeoutMs: number | undefined,
    label: string,
    inSession: () => Promise<ExecResult>,
  ): Promise<ExecResult & { checked?: string }> {
    return this.guarded<ExecResult & { checked?: string }>((resolve, reject) => {
      const run = shell.run(command, checkAfter);
      let done = false;
      let timedOut = false;
      let channel: ClientChannel | undefined;
      // Known to interrupt() while it runs: the command's own session is ended, then the shell's channel closed.
      shell.opened.then(
        (ch) => {
          if (done) return;
          channel = ch;
          this.running.set(ch, { sid: run.sid });
        },
        () => undefined,
      );
      const settle = () => {
        done = true;
        clearTimeout(timer);
        if (channel) this.running.delete(channel);
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              shell.kill();
              reject(new CommandTimeoutError(timeoutMs, `command timed out after ${timeoutMs} ms on ${this.hostName}: ${label.slice(0, 200)}`));
            }, timeoutMs);
      run.result.then(
        ({ rc, stdout, stderr, checked }) => {
          settle();
          resolve(checkAfter.length > 0 ? { rc, stdout, stderr, checked } : { rc, stdout, stderr });
        },
        (error: Error) => {
          settle();
          if (timedOut) return; // failed already; never run again in a session
          if (!(error instanceof ResidentUnavailable)) return reject(new Error(`command on ${this.hostName} failed: ${error.message}`));
          // The shell never started (no setsid there): this command and the connection's next ones get sessions.
          this.residentRefused = true;
          inSession().then(resolve, reject);
        },
      );
    });
  }

  /**
   * Start `remote` on the spare channel, sending the exec request, without waiting for its answer, ahead of the
   * command's input: sshd handles a channel's messages in order. Falls back to ssh2's own exec if its internals differ.
   */
  private startCommand(remote: string, started: (error: Error | undefined, channel: ClientChannel) => void): void {
    const internals = this.client as unknown as ClientInternals;
    if (!internals._protocol || !this.spare) {
      this.client.exec(remote, started);
      return;
    }
    const spare = this.spare;
    this.spare = undefined;
    this.keepSpare();
    spare.then(
      (channel) => {
        const chan = channel as unknown as ChannelInternals;
        if (chan.outgoing.state !== 'open') return started(new Error('channel closed'), channel);
        chan._callbacks.push((failed) => {
          if (!failed) return;
          channel.emit('error', new Error('the host refused to start it'));
          channel.close();
        });
        chan.subtype = 'exec';
        chan.allowHalfOpen = true;
        internals._protocol!.exec(chan.outgoing.id, remote, true);
        started(undefined, channel);
      },
      // The channel opened ahead was refused (sshd's MaxSessions, say): open one the ordinary way.
      () => (this.broken ? started(this.broken, undefined as unknown as ClientChannel) : this.client.exec(remote, started)),
    );
  }

  /** Open a session channel for the next command, unless ssh2's internals are not as expected. */
  private keepSpare(): void {
    const internals = this.client as unknown as ClientInternals;
    if (this.spare || this.broken || !internals._chanMgr || !internals._protocol) return;
    const opening = performance.now();
    this.spare = this.guarded<ClientChannel>((resolve, reject) => {
      const callback = Object.assign(
        (error: Error | undefined, channel: ClientChannel) => {
          if (error) return reject(error);
          this.rttMs = Math.min(this.rttMs, performance.now() - opening);
          resolve(channel);
        },
        { type: 'session' },
      );
      const id = internals._chanMgr!.add(callback);
      if (id === -1) return reject(new Error('no free channel'));
      internals._protocol!.session(id, MAX_WINDOW, PACKET_SIZE);
    });
    const opened = this.spare;
    opened.catch(() => {
      if (this.spare === opened) this.spare = undefined;
    });
  }

  /** The one sftp session, opened on first use; a failed attempt is retried next time. */
  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= this.guarded<SFTPWrapper>((resolve, reject) =>
      this.client.sftp((error, sftp) => {
        if (error) return reject(new Error(`cannot start sftp on ${this.hostName}: ${error.message}`));
        sftp.on('close', () => (this.sftpSession = undefined)); // the next file operation opens a new one
        resolve(sftp);
      }),
    ).catch((error: Error) => {
      this.sftpSession = undefined;
      throw error;
    });
    return this.sftpSession;
  }

  /** An sftp request, failed at once with UnreachableError if the connection drops meanwhile. */
  private sftpCall<T = void>(start: (sftp: SFTPWrapper, callback: (error: Error | null | undefined, value: T) => void) => void): Promise<T> {
    return this.sftp().then((sftp) =>
      this.guarded<T>((resolve, reject) => {
        const sent = performance.now();
        start(sftp, (error, value) => {
          // Every answer bounds the round trip from above: the least of many is the network's, not a busy moment's.
          this.rttMs = Math.min(this.rttMs, performance.now() - sent);
          if (error) reject(error);
          else resolve(value);
        });
      }),
    );
  }

  async put(path: string, content: Buffer | string, options: PutOptions = {}): Promise<void> {
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    const mode = options.mode ?? 0o644;
    const sudo = this.sudoFor(options.become);
    const tmp = tempBeside(path);
    const done = this.trackTemp(tmp, sudo);
    try {
      // Another user, an owner to set by name, a large file, or a far host: one shell command streams stdin into
      // place and, if the connection drops midway, removes its short temp file itself (an sftp temp file would stay
      // behind). On the spare channel it is one round trip; sftp needs three (open, then write + chmod + close, then
      // rename: never renamed before the write is known to be complete).
      const far = this.rttMs >= FAR_RTT_MS;
      if (sudo || options.owner || options.group || data.length > SFTP_PUT_MAX_BYTES || far) {
        // Small text goes in the command line: one round trip (input would wait for sshd's window, one more).
        const inline = data.length <= INLINE_PUT_MAX_BYTES ? inlinePutCommand(path, { ...options, mode }, data, tmp) : undefined;
        const r = inline
          ? await this.execReadOnly(inline, { become: sudo })
          : await this.execReadOnly(atomicPutCommand(path, { ...options, mode }, { bytes: data.length }, tmp), { stdin: data, become: sudo });
        if (r.rc !== 0) throw new Error(`cannot write ${path} on ${this.hostName}: ${r.stderr.trim() || `exit ${r.rc}`}`);
        done();
        return;
      }
      await this.sftpPut(path, tmp, data, mode);
      done();
    } finally {
      if (!this.broken && !this.interrupted) done(); // the write removed its temp file itself
      this.cache.invalidate(path);
      if (path === '/etc/passwd' || path === '/etc/group') this.idCache = undefined;
    }
  }

  /**
   * A controller file streamed into place by one command (stdin → temp file → sha256 checked on the host → rename):
   * memory stays bounded by ssh2's channel window whatever the size.
   */
  async putFile(path: string, file: LocalFile, options: PutOptions = {}): Promise<void> {
    const sudo = this.sudoFor(options.become);
    const tmp = tempBeside(path);
    const done = this.trackTemp(tmp, sudo);
    try {
      const command = atomicPutCommand(path, { ...options, mode: options.mode ?? 0o644 }, { bytes: file.size, sha256: file.sha256 }, tmp);
      const r = await this.execReadOnly(command, { stdin: createReadStream(file.localPath), become: sudo });
      if (r.rc !== 0) throw new Error(`cannot write ${path} on ${this.hostName}: ${r.stderr.trim() || `exit ${r.rc} (the content arrived incomplete or changed)`}`);
    } finally {
      if (!this.broken && !this.interrupted) done();
      this.cache.invalidate(path);
    }
  }

  /** A file's content streamed by `cat` on the host (the channel's window bounds what is held here). */
  readStream(path: string, options: { become?: BecomeOptions } = {}): Readable {
    const out = new PassThrough();
    const p = shellQuote(path);
    this.execReadOnly(`if [ -e ${p} ]; then exec cat -- ${p}; else echo 'no such file' >&2; exit 3; fi`, { become: this.sudoFor(options.become) }, { stdout: out }).then(
      (r) => (r.rc === 0 ? out.end() : out.destroy(new Error(`cannot read ${path} on ${this.hostName}: ${r.stderr.trim() || `exit ${r.rc}`}`))),
      (error: Error) => out.destroy(error),
    );
    return out;
  }

  /**
   * Stop: new calls fail, the sftp session ends (what it was asked is done or dropped before anything is removed),
   * then one command per sudo user ends every running command's whole session (TERM, then KILL what is left) and
   * removes the temp files of writes in flight; what was in flight then fails with InterruptedError.
   */
  interrupt(): Promise<void> {
    if (this.broken || this.interrupted) return this.cleaning ?? Promise.resolve();
    this.interrupted = new InterruptedError(this.hostName);
    this.cleaning = this.endWork(this.interrupted);
    return this.cleaning;
  }

  private async endWork(interrupted: InterruptedError): Promise<void> {
    const within = <T>(p: Promise<T>, ms: number, fallback: T): Promise<T> =>
      Promise.race([p, new Promise<T>((r) => setTimeout(() => r(fallback), ms).unref())]);
    const sftp = this.sftpSession;
    this.sftpSession = undefined;
    if (sftp) {
      await within(
        sftp.then((s) => new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.end();
        })),
        2000,
        undefined,
      ).catch(() => undefined);
    }
    const work = new Map<string, { sudo?: BecomeOptions; sids: number[]; temps: string[] }>();
    const entry = (sudo: BecomeOptions | undefined) => {
      const key = sudo?.user ?? '';
      if (!work.has(key)) work.set(key, { sudo, sids: [], temps: [] });
      return work.get(key)!;
    };
    const running = [...this.running];
    for (const [, { sid, sudo }] of running) {
      const id = await within(sid, 2000, undefined);
      if (id !== undefined && Number.isInteger(id) && id > 1) entry(sudo).sids.push(id);
    }
    for (const [tmp, sudo] of this.temps) entry(sudo).temps.push(tmp);
    await Promise.all(
      [...work.values()].map(({ sudo, sids, temps }) => {
        const steps: string[] = [];
        if (sids.length > 0) {
          // Without pkill (procps), the process group of each session's leader: all but what moved to a group of its own.
          const end = (signal: string) =>
            `if command -v pkill >/dev/null; then pkill -${signal} -s ${sids.join(',')}; else kill -${signal} -- ${sids.map((id) => `-${id}`).join(' ')} 2>/dev/null; fi`;
          steps.push(`${end('TERM')}; sleep 0.3; ${end('KILL')}`);
        }
        if (temps.length > 0) steps.push(`rm -f -- ${temps.map(shellQuote).join(' ')}`);
        return this.execReadOnly(`${steps.join('; ')}; exit 0`, { become: sudo, timeoutMs: 10_000 }, { cleanup: true }).catch(() => undefined);
      }),
    );
    this.temps.clear();
    for (const [channel] of running) channel.close();
    for (const fail of [...this.inFlight]) fail(interrupted);
    this.inFlight.clear();
  }

  /**
   * A directory over sftp, no process on the host: mkdir with the mode and an lstat, sent together (the server handles
   * them in order); only when the server's umask cut the mode, the parent's setgid bit was inherited or the owner
   * differs, then owner and group, the exact mode and an lstat. One round trip (two then), and the host's other cached
   * reads stay (a command would drop them all).
   */
  async mkdir(path: string, options: MkdirOptions = {}): Promise<FileStat | undefined> {
    if (this.sudoFor(options.become) || (options.owner === undefined) !== (options.group === undefined)) return undefined;
    // Without an owner to set, the names are needed only for the answer: the directory is made while they are read.
    const names = this.idNames();
    names.catch(() => undefined);
    let uid: number | undefined;
    let gid: number | undefined;
    if (options.owner !== undefined && options.group !== undefined) {
      let ids: IdNames;
      try {
        ids = await names;
      } catch {
        if (this.broken) throw this.broken;
        return undefined;
      }
      uid = idOf(options.owner, ids.users);
      gid = idOf(options.group, ids.groups);
      if (uid === undefined || gid === undefined) return undefined;
    }
    // mkdir with the mode asked for and an lstat, sent together: when the server's umask and the parent's setgid bit
    // left the mode as asked and the owner is already right (the usual case), that is all: one round trip.
    const made = this.sftpCall((s, cb) => (options.mode === undefined ? s.mkdir(path, cb) : s.mkdir(path, { mode: options.mode }, cb)));
    const first = this.sftpCall<Stats>((s, cb) => s.lstat(path, cb));
    // A far host that changes something will likely write files and run commands next, both in the resident shell:
    // started now, sshd's opening of its input window (a round trip) passes while this and the next tasks run.
    if (this.rttMs >= FAR_RTT_MS) this.residentShell();
    first.catch(() => undefined);
    try {
      await made;
    } catch {
      if (this.broken) throw this.broken;
      return undefined; // nothing made: the caller's command says why, as it always has
    } finally {
      this.cache.invalidate(path);
    }
    try {
      const seen = await first;
      const ownerRight = uid === undefined || (seen.uid === uid && seen.gid === gid);
      const modeRight = options.mode === undefined || (seen.mode & 0o7777) === options.mode;
      let attrs = seen;
      if (!ownerRight || !modeRight) {
        const owned = ownerRight ? undefined : this.sftpCall((s, cb) => s.setstat(path, { uid, gid }, cb));
        const moded = modeRight ? undefined : this.sftpCall((s, cb) => s.setstat(path, { mode: options.mode }, cb));
        [, , attrs] = await Promise.all([owned, moded, this.sftpCall<Stats>((s, cb) => s.lstat(path, cb))]);
      }
      const ids = await names.catch(() => undefined);
      const after = ids && statOf(attrs, ids.users, ids.groups);
      return after ?? (await this.stat(path));
    } catch (error) {
      throw this.broken ?? new Error(`cannot set the attributes of ${path} on ${this.hostName}: ${messageOf(error)}`);
    } finally {
      this.cache.invalidate(path);
    }
  }

  private async sftpPut(path: string, tmp: string, data: Buffer, mode: number): Promise<void> {
    let handle: Buffer | undefined;
    try {
      handle = await this.sftpCall<Buffer>((s, cb) => s.open(tmp, 'wx', { mode: 0o600 }, cb));
      const opened = handle;
      // Sent together: the server handles them in order. In chunks every server takes (ssh2 would send the rest of a
      // larger write only once its first part is answered: after the close, which then fails the write).
      const chunks: Array<Promise<void>> = [];
      for (let at = 0; at < data.length; at += READ_CHUNK) {
        const position = at;
        const length = Math.min(READ_CHUNK, data.length - at);
        chunks.push(this.sftpCall<void>((s, cb) => s.write(opened, data, position, length, position, (error) => cb(error, undefined))));
      }
      const written = Promise.all(chunks);
      const moded = this.sftpCall((s, cb) => s.fchmod(opened, mode, cb));
      const closed = this.sftpCall((s, cb) => s.close(opened, cb));
      const results = await Promise.allSettled([written, moded, closed]);
      if (results[2].status === 'fulfilled') handle = undefined;
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      await this.sftpCall((s, cb) => s.ext_openssh_rename(tmp, path, cb));
    } catch (error) {
      if (!this.broken && !this.interrupted) {
        const opened = handle;
        if (opened) await this.sftpCall((s, cb) => s.close(opened, cb)).catch(() => undefined);
        await this.sftpCall((s, cb) => s.unlink(tmp, cb)).catch(() => undefined);
      }
      throw this.broken ?? this.interrupted ?? new Error(`cannot write ${path} on ${this.hostName}: ${messageOf(error)}`);
    }
  }

  async get(path: string, options: { become?: BecomeOptions } = {}): Promise<Buffer | null> {
    const sudo = this.sudoFor(options.become);
    if (sudo) {
      const p = shellQuote(path);
      const r = await this.execReadOnly(`if [ -e ${p} ]; then cat -- ${p}; else exit 3; fi`, { become: sudo });
      if (r.rc === 3) return null;
      if (r.rc !== 0) throw new Error(`cannot read ${path} on ${this.hostName}: ${r.stderr.trim()}`);
      return Buffer.from(r.stdout);
    }
    try {
      return (await this.readWhole(path)).content;
    } catch (error) {
      if (this.broken) throw this.broken;
      if ((error as { code?: unknown }).code === 2) return null; // SSH_FX_NO_SUCH_FILE
      throw new Error(`cannot read ${path} on ${this.hostName}: ${messageOf(error)}`);
    }
  }

  /** A file's content and attributes in two round trips: stat and open together, then every read and the close. */
  private async readWhole(path: string): Promise<{ content: Buffer; attrs: Stats }> {
    const attrsRead = this.sftpCall<Stats>((s, cb) => s.stat(path, cb));
    const opened = this.sftpCall<Buffer>((s, cb) => s.open(path, 'r', cb));
    const [attrs, handle] = await Promise.all([attrsRead, opened.catch((error: unknown) => attrsRead.then(() => Promise.reject(error)))]);
    const content = (await this.readOpen(handle, attrs.size)) ?? (await this.sftpCall<Buffer>((s, cb) => s.readFile(path, cb))); // it grew meanwhile
    return { content, attrs };
  }

  /**
   * Read an open file expected to hold `size` bytes, all reads sent at once, then close it (also sent at once).
   * Undefined when it holds more (changed meanwhile: the caller reads it again another way).
   */
  private async readOpen(handle: Buffer, size: number): Promise<Buffer | undefined> {
    const reads: Array<Promise<Buffer>> = [];
    // One chunk past the expected end, to see the end of the file.
    for (let at = 0; at <= size; at += READ_CHUNK) {
      const position = at;
      // No larger than what is left (and one byte past it): most files are small, most reads need little room.
      const length = Math.min(READ_CHUNK, size + 1 - at);
      reads.push(
        this.sftpCall<Buffer>((s, cb) => {
          const buffer = Buffer.allocUnsafe(length);
          s.read(handle, buffer, 0, length, position, (error, bytes) => cb(error, error ? buffer : buffer.subarray(0, bytes)));
        }).catch((error: unknown) => {
          if ((error as { code?: unknown }).code === 1) return Buffer.alloc(0); // SSH_FX_EOF
          throw error;
        }),
      );
    }
    const closed = this.sftpCall((s, cb) => s.close(handle, cb));
    const [chunks] = await Promise.all([Promise.all(reads), closed]);
    const content = Buffer.concat(chunks);
    return content.length === size ? content : undefined;
  }

  /**
   * Without become: from the read-ahead cache, or sftp (lstat, and the file read to hash it: ~0.2 ms a request, all
   * of a batch sent together), with owner and group names from the host's /etc/passwd and /etc/group. Otherwise, or
   * for ids those files do not name (NSS users), one command that brings names and checksum in the same round trip.
   */
  async stat(path: string, options: StatOptions = {}): Promise<FileStat> {
    const sudo = this.sudoFor(options.become);
    const follow = options.follow ?? false;
    const checksum = options.checksum ?? false;
    if (!sudo) {
      const cached = this.cache.lookup(path, follow, checksum);
      if (cached) return cached;
      const inFlight = this.batches.get(path);
      if (inFlight) await inFlight.catch(() => undefined);
      // A failed batch stores nothing: the single stat below reports the error as it is.
      else {
        // Near, a round trip costs less than reading paths again after every command: a few go along, none right
        // after a command (a cold run would read every coming path again after each of its commands).
        const near = this.cache.empty ? 0 : NEAR_BATCH;
        const along = this.cache.pending(this.rttMs >= FAR_RTT_MS ? undefined : near).filter((r) => r.path !== path);
        await this.readBatch([{ path, checksum }, ...along], follow ? [path] : []).catch(() => undefined);
      }
      const read = this.cache.lookup(path, follow, checksum);
      if (read) return read;
      // Not stored (something changed meanwhile, or names or the file were not readable over sftp): read it alone.
      const fast = await this.sftpStat(path, follow);
      if (fast && (!checksum || !fast.exists || fast.type !== 'file')) return fast;
    }
    const r = await this.execReadOnly(statCommand(path, options), { become: sudo });
    if (r.rc !== 0) throw new Error(`cannot stat ${path} on ${this.hostName}: ${r.stderr.trim()}`);
    return parseStat(r.stdout);
  }

  /**
   * Read many paths in two round trips: lstat (stat when followed) and, for checksums, an open of each; then the
   * reads of the open files, their closes, and the targets of links. Larger files are hashed on the host, all in one
   * command. What it read goes to the cache, unless anything changed meanwhile.
   */
  private readBatch(reads: ReadAhead[], followed: string[]): Promise<void> {
    const batch = this.readBatchNow(reads, followed);
    for (const { path } of reads) this.batches.set(path, batch);
    const done = () => {
      for (const { path } of reads) if (this.batches.get(path) === batch) this.batches.delete(path);
    };
    batch.then(done, done);
    return batch;
  }

  private async readBatchNow(reads: ReadAhead[], followed: string[]): Promise<void> {
    const epoch = this.cache.begin();
    // Names are needed only for paths that exist: a batch of missing ones (a cold run's) is stored without them.
    const ids = this.idNames();
    ids.catch(() => undefined);
    const notFound = (error: unknown) => {
      if (this.broken) throw this.broken;
      if ((error as { code?: unknown }).code === 2) return undefined; // also ENOTDIR on OpenSSH
      throw error;
    };
    const first = reads.map(({ path, checksum }) => ({
      path,
      lstat: this.sftpCall<Stats>((s, cb) => s.lstat(path, cb)).catch(notFound),
      stat: followed.includes(path) ? this.sftpCall<Stats>((s, cb) => s.stat(path, cb)).catch(notFound) : undefined,
      handle: checksum ? this.sftpCall<Buffer>((s, cb) => s.open(path, 'r', cb)).catch(() => undefined) : undefined,
    }));
    const large: Array<{ path: string; stat: FileStat }> = [];
    // Every first answer before any second request: the second round leaves in one burst.
    const answers = await Promise.all(first.map(({ lstat, stat, handle }) => Promise.all([lstat, stat, handle])));
    const { users, groups } = answers.some(([attrs]) => attrs) ? await ids : { users: new Map(), groups: new Map() };
    await Promise.all(
      first.map(async ({ path, handle }, i) => {
        const [attrs, followedAttrs, opened] = answers[i];
        const own = attrs ? statOf(attrs, users, groups) : { exists: false };
        if (!own) {
          if (opened) await this.sftpCall((s, cb) => s.close(opened, cb)).catch(() => undefined);
          return; // an id without a name: stat() asks the host
        }
        const pending: Array<Promise<unknown>> = [];
        if (own.type === 'link') pending.push(this.sftpCall<string>((s, cb) => s.readlink(path, cb)).then((target) => (own.target = target)));
        if (opened && own.type === 'file' && (own.size ?? Infinity) <= SFTP_CHECKSUM_MAX) {
          pending.push(this.readOpen(opened, own.size!).then((content) => content && (own.sha256 = createHash('sha256').update(content).digest('hex'))));
        } else {
          if (opened) pending.push(this.sftpCall<void>((s, cb) => s.close(opened, cb)));
          if (own.type === 'file' && handle) large.push({ path, stat: own });
        }
        await Promise.all(pending);
        if (large.some((l) => l.stat === own)) return; // stored with its checksum below
        this.cache.store(epoch, path, false, own);
        if (followed.includes(path)) {
          const target = followedAttrs ? statOf(followedAttrs, users, groups) : { exists: false };
          if (target) this.cache.store(epoch, path, true, target);
        }
      }),
    );
    if (large.length === 0) return;
    const r = await this.execReadOnly(`sha256sum -- ${large.map((l) => shellQuote(l.path)).join(' ')}`);
    const sums = new Map<string, string>();
    for (const line of r.stdout.split('\n')) {
      const match = /^([0-9a-f]{64}) [ *](.*)$/.exec(line);
      if (match) sums.set(match[2], match[1]);
    }
    for (const { path, stat } of large) {
      const sum = sums.get(path);
      if (sum) this.cache.store(epoch, path, false, { ...stat, sha256: sum });
    }
  }

  /** The stat from sftp, or undefined when an id has no name in the host's files. */
  private async sftpStat(path: string, follow: boolean): Promise<FileStat | undefined> {
    let attrs: Stats;
    try {
      attrs = await this.sftpCall<Stats>((s, cb) => (follow ? s.stat(path, cb) : s.lstat(path, cb)));
    } catch (error) {
      if (this.broken) throw this.broken;
      if ((error as { code?: unknown }).code === 2) return { exists: false }; // also ENOTDIR on OpenSSH
      throw new Error(`cannot stat ${path} on ${this.hostName}: ${messageOf(error)}`);
    }
    const ids = await this.idNames();
    const stat = statOf(attrs, ids.users, ids.groups);
    if (stat?.type === 'link') stat.target = await this.sftpCall<string>((s, cb) => s.readlink(path, cb));
    return stat;
  }

  /**
   * uid/gid → name from the host's files, read once. After a command (which may add users) the two files are only
   * stat'ed, in the same round trip as the stats that need the names, and read again if their size or time changed.
   */
  private idNames(): Promise<IdNames> {
    const read = async (file: string) => {
      const names = new Map<number, string>();
      let stamp = '';
      try {
        const { content, attrs } = await this.readWhole(file);
        stamp = stampOf(attrs);
        for (const line of content.toString().split('\n')) {
          const [name, , id] = line.split(':');
          if (name && id !== undefined && !names.has(Number(id))) names.set(Number(id), name);
        }
      } catch (error) {
        if (this.broken) throw this.broken;
        if ((error as { code?: unknown }).code !== 2) throw error;
      }
      return { names, stamp };
    };
    const readBoth = () =>
      Promise.all([read('/etc/passwd'), read('/etc/group')]).then(([users, groups]) => ({
        users: users.names,
        groups: groups.names,
        stamp: `${users.stamp} ${groups.stamp}`,
      }));
    const cached = this.idCache;
    if (cached && this.idsStale) {
      this.idsStale = false;
      const stamp = (file: string) => this.sftpCall<Stats>((s, cb) => s.stat(file, cb)).then(stampOf, () => '');
      this.idCache = Promise.all([cached, stamp('/etc/passwd'), stamp('/etc/group')]).then(([ids, users, groups]) =>
        ids.stamp === `${users} ${groups}` ? ids : readBoth(),
      );
    }
    this.idCache ??= readBoth();
    const current = this.idCache;
    current.catch(() => {
      if (this.idCache === current) this.idCache = undefined;
    });
    return current;
  }

  async close(): Promise<void> {
    // An interrupted run's tasks may end before its cleanup command has: closing now would leave it half done.
    await this.cleaning?.catch(() => undefined);
    if (this.broken) return;
    const closed = new Promise<void>((resolve) => this.client.once('close', () => resolve()));
    this.broken = new UnreachableError(this.hostName, `connection to ${this.where} was closed`);
    this.client.end();
    await closed;
  }
}

function isStream(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function';
}

/** A FileStat from sftp attributes, or undefined when the owner or group has no name in the host's files. */
function statOf(attrs: Stats, users: Map<number, string>, groups: Map<number, string>): FileStat | undefined {
  const owner = users.get(attrs.uid);
  const group = groups.get(attrs.gid);
  if (owner === undefined || group === undefined) return undefined;
  const kind = attrs.mode & 0o170000;
  const type = kind === 0o100000 ? 'file' : kind === 0o040000 ? 'directory' : kind === 0o120000 ? 'link' : 'other';
  return { exists: true, type, mode: attrs.mode & 0o7777, owner, group, uid: attrs.uid, gid: attrs.gid, size: attrs.size, mtime: attrs.mtime };
}

/** A uid or gid: a number as it is, a name through the host's files; undefined when they do not name it. */
function idOf(given: string, names: Map<number, string>): number | undefined {
  if (/^\d+$/.test(given)) return Number(given);
  for (const [id, name] of names) if (name === given) return id;
  return undefined;
}

interface IdNames {
  users: Map<number, string>;
  groups: Map<number, string>;
  /** Size and modification time of /etc/passwd and /etc/group when read. */
  stamp: string;
}

function stampOf(attrs: Stats): string {
  return `${attrs.size}:${attrs.mtime}`;
}

/**
 * ssh2 sends its keepalive ping every interval even while the host answers all the time (it restarts the interval only
 * on replies to requests): with hundreds of hosts in a long run, one round trip per host every 5 s, on top of the work.
 * As OpenSSH's ServerAliveInterval, ping only a quiet host: anything it sends restarts the interval (at most every
 * quarter interval, up to a second: a restart is a new timer). A host that stops answering is still given up after
 * the same pings.
 */
function pingOnlyWhenQuiet(client: ssh2.Client, intervalMs: number): void {
  const internals = client as unknown as { _sock?: Socket; _resetKA?: () => void };
  const sock = internals._sock;
  const reset = internals._resetKA;
  if (!sock || typeof reset !== 'function') return;
  if (!(intervalMs > 0)) return;
  const every = Math.min(1000, intervalMs / 4);
  let last = performance.now();
  sock.on('data', () => {
    const now = performance.now();
    if (now - last < every) return;
    last = now;
    reset();
  });
}

/**
 * ssh2 writes every packet to the socket on its own: a batch of pipelined requests would be one system call each.
 * Writes made in one turn of the event loop go out together (cork, then uncork once the turn's promises have run).
 */
function coalesceWrites(client: ssh2.Client): void {
  const sock = (client as unknown as { _sock?: Socket })._sock;
  if (!sock || typeof sock.cork !== 'function') return;
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  let corked = false;
  sock.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      sock.cork();
      setImmediate(() => {
        corked = false;
        sock.uncork();
      });
    }
    return write(...args);
  }) as Socket['write'];
}
