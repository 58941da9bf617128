// get_url: download a URL ON THE HOST (curl, else wget) to a temp file beside dest, check its sha256, set mode and
// owner, then rename it over dest. A failed or mismatching download leaves dest as it was and removes the temp file.
//
// kplay requires `checksum` (Ansible makes it optional): a download is only trusted when its sha256 is known. So a
// dest that already has that checksum is the download already: warm is one exec (stat + sha256 of dest, and the
// .sha256 file when the checksum is given as a URL), and `force` has nothing left to do.

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
  checksum: string;
  mode?: ModeArg;
  owner?: string;
  group?: string;
  force: boolean;
  timeout: number;
  validate_certs: boolean;
  url_username?: string;
  url_password?: string;
  force_basic_auth?: boolean;
}

const SHA256 = /^[0-9a-f]{64}$/;
const SUMS_MARK = '--- kplay sums ---';
const MISMATCH_RC = 93;

/** curl's config syntax for a quoted string. */
const configString = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * The credentials, as the exec's stdin: three lines the script reads into shell variables (curl's config line, wget's
 * user, wget's password), so they are never in a command line (`ps` on the host) nor in the script kplay sends.
 */
function credentials(args: GetUrlArgs): string | undefined {
  if (args.url_username == null) return undefined;
  const password = args.url_password ?? '';
  if (/[\r\n]/.test(args.url_username + password)) throw new ModuleError('url_username and url_password cannot hold a line break');
  return `${configString(`${args.url_username}:${password}`)}\n${args.url_username}\n${password}\n`;
}
const READ_CREDENTIALS = 'IFS= read -r kp_curl; IFS= read -r kp_wuser; IFS= read -r kp_wpass';

/** Shell words of a function `fetch URL OUT` that prints nothing but errors: curl when there is one, else wget. */
function fetchFunction(args: GetUrlArgs): string {
  const t = String(args.timeout);
  const auth = args.url_username != null;
  // Ansible's timeout is per read, not for the whole download: curl gives up when under 1 byte/s for that long.
  let curl = `curl -fsSL --connect-timeout ${t} --speed-limit 1 --speed-time ${t}${args.validate_certs ? '' : ' -k'} -o "$2" -- "$1"`;
  let wget = `wget -q -T ${t}${args.validate_certs ? '' : ' --no-check-certificate'} -O "$2" -- "$1"`;
  if (auth) {
    curl = `printf 'user = %s\\n%s\\n' "$kp_curl" ${args.force_basic_auth ? 'basic' : 'anyauth'} | ${curl.replace('curl ', 'curl -K - ')}`;
    wget = `printf 'user = %s\\npassword = %s\\n%s\\n' "$kp_wuser" "$kp_wpass" ${args.force_basic_auth ? "'auth_no_challenge = on'" : "''"} | ${wget.replace('wget ', 'wget --config=/dev/stdin ')}`;
  }
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

/** `sha256:<hex>` → the hex; `sha256:<url>` → the URL of a sums file. Other algorithms are refused. */
function parseChecksum(checksum: string): { hex?: string; sumsUrl?: string } {
  const colon = checksum.indexOf(':');
  const algorithm = checksum.slice(0, colon).toLowerCase();
  const value = checksum.slice(colon + 1).trim();
  if (colon < 0 || algorithm !== 'sha256') {
    throw new ModuleError(`checksum must be "sha256:<hex>" or "sha256:<url of a .sha256 file>", got ${JSON.stringify(checksum)}`);
  }
  if (/^(https?|ftp|file):\/\//i.test(value)) return { sumsUrl: value };
  if (!SHA256.test(value.toLowerCase())) throw new ModuleError(`checksum: not a sha256 hex digest: ${JSON.stringify(value)}`);
  return { hex: value.toLowerCase() };
}

/** The digest for `fileName` in a sums file (`<hex>  name` lines, or a lone digest), as Ansible reads it. */
function digestFromSums(sums: string, fileName: string, sumsUrl: string): string {
  const entries = sums
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([hex]) => hex !== undefined && SHA256.test(hex.toLowerCase()));
  const named = entries.find(([, name]) => name !== undefined && posix.basename(name.replace(/^\*/, '')) === fileName);
  const only = entries.length === 1 ? entries[0] : undefined;
  const hex = (named ?? only)?.[0];
  if (!hex) throw new ModuleError(`no sha256 for ${fileName} in ${sumsUrl}`);
  return hex.toLowerCase();
}

/** One exec: whether dest is a directory, the stat (with sha256) of the file to write, and the sums file if any. */
async function readHost(args: GetUrlArgs, sumsUrl: string | undefined, ctx: ModuleContext): Promise<{ dest: string; st: FileStat; sums?: string }> {
  const name = urlFileName(args.url);
  const inDir = name === undefined ? undefined : posix.join(args.dest, name);
  const stat = (path: string): string => statCommand(path, { checksum: true, follow: true });
  const script = [`if [ -d ${shellQuote(args.dest)} ]; then echo DIR; ${inDir ? stat(inDir) : 'echo ABSENT'}; else echo FILE; ${stat(args.dest)}; fi`];
  if (sumsUrl) script.push(`echo '${SUMS_MARK}'`, fetchFunction(args), `fetch ${shellQuote(sumsUrl)} -`);
  const stdin = sumsUrl ? credentials(args) : undefined;
  if (stdin) script.unshift(READ_CREDENTIALS);
  const r = await ctx.conn.exec(script.join('\n'), { ...asBecome(ctx.become), ...(stdin ? { stdin } : {}) });
  const [head, sums] = r.stdout.split(`${SUMS_MARK}\n`);
  if (r.rc !== 0) {
    const what = sumsUrl && sums !== undefined ? `cannot download ${sumsUrl}` : `cannot stat ${args.dest}`;
    throw new ModuleError(`${what}: ${r.stderr.trim() || `exit ${r.rc}`}`, { rc: r.rc, stderr: r.stderr });
  }
  const [kind, ...rest] = head.split('\n');
  if (kind === 'DIR' && inDir === undefined) throw new ModuleError(`${args.dest} is a directory and ${args.url} names no file: give dest a file name`);
  const dest = kind === 'DIR' ? (inDir as string) : args.dest;
  const st = parseStat(rest.join('\n'));
  if (st.exists && st.type !== 'file') throw new ModuleError(`${dest} exists and is not a regular file (${st.type})`);
  return { dest, st, sums };
}

/** Download to a temp file beside dest, verify, set attributes, rename; any failure removes the temp file. */
async function download(args: GetUrlArgs, dest: string, wanted: string, attrs: { mode: number; owner?: string; group?: string }, ctx: ModuleContext): Promise<ExecResult> {
  const tmpPath = tempBeside(dest);
  const stdin = credentials(args);
  const script = [
    ...(stdin ? [READ_CREDENTIALS] : []),
    fetchFunction(args),
    `tmp=${shellQuote(tmpPath)}`,
    `trap 'rm -f -- "$tmp"' EXIT`,
    `umask 077`,
    `fetch ${shellQuote(args.url)} "$tmp" || exit $?`,
    `got=$(sha256sum < "$tmp" | cut -d' ' -f1)`,
    `if [ "$got" != ${wanted} ]; then echo "$got"; exit ${MISMATCH_RC}; fi`,
    ...attrCommands(tmpPath, attrs).map((c) => `${c} || exit $?`),
    `mv -f -- "$tmp" ${shellQuote(dest)}`,
  ];
  return ctx.conn.exec(script.join('\n'), { ...asBecome(ctx.become), ...(stdin ? { stdin } : {}) });
}

export default defineModule<GetUrlArgs>({
  name: 'get_url',
  spec: {
    args: {
      url: { type: 'str', required: true, description: 'http, https or ftp URL, fetched on the host (curl, else wget).' },
      dest: { type: 'path', required: true, description: 'File on the host; a directory takes the last part of the URL path as the name.' },
      checksum: {
        type: 'str',
        required: true,
        description:
          'Required by kplay: "sha256:<hex>", or "sha256:<URL of a sums file>" (the line naming the downloaded file, or its only digest). ' +
          'A download with another sha256 fails and leaves dest as it was.',
      },
      mode: { type: 'mode' },
      owner: { type: 'str' },
      group: { type: 'str' },
      force: { type: 'bool', default: false, description: 'Accepted for Ansible playbooks; no effect: a dest with the checksum already is the download.' },
      timeout: { type: 'int', default: 10, description: 'Seconds to connect, and that a download may stall, before it fails.' },
      validate_certs: { type: 'bool', default: true, description: 'false: accept any TLS certificate.' },
      url_username: { type: 'str', aliases: ['username'], description: 'HTTP user name (basic or digest, as the server asks).' },
      url_password: { type: 'str', aliases: ['password'], noLog: true, description: 'Given to curl or wget on its stdin, never on a command line; never printed.' },
      force_basic_auth: { type: 'bool', default: false, description: 'Send basic credentials on the first request.' },
    },
  },
  async plan(given, ctx) {
    const args = omitNulls(given);
    const { hex, sumsUrl } = parseChecksum(args.checksum);
    const { dest, st, sums } = await readHost(args, sumsUrl, ctx);
    const wanted = hex ?? digestFromSums(sums ?? '', urlFileName(args.url) ?? posix.basename(dest), sumsUrl ?? '');
    const isFile = st.exists && st.type === 'file';
    // Replacing a file keeps its mode and owner unless the task sets them, as copy does.
    const mode = resolveMode(args.mode, isFile ? st.mode : undefined, false) ?? (isFile ? st.mode : undefined) ?? 0o644;
    const owner = args.owner ?? (isFile ? st.owner : undefined);
    const group = args.group ?? (isFile ? st.group : undefined);
    const result: Record<string, unknown> = { url: args.url, dest, checksum: wanted, checksum_dest: st.sha256 ?? null, mode: formatMode(mode), owner, group, state: 'file' };
    // The content is not known before it is downloaded: later --check tasks see the file without it.
    const effects: Plan['effects'] = [{ path: dest, state: 'file', content: undefined, mode, owner, group }];

    if (isFile && st.sha256 === wanted) {
      const changes = attrChanges(args, st);
      const same = { ...result, size: st.size, msg: 'file already has the checksum' };
      if (!hasChanges(changes)) return { changed: false, msg: same.msg, result: same, effects };
      return {
        changed: true,
        msg: `${dest}: ${describeChanges(changes, st)}`,
        result: same,
        effects,
        apply: async () => {
          const r = await ctx.conn.exec(attrCommands(dest, changes).join(' && '), asBecome(ctx.become));
          if (r.rc !== 0) throw new ModuleError(`cannot set attributes of ${dest}: ${r.stderr.trim()}`);
        },
      };
    }

    return {
      changed: true,
      msg: `${isFile ? 'replace' : 'download'} ${dest} from ${args.url}`,
      result,
      effects,
      apply: async () => {
        const start = Date.now();
        const r = await download(args, dest, wanted, { mode, owner, group }, ctx);
        const elapsed = Math.round((Date.now() - start) / 1000);
        if (r.rc === MISMATCH_RC) {
          const got = r.stdout.trim();
          throw new ModuleError(`sha256 of ${args.url} is ${got}, expected ${wanted}: ${dest} left as it was`, { ...result, checksum_src: got, elapsed });
        }
        if (r.rc !== 0) {
          throw new ModuleError(`cannot download ${args.url} to ${dest}: ${r.stderr.trim() || `exit ${r.rc}`}`, { ...result, rc: r.rc, elapsed });
        }
        return { checksum_src: wanted, checksum_dest: wanted, elapsed, msg: 'OK' };
      },
    };
  },
});
