// One /bin/sh per SSH connection that stays and starts the connection's plain commands one after another, as Mitogen's
// resident interpreter does: a new command costs the host a fork of that shell (and the command's own programs)
// instead of a new sshd session, login shell and /bin/sh (on the lab fleet, 10 hosts at once: 13 against 72 ms a
// command). This file owns the shell's loop and how a command's output and exit status are told apart from the next.
//
// Protocol: the controller writes a random end marker on a line, the command's lines, then the marker again. The
// shell runs the command with setsid, in a session and process group of its own as sshd would give it (a program that
// signals its own process group, as keepalived's config test does, must not reach the resident shell), with /dev/null
// as its input (as a command whose channel input is closed sees). The command (the script ssh.ts gives a session's
// `/bin/sh -c`) prints SID_MARK and its pid first on its error output: the session id interrupt() ends. Then the shell prints
// `<marker> <exit status> <checked>\n` on its output and `<marker>\n` on its error output, right after whatever the
// command printed. Lines after `<marker>-after` are the shell's own, run after the command (existenceCheck: which paths
// the coming tasks name exist, in the same round trip); `<checked>` is what they found. The marker is sent as data,
// never in a command line, so a command cannot print it by accident.

import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { SessionIdHead } from './session-id.ts';
import { shellQuote } from '../core/shell.ts';

/** The shell's first line on its error output: whether it can give each command a session (it needs setsid). */
const READY = 'kplay-resident=ready\n';

/** Commands longer than this start a session of their own: the shell's `read` takes its input a byte at a time. */
export const RESIDENT_MAX_COMMAND = 8 * 1024;

/**
 * The shell's loop (POSIX sh: dash, bash, busybox), on one line: the login shell that starts it may be a csh, which
 * takes no newline inside quotes. Its variables are not exported: commands never see them. Without setsid it says
 * nothing and ends, and commands get sessions as before.
 */
export const RESIDENT_SCRIPT = [
  'command -v setsid >/dev/null 2>&1 || exit 0',
  `printf '${READY.replace('\n', '\\n')}' >&2`,
  "kplay_nl=$(printf '\\n_')",
  'kplay_nl=${kplay_nl%_}',
  'while IFS= read -r kplay_end; do kplay_cmd=; kplay_after=; kplay_into=cmd',
  'while IFS= read -r kplay_line; do [ "$kplay_line" = "$kplay_end" ] && break',
  'if [ "$kplay_line" = "$kplay_end-after" ]; then kplay_into=after',
  'elif [ "$kplay_into" = cmd ]; then kplay_cmd="$kplay_cmd$kplay_line$kplay_nl"',
  'else kplay_after="$kplay_after$kplay_line$kplay_nl"; fi; done',
  'setsid /bin/sh -c "$kplay_cmd" </dev/null',
  'kplay_rc=$?',
  'kplay_checked=',
  'eval "$kplay_after"',
  `printf '%s %s %s\\n' "$kplay_end" "$kplay_rc" "$kplay_checked"`,
  `printf '%s\\n' "$kplay_end" >&2; done`,
].join('; ');

/**
 * The shell's own lines that say, right after a command, which of `paths` exist (a link counts, dangling or not): one
 * character each on the status line, `1` it exists, `0` it does not (its folder is there and searchable), `?` not known.
 * Only builtins: the host starts no process for them. The paths are a task's, quoted: nothing from the host is run.
 */
export function existenceCheck(paths: readonly string[]): string {
  const mark = (c: string) => `kplay_checked="\${kplay_checked}${c}"`;
  const folder = '"${kplay_p%/*}/"';
  return (
    `for kplay_p in ${paths.map(shellQuote).join(' ')}; do ` +
    `if [ -e "$kplay_p" ] || [ -L "$kplay_p" ]; then ${mark('1')}; ` +
    `elif [ -d ${folder} ] && [ -x ${folder} ]; then ${mark('0')}; else ${mark('?')}; fi; done`
  );
}

/** The shell could not start (no setsid on the host, or its channel failed): the command needs a session of its own. */
export class ResidentUnavailable extends Error {}

export interface ResidentResult {
  rc: number;
  stdout: string;
  stderr: string;
  /** What existenceCheck() found after the command, one character per path asked (empty when none was). */
  checked: string;
}

/** Collects one stream until `marker` shows up in it (possibly split across chunks); what follows it is the rest. */
class Until {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  /** The last bytes seen, where the start of a marker split across chunks may be. */
  private tail = Buffer.alloc(0);
  constructor(private readonly marker: Buffer) {}
  /** The bytes before the marker and those after it, once the marker has arrived. */
  push(chunk: Buffer): { before: Buffer; after: Buffer } | undefined {
    const window = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const at = window.indexOf(this.marker);
    const start = this.length - this.tail.length; // where `window` begins in the stream
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (at < 0) {
      this.tail = Buffer.from(window.subarray(Math.max(0, window.length - (this.marker.length - 1))));
      return undefined;
    }
    const all = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks);
    return { before: all.subarray(0, start + at), after: all.subarray(start + at + this.marker.length) };
  }
}

/** One command's run in the shell: its session id once it said it, and its result. */
export interface ResidentRun {
  sid: Promise<number | undefined>;
  result: Promise<ResidentResult>;
}

/**
 * The shell on one channel (its exec request already sent). `run` sends one command at a time; while one runs,
 * `busy` is true and the caller starts the next command its usual way. Once the channel closes, or something comes
 * when no command runs (a process a command left behind still writing), the shell is `retired` and never used again.
 */
export class ResidentShell {
  busy = false;
  retired = false;
  private channel: ClientChannel | undefined;
  /** The channel, once open (interrupt() closes it after ending the session of what runs). */
  readonly opened: Promise<ClientChannel>;
  /** Whether the shell said READY: until then a command that fails may run as a session of its own instead. */
  private ready = false;
  private onOut: ((chunk: Buffer) => void) | undefined;
  private onErr: ((chunk: Buffer) => void) | undefined;
  private onGone: ((reason: Error) => void) | undefined;

  /** `channel`: the session whose exec request for `/bin/sh -c RESIDENT_SCRIPT` is sent. */
  constructor(channel: Promise<ClientChannel>) {
    const gone = (error: Error) => {
      this.retired = true;
      this.onGone?.(this.ended(error.message));
    };
    this.opened = channel;
    channel.then(
      (ch) => {
        this.channel = ch;
        // What the login shell's rc files print before READY is dropped: it is nobody's output.
        let head: Buffer | undefined = Buffer.alloc(0);
        ch.on('data', (chunk: Buffer) => (this.onOut ? this.onOut(chunk) : this.retire()));
        ch.stderr.on('data', (chunk: Buffer) => {
          if (head) {
            head = Buffer.concat([head, chunk]);
            const at = head.indexOf(READY);
            if (at < 0) return;
            this.ready = true;
            chunk = head.subarray(at + READY.length);
            head = undefined;
            if (chunk.length === 0) return;
          }
          if (this.onErr) this.onErr(chunk);
          else this.retire();
        });
        ch.on('close', () => gone(new Error('the resident shell ended')));
        ch.on('error', (error: Error) => gone(error));
        if (this.retired) ch.close();
      },
      (error: Error) => gone(error),
    );
  }

  /** Why a command could not run: the shell ended, or never started (ResidentUnavailable: a session may run it). */
  private ended(reason: string): Error {
    return this.ready ? new Error(reason) : new ResidentUnavailable(reason);
  }

  /** Stop using it: its input ends, so the shell exits once what it runs is done. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.channel?.end();
  }

  /** Drop it now (a command timed out or the run is interrupted): the channel closes. */
  kill(): void {
    this.retired = true;
    this.channel?.close();
  }

  /**
   * Runs `command` (a /bin/sh script that prints SID_MARK first); its result fails if the shell ends first,
   * with ResidentUnavailable if the shell never started. Not called while `busy` or `retired`.
   */
  run(command: string, checkAfter: readonly string[] = []): ResidentRun {
    this.busy = true;
    const end = `kplay-end-${randomBytes(16).toString('hex')}`;
    const outUntil = new Until(Buffer.from(`${end} `));
    const errUntil = new Until(Buffer.from(`${end}\n`));
    const head = new SessionIdHead();
    const result = new Promise<ResidentResult>((resolve, reject) => {
      let stdout: Buffer | undefined;
      let rc: number | undefined;
      let checked = '';
      let stderr: Buffer | undefined;
      let statusLine = Buffer.alloc(0);
      const finish = () => {
        if (stdout === undefined || rc === undefined || stderr === undefined) return;
        this.onOut = this.onErr = this.onGone = undefined;
        this.busy = false;
        resolve({ rc, stdout: stdout.toString(), stderr: stderr.toString(), checked });
      };
      const status = (rest: Buffer) => {
        statusLine = Buffer.concat([statusLine, rest]);
        const nl = statusLine.indexOf(10);
        if (nl < 0) return;
        const [code, found = ''] = statusLine.subarray(0, nl).toString().split(' ');
        rc = Number(code);
        checked = found;
        if (nl + 1 < statusLine.length) this.retire(); // more output after the status: a process left behind
        finish();
      };
      this.onOut = (chunk) => {
        if (stdout !== undefined) return status(chunk);
        const found = outUntil.push(chunk);
        if (!found) return;
        stdout = found.before;
        status(found.after);
      };
      this.onErr = (chunk) => {
        if (stderr !== undefined) return this.retire();
        const found = errUntil.push(head.push(chunk));
        if (!found) return;
        stderr = found.before; // the marker came through head: its first line is read
        if (found.after.length > 0) this.retire();
        finish();
      };
      this.onGone = (error) => {
        this.onOut = this.onErr = this.onGone = undefined;
        this.busy = false;
        head.end();
        reject(error);
      };
      if (this.retired) return this.onGone(this.ended('the resident shell ended'));
      const after = checkAfter.length > 0 ? `${end}-after\n${existenceCheck(checkAfter)}\n` : '';
      void this.opened.then((ch) => ch.write(`${end}\n${command}\n${after}${end}\n`), () => undefined);
    });
    return { sid: head.sid, result };
  }
}
