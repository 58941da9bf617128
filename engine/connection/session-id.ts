// The session id a remote command reports before anything else: ssh.ts's command line prints SID_MARK and its pid on
// the error output first, and that pid leads the command's session (sshd or the resident shell's setsid made it so),
// so interrupt() can end all the command started with `pkill -s`. This file owns reading that line off the stream.

/**
 * Printed first on stderr by every command (stripped from what callers see). sshd here (OpenSSH 9.2) ignores the SSH
 * "signal" request, and a pty (whose hangup would end them) would merge stderr into stdout and mangle binary input.
 */
export const SID_MARK = 'kplay-sid=';

/** The start of one command's error output, until its first line (the session id) has been read. */
export class SessionIdHead {
  private head: Buffer | undefined = Buffer.alloc(0);
  readonly sid: Promise<number | undefined>;
  private report: (sid: number | undefined) => void = () => undefined;

  constructor() {
    this.sid = new Promise((resolve) => (this.report = resolve));
  }

  /** The chunk as the caller should see it: empty while the first line is incomplete, without the SID_MARK line. */
  push(chunk: Buffer): Buffer {
    if (!this.head) return chunk;
    const head = Buffer.concat([this.head, chunk]);
    const nl = head.indexOf(10);
    if (nl < 0 && head.length < 64) {
      this.head = head;
      return Buffer.alloc(0);
    }
    const line = nl < 0 ? '' : head.subarray(0, nl).toString();
    const marked = line.startsWith(SID_MARK);
    this.report(marked ? Number(line.slice(SID_MARK.length)) : undefined);
    this.head = undefined;
    return marked ? head.subarray(nl + 1) : head;
  }

  /** The stream ended: what was held back (a first line that never ended), and no session id if none came. */
  end(): Buffer {
    const rest = this.head ?? Buffer.alloc(0);
    this.head = undefined;
    this.report(undefined);
    return rest;
  }
}
