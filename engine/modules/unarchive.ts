// unarchive: unpack a tar (plain, gz, xz, bz2, zstd: GNU tar detects which) or zip archive into a folder on the host.
// The archive is on the controller (copied to the host only when something must be unpacked) or, with remote_src,
// on the host already.
//
// Idempotent by listing: the archive's entries (names, types, sizes, modes; for tar also mtimes) are compared with
// what is on disk under dest. The state is read in ONE command on the host: for remote_src the listing and the stat
// of every entry; for a controller archive the listing is made here and the host stats the names it is sent.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { shellQuote } from '../core/shell.ts';
import type { Connection } from '../connection/connection.ts';
import { ModuleError, defineModule, type FileEffect, type ModuleContext } from './contract.ts';
import { asBecome, formatMode, resolveMode, type ModeArg } from './file-attrs.ts';

interface UnarchiveArgs {
  src: string;
  dest: string;
  remote_src: boolean;
  creates?: string;
  extra_opts: string[];
  include: string[];
  exclude: string[];
  list_files: boolean;
  keep_newer: boolean;
  mode?: ModeArg;
  owner?: string;
  group?: string;
}

type Kind = 'zip' | 'tar';

interface Entry {
  name: string;
  type: 'file' | 'directory' | 'link';
  mode: number;
  size: number;
  /** Seconds since the epoch (tar only: zip times are local DOS times). */
  mtime?: number;
  target?: string;
}

interface OnDisk {
  type: string;
  mode: number;
  size: number;
  owner: string;
  group: string;
  uid: number;
  gid: number;
  mtime: number;
}

const SEP = '@@kplay-unarchive@@';

/** `-rwxr-sr-x` → type and mode bits. */
function parsePerms(text: string): { type: Entry['type'] | 'other'; mode: number } {
  const t = text[0];
  let mode = 0;
  [text.slice(1, 4), text.slice(4, 7), text.slice(7, 10)].forEach((tri, i) => {
    const shift = (2 - i) * 3;
    mode |= ((tri[0] === 'r' ? 4 : 0) | (tri[1] === 'w' ? 2 : 0) | (tri[2] === 'x' || tri[2] === 's' || tri[2] === 't' ? 1 : 0)) << shift;
    if (tri[2] === 's' || tri[2] === 'S') mode |= i === 0 ? 0o4000 : 0o2000;
    if ((tri[2] === 't' || tri[2] === 'T') && i === 2) mode |= 0o1000;
  });
  const type = t === 'd' ? 'directory' : t === 'l' ? 'link' : t === '-' || t === 'h' ? 'file' : 'other';
  return { type, mode };
}

/** Undo GNU tar's escape quoting of names (\\, \n, octal). */
function unescapeTar(name: string): string {
  return name.replace(/\\(\\|n|t|[0-7]{3})/g, (_, c: string) => (c === '\\' ? '\\' : c === 'n' ? '\n' : c === 't' ? '\t' : String.fromCharCode(parseInt(c, 8))));
}

const cleanName = (name: string): string => name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');

/** The names tar will write with --strip-components=N among extra_opts (entries with fewer parts are not written). */
function stripCount(extraOpts: string[]): number {
  const opt = extraOpts.map((o) => /^--strip(?:-components)?[= ](\d+)$/.exec(o)).find(Boolean);
  return opt ? Number(opt[1]) : 0;
}

function stripComponents(entries: Entry[], extraOpts: string[]): Entry[] {
  const n = stripCount(extraOpts);
  if (n === 0) return entries;
  return entries
    .map((e) => ({ ...e, name: e.name.split('/').slice(n).join('/') }))
    .filter((e) => e.name !== '');
}

export function parseListing(kind: Kind, text: string): Entry[] {
  const entries: Entry[] = [];
  for (const line of text.split('\n')) {
    if (kind === 'tar') {
      const m = /^(\S{10})\s+\S+\s+([\d,]+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s(.*)$/.exec(line);
      if (!m) continue;
      const { type, mode } = parsePerms(m[1]);
      if (type === 'other') continue;
      let name = m[4];
      let target: string | undefined;
      if (type === 'link') [name, target] = name.split(' -> ');
      else if (m[1][0] === 'h') name = name.split(' link to ')[0];
      entries.push({ name: cleanName(unescapeTar(name)), type, mode, size: Number(m[2]) || 0, mtime: Date.parse(`${m[3].replace(' ', 'T')}Z`) / 1000, target: target && unescapeTar(target) });
    } else {
      const m = /^(\S{10})\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+\d{8}\.\d{6}\s(.*)$/.exec(line);
      if (!m) continue;
      const { type, mode } = parsePerms(m[1]);
      if (type === 'other') continue;
      entries.push({ name: cleanName(m[3]), type, mode, size: Number(m[2]) });
    }
  }
  return entries.filter((e) => e.name !== '' && e.name !== '.');
}

/** Shell words that detect the archive's kind and list it (include/exclude applied). `$src` is the archive. */
function listScript(args: UnarchiveArgs): string {
  const includes = args.include.map(shellQuote).join(' ');
  const tarExcludes = args.exclude.map((e) => `--exclude=${shellQuote(e)}`).join(' ');
  const zipExcludes = args.exclude.length > 0 ? ` -x ${args.exclude.map(shellQuote).join(' ')}` : '';
  return (
    `if [ "$(head -c 2 -- "$src" 2>/dev/null)" = PK ]; then echo zip; LC_ALL=C zipinfo -T -- "$src" ${includes}${zipExcludes}; ` +
    `else echo tar; LC_ALL=C TZ=UTC tar -tv --full-time --numeric-owner --quoting-style=escape ${tarExcludes} -f "$src" ${includes ? `-- ${includes}` : ''}; fi`
  );
}

function statScript(): string {
  // Names arrive NUL-separated (relative to dest); each existing one prints "name|type|mode|size|owner|group|uid|gid|mtime".
  return `cd -- "$dest" && xargs -0 -r stat --printf '%n|%F|%a|%s|%U|%G|%u|%g|%Y\\0' -- 2>/dev/null; true`;
}

function parseStats(text: string): Map<string, OnDisk> {
  const map = new Map<string, OnDisk>();
  for (const record of text.split('\0')) {
    const parts = record.split('|');
    if (parts.length < 9) continue;
    const tail = parts.splice(-8);
    const [type, mode, size, owner, group, uid, gid, mtime] = tail;
    map.set(cleanName(parts.join('|').replace(/^\n/, '')), {
      type: type.startsWith('regular') ? 'file' : type === 'directory' ? 'directory' : type === 'symbolic link' ? 'link' : 'other',
      mode: parseInt(mode, 8), size: Number(size), owner, group, uid: Number(uid), gid: Number(gid), mtime: Number(mtime),
    });
  }
  return map;
}

const sameId = (wanted: string, name: string, id: number): boolean => wanted === name || (/^\d+$/.test(wanted) && Number(wanted) === id);

/** The entries whose state on disk is not what unpacking (and the attributes asked for) would give. */
function differences(entries: Entry[], disk: Map<string, OnDisk>, args: UnarchiveArgs): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const d = disk.get(e.name);
    if (!d) { out.push(`${e.name}: missing`); continue; }
    if (d.type !== e.type) { out.push(`${e.name}: is a ${d.type}`); continue; }
    if (e.type === 'link') continue;
    if (e.type === 'file' && d.size !== e.size) { if (!args.keep_newer || d.mtime < (e.mtime ?? 0)) out.push(`${e.name}: size differs`); continue; }
    if (e.type === 'file' && e.mtime !== undefined && d.mtime !== e.mtime && !(args.keep_newer && d.mtime > e.mtime)) { out.push(`${e.name}: mtime differs`); continue; }
    const wanted = resolveMode(args.mode, e.mode, e.type === 'directory') ?? e.mode;
    if (d.mode !== wanted) { out.push(`${e.name}: mode ${formatMode(d.mode)} → ${formatMode(wanted)}`); continue; }
    if (args.owner !== undefined && !sameId(args.owner, d.owner, d.uid)) out.push(`${e.name}: owner`);
    else if (args.group !== undefined && !sameId(args.group, d.group, d.gid)) out.push(`${e.name}: group`);
  }
  return out;
}

function quoteAll(words: string[]): string {
  return words.map(shellQuote).join(' ');
}

/** Unpack `archive` into dest, then set mode/owner/group on every entry: one exec. */
function extractScript(kind: Kind, archive: string, entries: Entry[], args: UnarchiveArgs): string {
  const d = shellQuote(args.dest);
  const a = shellQuote(archive);
  const steps: string[] = [];
  if (kind === 'zip') {
    steps.push(`unzip -o ${quoteAll(args.extra_opts)} ${a} ${quoteAll(args.include)}${args.exclude.length ? ` -x ${quoteAll(args.exclude)}` : ''} -d ${d}`);
  } else {
    const opts = [...(args.keep_newer ? ['--keep-newer-files'] : []), ...args.exclude.map((e) => `--exclude=${e}`), ...args.extra_opts];
    steps.push(`tar --extract -C ${d} ${quoteAll(opts)} -f ${a}${args.include.length ? ` -- ${quoteAll(args.include)}` : ''}`);
  }
  const nonLinks = entries.filter((e) => e.type !== 'link').map((e) => e.name);
  const names = (list: string[]): string => `printf '%s\\0' ${quoteAll(list)}`;
  if ((args.owner !== undefined || args.group !== undefined) && entries.length > 0) {
    const who = `${args.owner ?? ''}${args.group !== undefined ? `:${args.group}` : ''}`;
    steps.push(`(cd ${d} && ${names(entries.map((e) => e.name))} | xargs -0 chown -h ${shellQuote(who)} --)`);
  }
  if (args.mode !== undefined && nonLinks.length > 0) {
    const mode = typeof args.mode === 'number' ? args.mode.toString(8) : args.mode;
    steps.push(`(cd ${d} && ${names(nonLinks)} | xargs -0 chmod ${shellQuote(mode)} --)`);
  }
  return steps.join(' && ');
}

async function hostState(
  args: UnarchiveArgs,
  ctx: ModuleContext,
  local: { kind: Kind; entries: Entry[] } | undefined,
): Promise<{ kind: Kind; entries: Entry[]; disk: Map<string, OnDisk>; destMissing: boolean } | 'creates' | 'nosrc'> {
  const vars = `dest=${shellQuote(args.dest)}; src=${shellQuote(args.src)}`;
  const creates = args.creates !== undefined ? `if [ -e ${shellQuote(args.creates)} ]; then echo CREATES; exit 0; fi; ` : '';
  // A missing dest is reported, not fatal here: in --check an earlier task may plan it (the caller asks the overlay).
  const nodest = `[ -d "$dest" ] || echo NODEST; `;
  let script: string;
  let stdin: Buffer | undefined;
  if (local) {
    script = `${vars}; ${creates}${nodest}echo ${SEP}; ${statScript()}`;
    stdin = Buffer.from(local.entries.map((e) => `${e.name}\0`).join(''));
  } else {
    script =
      `${vars}; ${creates}[ -f "$src" ] || { echo "Source '$src' does not exist" >&2; exit 3; }; ${nodest}` +
      `listing=$(${listScript(args)}) || { echo "$listing" >&2; exit 4; }; printf '%s\\n' "$listing"; echo ${SEP}; ` +
      `printf '%s\\n' "$listing" | tail -n +2 | { if [ "$(printf '%s\\n' "$listing" | head -n1)" = zip ]; then sed -nE 's/^\\S{10}\\s+\\S+\\s+\\S+\\s+[0-9]+\\s+\\S+\\s+\\S+\\s+[0-9]{8}\\.[0-9]{6} //p'; ` +
      `else sed -nE 's/^\\S{10}\\s+\\S+\\s+[0-9,]+\\s+\\S+ \\S+ //p' | sed -E 's/ -> .*$//; s/ link to .*$//'; fi; }${stripCount(args.extra_opts) > 0 ? ` | sed -E 's#^([^/]*/){${stripCount(args.extra_opts)}}##'` : ''} | tr '\\n' '\\0' | { ${statScript()}; }`;
  }
  const r = await ctx.conn.exec(script, { ...asBecome(ctx.become), ...(stdin ? { stdin } : {}) });
  if (r.rc === 3) return 'nosrc';
  if (r.rc !== 0) throw new ModuleError(r.stderr.trim() || `cannot read ${args.src}`, { rc: r.rc });
  if (r.stdout.startsWith('CREATES')) return 'creates';
  const destMissing = r.stdout.startsWith('NODEST');
  const out = destMissing ? r.stdout.slice('NODEST\n'.length) : r.stdout;
  const [head, stats] = [out.slice(0, out.indexOf(SEP)), out.slice(out.indexOf(SEP) + SEP.length + 1)];
  if (local) return { ...local, disk: parseStats(stats), destMissing };
  const kind = head.startsWith('zip') ? 'zip' : 'tar';
  const entries = stripComponents(parseListing(kind, head), args.extra_opts);
  if (entries.length === 0) throw new ModuleError(`Failed to find handler for "${args.src}". Make sure the required command to extract the file is installed.`);
  return { kind, entries, disk: parseStats(stats), destMissing };
}

async function listLocal(conn: Connection, path: string, args: UnarchiveArgs): Promise<{ kind: Kind; entries: Entry[] }> {
  const r = await conn.exec(`src=${shellQuote(path)}; ${listScript(args)}`);
  const kind: Kind = r.stdout.startsWith('zip') ? 'zip' : 'tar';
  const entries = stripComponents(parseListing(kind, r.stdout), args.extra_opts);
  if (r.rc !== 0 || entries.length === 0) {
    throw new ModuleError(`Failed to find handler for "${path}". Make sure the required command to extract the file is installed. ${r.stderr.trim()}`);
  }
  return { kind, entries };
}

export default defineModule<UnarchiveArgs>({
  name: 'unarchive',
  spec: {
    args: {
      src: { type: 'str', required: true, description: 'The archive: on the controller (files/ of the role, or beside the playbook), or on the host with remote_src.' },
      dest: { type: 'path', required: true, description: 'An existing folder on the host.' },
      remote_src: { type: 'bool', default: false },
      creates: { type: 'path', description: 'Do nothing when this path exists on the host.' },
      extra_opts: { type: 'list', elements: 'str', default: [], description: 'More options for tar or unzip.' },
      include: { type: 'list', elements: 'str', default: [], description: 'Only these entries.' },
      exclude: { type: 'list', elements: 'str', default: [], description: 'Not these entries (patterns).' },
      list_files: { type: 'bool', default: false, description: 'Return the archive\'s entries as `files`.' },
      keep_newer: { type: 'bool', default: false, description: 'Do not replace files newer than the archive\'s (tar).' },
      mode: { type: 'mode', description: 'Set on every unpacked entry (a symbolic mode is computed against each one).' },
      owner: { type: 'str' },
      group: { type: 'str' },
    },
    mutuallyExclusive: [['include', 'exclude']],
  },
  async plan(given, ctx) {
    const args = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== null)) as UnarchiveArgs;
    const localPath = args.remote_src ? undefined : ctx.findFile(args.src, 'files');
    let local = localPath !== undefined ? await listLocal(ctx.controller, localPath, args) : undefined;
    let state = await hostState(args, ctx, local);
    if (state === 'nosrc') {
      // Not on the host yet: in --check an earlier task may plan it (the overlay has its content); list that here.
      const planned = await ctx.conn.get(args.src, asBecome(ctx.become));
      if (planned === null) throw new ModuleError(`Source '${args.src}' does not exist`, { src: args.src, dest: args.dest });
      const dir = mkdtempSync(join(tmpdir(), 'kplay-unarchive-'));
      try {
        writeFileSync(join(dir, 'archive'), planned);
        local = await listLocal(ctx.controller, join(dir, 'archive'), args);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      state = await hostState(args, ctx, local);
      if (state === 'nosrc') throw new ModuleError(`Source '${args.src}' does not exist`, { src: args.src, dest: args.dest });
    }
    if (state === 'creates') return { changed: false, skipped: `skipped, since ${args.creates} exists`, result: { dest: args.dest, src: args.src } };
    if (state.destMissing) {
      const st = await ctx.conn.stat(args.dest, asBecome(ctx.become));
      if (!st.exists || st.type !== 'directory') throw new ModuleError(`path ${args.dest} does not exist`, { dest: args.dest, src: args.src });
    }
    const { kind, entries, disk } = state;
    const handler = kind === 'zip' ? 'ZipArchive' : 'TgzArchive';
    const result: Record<string, unknown> = { dest: args.dest, src: args.src, handler, ...(args.list_files ? { files: entries.map((e) => (e.type === 'directory' ? `${e.name}/` : e.name)) } : {}) };
    const diffs = differences(entries, disk, args);
    if (diffs.length === 0) return { changed: false, result };
    const effects: FileEffect[] = entries.map((e) => {
      const path = posix.join(args.dest, e.name);
      const mode = resolveMode(args.mode, e.mode, e.type === 'directory') ?? e.mode;
      if (e.type === 'link') return { path, state: 'link', target: e.target ?? '' };
      return { path, state: e.type, mode, owner: args.owner, group: args.group };
    });
    return {
      changed: true,
      msg: `unpack ${args.src} into ${args.dest} (${diffs.length} of ${entries.length} entries differ: ${diffs.slice(0, 3).join(', ')}${diffs.length > 3 ? ', …' : ''})`,
      result,
      effects,
      apply: async () => {
        let archive = args.src;
        let cleanup = '';
        if (localPath !== undefined) {
          const content = await ctx.controller.get(localPath);
          if (content === null) throw new ModuleError(`Source '${args.src}' not found`);
          archive = `/tmp/.kplay-unarchive-${randomBytes(6).toString('hex')}${kind === 'zip' ? '.zip' : '.tar'}`;
          await ctx.conn.put(archive, content, { mode: 0o600, ...asBecome(ctx.become) });
          cleanup = `; rc=$?; rm -f -- ${shellQuote(archive)}; exit $rc`;
        }
        const script = extractScript(kind, archive, entries, args);
        const r = await ctx.conn.exec(`{ ${script}; }${cleanup}`, asBecome(ctx.become));
        const extract = { cmd: script, rc: r.rc, out: r.stdout, err: r.stderr };
        if (r.rc !== 0) throw new ModuleError(`failed to unpack ${args.src} to ${args.dest}: ${r.stderr.trim()}`, { ...result, extract_results: extract });
        return { extract_results: extract };
      },
    };
  },
});
