// File operations as single POSIX shell commands: one round trip each on any connection that can `exec`.

import { type FileStat, type FileType, type PutOptions } from './connection.ts';
import { shellQuote } from '../core/shell.ts';
import { tempBeside } from '../core/temp-path.ts';

const STAT_FORMAT = '%F|%a|%U|%G|%u|%g|%s|%Y';

/** One command that prints what `parseStat` reads: type, mode, owner, size, link target and (optionally) sha256. */
export function statCommand(path: string, options: { checksum?: boolean; follow?: boolean } = {}): string {
  const p = shellQuote(path);
  const follow = options.follow ? '-L ' : '';
  const sum = options.checksum ? `; if [ -f ${p} ]; then sha256sum < ${p} | cut -d' ' -f1; else echo -; fi` : '; echo -';
  return (
    `if [ -e ${p} ] || [ -L ${p} ]; then stat ${follow}-c '${STAT_FORMAT}' -- ${p}; ` +
    `if [ -L ${p} ]; then readlink -- ${p}; else echo; fi${sum}; else echo ABSENT; fi`
  );
}

function fileType(statType: string): FileType {
  if (statType.startsWith('regular')) return 'file';
  if (statType === 'directory') return 'directory';
  if (statType === 'symbolic link') return 'link';
  return 'other';
}

export function parseStat(stdout: string): FileStat {
  const lines = stdout.split('\n');
  if (lines[0] === 'ABSENT') return { exists: false };
  const [type, mode, owner, group, uid, gid, size, mtime] = lines[0].split('|');
  const stat: FileStat = {
    exists: true,
    type: fileType(type),
    mode: parseInt(mode, 8),
    owner,
    group,
    uid: Number(uid),
    gid: Number(gid),
    size: Number(size),
    mtime: Number(mtime),
  };
  if (lines[1]) stat.target = lines[1];
  if (lines[2] && lines[2] !== '-') stat.sha256 = lines[2];
  return stat;
}

/** What the temp file must hold before it is renamed into place: its size and/or its sha256. */
export interface Expected {
  bytes?: number;
  sha256?: string;
}

/**
 * One command that reads the new content from stdin into the temp file `tmp` beside `path`, sets mode and owner on
 * it, then renames it over the target: a failure at any step (input cut short, a checksum that differs) removes the
 * temp file and leaves the target as it was.
 */
export function atomicPutCommand(path: string, options: PutOptions = {}, expected: Expected = {}, tmpPath = tempBeside(path)): string {
  const tmp = shellQuote(tmpPath);
  const steps = [`umask 077`, `cat > ${tmp}`];
  // Over a network, a dropped connection looks like end of input: never rename a short file into place.
  if (expected.bytes !== undefined) steps.push(`[ "$(stat -c %s ${tmp})" = ${expected.bytes} ]`);
  if (expected.sha256 !== undefined) steps.push(`[ "$(sha256sum < ${tmp} | cut -c1-64)" = ${expected.sha256} ]`);
  return finish(steps, tmp, path, options);
}

function finish(steps: string[], tmp: string, path: string, options: PutOptions): string {
  if (options.mode !== undefined) steps.push(`chmod ${options.mode.toString(8)} ${tmp}`);
  if (options.owner || options.group) {
    steps.push(`chown ${shellQuote(`${options.owner ?? ''}${options.group ? `:${options.group}` : ''}`)} ${tmp}`);
  }
  steps.push(`mv -f ${tmp} ${shellQuote(path)}`);
  return `{ ${steps.join(' && ')}; } || { rc=$?; rm -f ${tmp}; exit $rc; }`;
}

/**
 * The same as `atomicPutCommand` with the content in the command line itself (`printf`, a shell builtin), for small
 * text: no input to wait for (sshd opens a session's input window only once the command runs, a round trip later),
 * and nothing can arrive cut short. Undefined when the content cannot go in a command line (NUL bytes, not UTF-8).
 */
export function inlinePutCommand(path: string, options: PutOptions, content: Buffer, tmpPath = tempBeside(path)): string | undefined {
  const text = content.toString('utf8');
  if (text.includes('\0') || !Buffer.from(text, 'utf8').equals(content)) return undefined;
  const tmp = shellQuote(tmpPath);
  return finish([`umask 077`, `printf %s ${shellQuote(text)} > ${tmp}`], tmp, path, options);
}

/** Wrap a command to run as another user through sudo (-n: never prompt unless a password is piped in). */
export function becomeCommand(command: string, user: string, withPassword: boolean): string {
  const run = `sudo -n -u ${shellQuote(user)} -- /bin/sh -c ${shellQuote(command)}`;
  if (!withPassword) return run;
  // The password is the first line of stdin. This shell reads it and gives it to `sudo -v` alone, so that a sudo
  // that does not ask (NOPASSWD, cached credentials) never passes it on to the command as input.
  return `IFS= read -r kplay_pw; printf '%s\n' "$kplay_pw" | sudo -S -p '' -v 2>/dev/null; unset kplay_pw; ${run}`;
}
