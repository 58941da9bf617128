// get_url: download a URL ON THE HOST (curl, else wget) to a temp file beside dest, check its digest, set mode and
// owner, then rename it over dest. A failed or mismatching download leaves dest as it was and removes the temp file.
//
// As in Ansible: with a checksum (md5, sha1, sha224, sha256, sha384, sha512, or a URL of a sums file), a dest that
// has it already is the download: warm is one exec and nothing is fetched. Without one, a dest that exists is
// compared with what the URL serves now (sent If-Modified-Since the file's time, unless `force`), and replaced only
// when it differs; the content is not verified, and the task says so in a warning. That comparison is in plan(), so
// --check predicts it (Ansible's --check sends a HEAD and reports changed whatever the content).
// Headers and credentials go to curl on its stdin (`-K -`), never in a command line another user could read.

import { tempBeside } from '../core/temp-path.ts';
import { posix } from 'node:path';
import { type ExecResult, type FileStat } from '../connection/connection.ts';
import { shellQuote } from '../core/shell.ts';
import { parseStat, statCommand } from '../connection/shell-ops.ts';
import { ModuleError, defineModule, type ModuleContext, type Plan } from './contract.ts';
import { asBecome, attrChanges, attrCommands, describeChanges, formatMode, hasChanges, resolveMode, type ModeArg } from './file-attrs.ts';
import { omitNulls } from '../core/given.ts';

interface GetUrlArgs {
  url: string;
  dest: string;
  checksum?: string;
  mode?: ModeArg;
  owner?: string;
  group?: string;
  force: boolean;
  timeout: number;
  validate_certs: boolean;
  headers?: Record<string, unknown>;
  url_username?: string;
  url_password?: string;
  force_basic_auth: boolean;
  http_agent: string;
}

/** The digests kplay checks, by the length of their hex, each with its coreutils tool (`<name>sum`). */
const ALGORITHMS: Record<string, number> = { md5: 32, sha1: 40, sha224: 56, sha256: 64, sha384: 96, sha512: 128 };
const MISMATCH_RC = 93;
const NEEDS_CURL_RC = 94;
const MARK = '@@kplay ';

interface Wanted {
  algorithm: string;
  hex?: string;
  sumsUrl?: string;
}

/** curl's config (read from stdin with `-K -`): headers, credentials, user agent. Quoted as curl's parser reads it. */
function curlConfig(args: GetUrlArgs): string {
  const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = [`user-agent = ${quote(args.http_agent)}`];
  for (const [name, value] of Object.entries(args.headers ?? {})) lines.push(`header = ${quote(`${name}: ${String(value)}`)}`);
  if (args.url_username !== undefined) lines.push(`user = ${quote(`${args.url_username}:${args.url_password ?? ''}`)}`);
  return `${lines.join('\n')}\n`;
}

/** Headers or credentials given: only curl can take them without a command line showing them. */
const needsCurl = (args: GetUrlArgs): boolean => Object.keys(args.headers ?? {}).length > 0 || args.url_username !== undefined;

/**
 * Shell words of a function `fetch URL OUT [SINCE]`: curl when there is one, else wget. curl reads its config from
 * stdin and prints `kplay-http <status> <bytes>` on stderr; `meter`: its progress meter too (the live view's bytes);
 * SINCE: a file whose time is sent as If-Modified-Since (a 304 writes nothing).
 */
function fetchFunction(args: GetUrlArgs, meter: boolean): string {
  const t = String(args.timeout);
  // Ansible's timeout is per read, not for the whole download: curl gives up when under 1 byte/s for that long.
  const curl =
    `curl -fSL${meter ? '' : 's'} -K - --connect-timeout ${t} --speed-limit 1 --speed-time ${t}${args.validate_certs ? '' : ' -k'} ` +
    `\${3:+-z "$3"} -w '%{stderr}kplay-http %{http_code} %{size_download}\\n' -o "$2" -- "$1"`;
  const wget = needsCurl(args)
    ? `echo 'headers and url_username/url_password need curl on the host' >&2; return ${NEEDS_CURL_RC}`
    : `wget -q -T ${t} -U ${shellQuote(args.http_agent)}${args.validate_certs ? '' : ' --no-check-certificate'} -O "$2" -- "$1"`;
  return `fetch() { if command -v curl >/dev/null 2>&1; then ${curl}; else ${wget}; fi; }`;
}

/** The name a download takes inside a dest directory: the last part of the URL's path, if it has one. */
function urlFileName(url: string): string | undefined {
  try {
    return posix.basename(decodeURIComponent(new URL(url).pathname)) || undefined;
  } catch {
    return undefined; // not a URL we can read: the download itself says why
  }
}

/** `<algorithm>:<hex>` or `<algorithm>:<url of a sums file>`, as Ansible reads it; '' or absent: none. */
function parseChecksum(checksum: string | undefined): Wanted | undefined {
  if (checksum === undefined || checksum === '') return undefined;
  const colon = checksum.indexOf(':');
  if (colon < 0) throw new ModuleError(`checksum must be "<algorithm>:<hex>" or "<algorithm>:<URL of a sums file>", got ${JSON.stringify(checksum)}`);
  const algorithm = checksum.slice(0, colon).trim().toLowerCase();
  const value = checksum.slice(colon + 1).trim();
  if (!(algorithm in ALGORITHMS)) throw new ModuleError(`checksum: unknown algorithm "${algorithm}" (kplay checks ${Object.keys(ALGORITHMS).join(', ')})`);
  if (/^(https?|ftp|file):\/\//i.test(value)) return { algorithm, sumsUrl: value };
  // Ansible drops what is not a word character (`sha256: ab:cd:...` as some sites print it).
  const hex = value.replace(/\W+/g, '').toLowerCase();
  if (!new RegExp(`^[0-9a-f]{${ALGORITHMS[algorithm]}}$`).test(hex)) throw new ModuleError(`checksum: not a ${algorithm} hex digest: ${JSON.stringify(value)}`);
  return { algorithm, hex };
}

/** The digest for `fileName` in a sums file (`<hex>  name` lines, `*name` for binary, or a lone digest). */
function digestFromSums(sums: string, fileName: string, wanted: Wanted): string {
  const length = ALGORITHMS[wanted.algorithm];
  const entries = sums
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([hex]) => hex !== undefined && hex.length === length && /^[0-9a-fA-F]+$/.test(hex));
  const named = entries.find(([, name]) => name !== undefined && posix.basename(name.replace(/^\*/, '')) === fileName);
  const only = entries.length === 1 && entries[0].length === 1 ? entries[0] : undefined;
  const hex = (named ?? only)?.[0];
  if (!hex) throw new ModuleError(`no ${wanted.algorithm} for ${fileName} in ${wanted.sumsUrl}`);
  return hex.toLowerCase();
}

/** `@@kplay NAME` lines split stdout into named sections. */
function sections(stdout: string): Map<string, string> {
  const found = new Map<string, string>();
  let name = '';
  let lines: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARK)) {
      found.set(name, lines.join('\n'));
      name = line.slice(MARK.length);
      lines = [];
    } else lines.push(line);
  }
  found.set(name, lines.join('\n'));
  return found;
}

/** What curl said on stderr: its `kplay-http` line, and the rest without the progress meter. */
function readStderr(stderr: string): { status?: number; bytes?: number; message: string } {
  let status: number | undefined;
  let bytes: number | undefined;
  const kept: string[] = [];
  for (const segment of stderr.split(/[\r\n]+/)) {
    const http = /^kplay-http (\d+) (\d+)/.exec(segment);
    if (http) {
      status = Number(http[1]);
      bytes = Number(http[2]);
    } else if (segment.trim() !== '' && !isMeter(segment)) kept.push(segment.trim());
  }
  return { status, bytes, message: kept.join('\n') };
}

const METER_LINE = /^\s*(\d+)\s+([\d.]+[kMGTP]?)\s+(\d+)\s+([\d.]+[kMGTP]?)\s/;
const isMeter = (line: string): boolean => METER_LINE.test(line) || /% Total|Dload\s+Upload/.test(line);

/** curl's sizes (`2929k`, `40.0M`) in bytes: the meter rounds, which a progress display can afford. */
function meterBytes(size: string): number {
  const unit = 'kMGTP'.indexOf(size.slice(-1));
  return unit < 0 ? Number(size) : Math.round(parseFloat(size) * 1024 ** (unit + 1));
}

/** The newest meter line in a chunk of curl's stderr, as bytes done and in all (0 in all: not known). */
function meterProgress(chunk: string): { done: number; total?: number } | undefined {
  const lines = chunk.split(/[\r\n]+/).filter((l) => METER_LINE.test(l));
  const last = lines.at(-1);
  if (!last) return undefined;
  const [, , total, , received] = METER_LINE.exec(last) as RegExpExecArray;
  const all = meterBytes(total);
  return { done: meterBytes(received), total: all > 0 ? all : undefined };
}

interface HostState {
  dest: string;
  st: FileStat;
  /** dest's digest by the checksum's algorithm. */
  digest?: string;
  sums?: string;
  /** No checksum and dest exists: sha1 of what the URL serves now (undefined on a 304), and of dest. */
  remote?: { sha1?: string; local: string; status?: number };
}

/** One exec: the file to write (dest, or the URL's name inside a dest directory), its stat and digest, the sums file
 * if the checksum names one, and without a checksum what the URL serves now. */
async function readHost(args: GetUrlArgs, wanted: Wanted | undefined, ctx: ModuleContext): Promise<HostState> {
  const name = urlFileName(args.url);
  const inDir = name === undefined ? undefined : posix.join(args.dest, name);
  const target = (path: string): string => {
    const p = shellQuote(path);
    const lines = [statCommand(path, { checksum: false, follow: true })];
    if (wanted) lines.push(`echo '${MARK}digest'`, `if [ -f ${p} ]; then ${wanted.algorithm}sum < ${p} | cut -d' ' -f1; fi`);
    else {
      // What the URL serves now, hashed as it comes: nothing is written.
      const since = args.force ? '' : ` ${p}`;
      lines.push(
        `if [ -f ${p} ]; then echo '${MARK}local'; sha1sum < ${p} | cut -d' ' -f1; echo '${MARK}remote';`,
        `{ fetch ${shellQuote(args.url)} -${since}; echo "kplay-rc $?" >&2; } | sha1sum | cut -d' ' -f1; fi`,
      );
    }
    return lines.join('\n');
  };
  const script = [fetchFunction(args, false), `if [ -d ${shellQuote(args.dest)} ]; then echo DIR; ${inDir ? target(inDir) : ''}`, `else echo FILE; ${target(args.dest)}`, 'fi'];
  if (wanted?.sumsUrl) script.push(`echo '${MARK}sums'`, `fetch ${shellQuote(wanted.sumsUrl)} - || exit $?`);
  const r = await ctx.conn.exec(script.join('\n'), { ...asBecome(ctx.become), stdin: curlConfig(args) });
  const parts = sections(r.stdout);
  const err = readStderr(r.stderr);
  if (r.rc !== 0) {
    const what = wanted?.sumsUrl && parts.has('sums') ? `cannot download ${wanted.sumsUrl}` : `cannot stat ${args.dest}`;
    throw new ModuleError(`${what}: ${err.message || `exit ${r.rc}`}`, { rc: r.rc, stderr: err.message, ...(err.status ? { status_code: err.status } : {}) });
  }
  const [kind, ...rest] = (parts.get('') ?? '').split('\n');
  if (kind === 'DIR' && inDir === undefined) throw new ModuleError(`${args.dest} is a directory and ${args.url} names no file: give dest a file name`);
  const dest = kind === 'DIR' ? (inDir as string) : args.dest;
  const st = parseStat(rest.join('\n'));
  if (st.exists && st.type !== 'file') throw new ModuleError(`${dest} exists and is not a regular file (${st.type})`);
  const state: HostState = { dest, st, digest: parts.get('digest')?.trim() || undefined, sums: parts.get('sums') };
  if (parts.has('remote')) {
    const rc = Number(/kplay-rc (\d+)/.exec(r.stderr)?.[1] ?? '1');
    if (rc !== 0) {
      throw new ModuleError(`cannot download ${args.url}: ${err.message || `exit ${rc}`}`, { url: args.url, dest, rc, ...(err.status ? { status_code: err.status } : {}) });
    }
    const notModified = err.status === 304;
    state.remote = { local: (parts.get('local') ?? '').trim(), sha1: notModified ? undefined : (parts.get('remote') ?? '').trim(), status: err.status };
  }
  return state;
}

/** Download to a temp file beside dest, verify, set attributes, rename; any failure removes the temp file. */
async function download(args: GetUrlArgs, dest: string, wanted: Wanted | undefined, hex: string | undefined, attrs: { mode: number; owner?: string; group?: string }, ctx: ModuleContext): Promise<ExecResult> {
  const tmpPath = tempBeside(dest);
  const d = shellQuote(dest);
  const script = [
    fetchFunction(args, true),
    `tmp=${shellQuote(tmpPath)}`,
    `trap 'rm -f -- "$tmp"' EXIT`,
    `umask 077`,
    `fetch ${shellQuote(args.url)} "$tmp" || exit $?`,
    ...(wanted && hex ? [`got=$(${wanted.algorithm}sum < "$tmp" | cut -d' ' -f1)`, `if [ "$got" != ${hex} ]; then echo "$got"; exit ${MISMATCH_RC}; fi`] : []),
    `echo "${MARK}sha1"; sha1sum < "$tmp" | cut -d' ' -f1`,
    `echo "${MARK}md5"; md5sum < "$tmp" | cut -d' ' -f1`,
    `echo "${MARK}size"; wc -c < "$tmp"`,
    `if [ -f ${d} ]; then echo "${MARK}old"; sha1sum < ${d} | cut -d' ' -f1; fi`,
    ...attrCommands(tmpPath, attrs).map((c) => `${c} || exit $?`),
    `echo "${MARK}ids"; stat -c '%U|%G|%u|%g' -- "$tmp"`,
    `mv -f -- "$tmp" ${d}`,
  ];
  return ctx.conn.exec(script.join('\n'), {
    ...asBecome(ctx.become),
    stdin: curlConfig(args),
    onStderr: (chunk) => {
      const bytes = meterProgress(chunk);
      if (bytes) ctx.progress?.({ bytes });
    },
  });
}

export default defineModule<GetUrlArgs>({
  name: 'get_url',
  spec: {
    args: {
      url: { type: 'str', required: true, description: 'http, https or ftp URL, fetched on the host (curl, else wget).' },
      dest: { type: 'path', required: true, description: 'File on the host; a directory takes the last part of the URL path as the name.' },
      checksum: {
        type: 'str',
        default: '',
        check: (value) => {
          try {
            parseChecksum(String(value));
            return undefined;
          } catch (error) {
            return (error as Error).message.replace(/^checksum: /, '');
          }
        },
        description:
          '"<algorithm>:<hex>" (md5, sha1, sha224, sha256, sha384, sha512), or "<algorithm>:<URL of a sums file>" (the line naming the ' +
          'downloaded file, or its only digest). A download with another digest fails and leaves dest as it was. Without one the ' +
          'download is not verified (a warning says so).',
      },
      mode: { type: 'mode' },
      owner: { type: 'str' },
      group: { type: 'str' },
      force: { type: 'bool', default: false, description: 'Without a checksum: download even when dest is newer than the URL (no If-Modified-Since).' },
      timeout: { type: 'int', default: 10, description: 'Seconds to connect, and that a download may stall, before it fails.' },
      validate_certs: { type: 'bool', default: true, description: 'false: accept any TLS certificate.' },
      headers: { type: 'dict', description: 'HTTP request headers (given to curl on its stdin).' },
      url_username: { type: 'str', aliases: ['username'], description: 'HTTP basic authentication user (curl on the host).' },
      url_password: { type: 'str', aliases: ['password'], noLog: true, description: 'Its password: never printed, never on a command line.' },
      force_basic_auth: { type: 'bool', default: false, description: 'Accepted for Ansible playbooks: curl sends the credentials with the first request.' },
      http_agent: { type: 'str', default: 'ansible-httpget', description: 'The User-Agent header.' },
    },
  },
  async plan(given, ctx) {
    const args = omitNulls(given);
    for (const [name, value] of Object.entries(args.headers ?? {})) {
      if (/[\r\n]/.test(`${name}${String(value)}`)) throw new ModuleError(`headers: ${JSON.stringify(name)} holds a line break`);
    }
    const wanted = parseChecksum(args.checksum);
    const host = await readHost(args, wanted, ctx);
    const { dest, st } = host;
    const hex = wanted ? (wanted.hex ?? digestFromSums(host.sums ?? '', urlFileName(args.url) ?? posix.basename(dest), wanted)) : undefined;
    const isFile = st.exists && st.type === 'file';
    // Replacing a file keeps its mode and owner unless the task sets them, as Ansible's atomic move does.
    const mode = resolveMode(args.mode, isFile ? st.mode : undefined, false) ?? (isFile ? st.mode : undefined) ?? 0o644;
    const owner = args.owner ?? (isFile ? st.owner : undefined);
    const group = args.group ?? (isFile ? st.group : undefined);
    const result: Record<string, unknown> = { url: args.url, dest, checksum_src: null, checksum_dest: null, elapsed: 0, mode: formatMode(mode), owner, group, state: 'file' };
    // The content is not known before it is downloaded: later --check tasks see the file without it.
    const effects: Plan['effects'] = [{ path: dest, state: 'file', content: undefined, mode, owner, group }];

    // dest is the download already: it has the checksum, or (no checksum) the URL serves the same bytes or a 304.
    const remote = host.remote;
    const same = isFile && (hex !== undefined ? host.digest === hex : remote !== undefined && (remote.sha1 === undefined || remote.sha1 === remote.local));
    if (same) {
      const done: Record<string, unknown> = { ...result, size: st.size, uid: st.uid, gid: st.gid };
      if (remote) {
        Object.assign(done, { checksum_dest: remote.local, checksum_src: remote.sha1 ?? null, status_code: remote.status });
        done.msg = remote.sha1 === undefined ? 'HTTP Error 304: Not Modified' : `OK (${st.size ?? 0} bytes)`;
      } else done.msg = 'file already exists';
      const changes = attrChanges(args, st);
      if (!hasChanges(changes)) return { changed: false, msg: String(done.msg), result: done, effects };
      done.msg = 'file already exists but file attributes changed';
      return {
        changed: true,
        msg: `${dest}: ${describeChanges(changes, st)}`,
        result: done,
        effects,
        apply: async () => {
          const r = await ctx.conn.exec(attrCommands(dest, changes).join(' && '), asBecome(ctx.become));
          if (r.rc !== 0) throw new ModuleError(`cannot set attributes of ${dest}: ${r.stderr.trim()}`);
        },
      };
    }

    const warnings = wanted ? undefined : [`get_url ${args.url}: no checksum given, the download to ${dest} is not verified`];
    return {
      changed: true,
      msg: `${isFile ? 'replace' : 'download'} ${dest} from ${args.url}`,
      result: { ...result, ...(warnings ? { warnings } : {}) },
      warnings,
      effects,
      apply: async () => {
        const start = Date.now();
        const r = await download(args, dest, wanted, hex, { mode, owner, group }, ctx);
        const elapsed = Math.round((Date.now() - start) / 1000);
        const err = readStderr(r.stderr);
        const http = err.status ? { status_code: err.status } : {};
        if (r.rc === MISMATCH_RC) {
          const got = r.stdout.trim();
          throw new ModuleError(`${wanted?.algorithm} of ${args.url} is ${got}, expected ${hex}: ${dest} left as it was`, { ...result, ...http, elapsed });
        }
        if (r.rc !== 0) {
          throw new ModuleError(`cannot download ${args.url} to ${dest}: ${err.message || `exit ${r.rc}`}`, { ...result, ...http, rc: r.rc, elapsed });
        }
        const parts = sections(r.stdout);
        const size = Number((parts.get('size') ?? '').trim());
        const [newOwner, newGroup, uid, gid] = (parts.get('ids') ?? '').trim().split('|');
        return {
          owner: newOwner,
          group: newGroup,
          uid: Number(uid),
          gid: Number(gid),
          checksum_src: (parts.get('sha1') ?? '').trim(),
          checksum_dest: parts.get('old')?.trim() ?? null,
          md5sum: (parts.get('md5') ?? '').trim(),
          size,
          elapsed,
          status_code: err.status ?? 200,
          msg: `OK (${err.bytes ?? size} bytes)`,
        };
      },
    };
  },
});
