// copy of a folder from the controller, as Ansible's copy: `src: dir` puts the folder itself under dest (dest/dir/...),
// `src: dir/` puts only what is inside it. Links in src are followed (local_follow), empty folders are made, files get
// `mode` (else keep theirs, or 0644 when new), folders get `directory_mode` (else keep theirs, or 0755 when new).
//
// One round trip reads the whole target (stat and sha256 of every path); a real run then makes the folders and sets
// attributes in one exec and puts each new or changed file (atomic).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { shellQuote } from '../core/shell.ts';
import { ModuleError, type FileDiff, type FileEffect, type ModuleContext, type Plan } from './contract.ts';
import { fileDiff } from './diff-text.ts';
import { asBecome, attrChanges, attrCommands, formatMode, hasChanges, resolveMode, type AttrChanges, type ModeArg } from './file-attrs.ts';
import { backupFile, sha256, sha256OfFile, STREAM_FROM_BYTES } from './place-file.ts';
import type { LocalFile } from '../connection/connection.ts';

export interface CopyDirArgs {
  /** The folder on the controller (resolved). */
  local: string;
  /** src as the task wrote it (a trailing / means "its content"). */
  src: string;
  dest: string;
  mode?: ModeArg;
  directory_mode?: ModeArg;
  owner?: string;
  group?: string;
  force: boolean;
  backup: boolean;
}

interface Disk {
  type: string;
  mode: number;
  owner: string;
  group: string;
  sha256?: string;
}

/** Every folder and file under `dir` (links followed), relative, folders first by depth. */
function walk(dir: string): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  const visit = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = statSync(join(dir, path));
      if (st.isDirectory()) {
        dirs.push(path);
        visit(path);
      } else if (st.isFile()) files.push(path);
    }
  };
  visit('');
  return { dirs, files };
}

/** One exec: type, mode, owner, group of every path, and the sha256 of the regular files. */
async function readTarget(base: string, paths: string[], ctx: ModuleContext): Promise<Map<string, Disk>> {
  const list = paths.map((p) => `${p}\0`).join('');
  const script =
    `cd -- ${shellQuote(base)} 2>/dev/null || exit 0; list=$(cat | tr '\\0' '\\n'); ` +
    `printf '%s\\n' "$list" | tr '\\n' '\\0' | xargs -0 -r stat --printf '%n|%F|%a|%U|%G\\0' -- 2>/dev/null; printf '@@\\0'; ` +
    `printf '%s\\n' "$list" | tr '\\n' '\\0' | xargs -0 -r sha256sum -z -- 2>/dev/null; true`;
  const r = await ctx.conn.exec(script, { stdin: Buffer.from(list), ...asBecome(ctx.become) });
  const [stats, sums] = r.stdout.split('@@\0');
  const map = new Map<string, Disk>();
  for (const record of (stats ?? '').split('\0')) {
    const parts = record.split('|');
    if (parts.length < 5) continue;
    const [type, mode, owner, group] = parts.splice(-4);
    map.set(parts.join('|'), { type: type.startsWith('regular') ? 'file' : type === 'directory' ? 'directory' : type === 'symbolic link' ? 'link' : 'other', mode: parseInt(mode, 8), owner, group });
  }
  for (const record of (sums ?? '').split('\0')) {
    const m = /^([0-9a-f]{64}) {2}(.*)$/s.exec(record);
    const entry = m ? map.get(m[2]) : undefined;
    if (m && entry) entry.sha256 = m[1];
  }
  return map;
}

export async function copyDir(args: CopyDirArgs, ctx: ModuleContext): Promise<Plan> {
  const { dirs, files } = walk(args.local);
  const base = args.src.endsWith('/') ? args.dest : posix.join(args.dest, basename(args.local));
  const root = args.src.endsWith('/') ? [] : [''];
  // '.' is the target folder itself: warm, this one exec is the only read.
  const disk = await readTarget(base, ['.', ...dirs, ...files], ctx);
  const become = asBecome(ctx.become);
  const mkdirs: { path: string; mode: number }[] = [];
  const dirFixes: { path: string; changes: AttrChanges }[] = [];
  const writes: { path: string; content: Buffer | LocalFile; mode: number; backup: boolean }[] = [];
  const fileFixes: { path: string; changes: AttrChanges }[] = [];
  const effects: FileEffect[] = [];
  const attrsWanted = { owner: args.owner, group: args.group };
  // The destination folder itself (and, for `src: dir`, dir under it) is made when missing.
  const top = disk.get('.');
  if (top && top.type !== 'directory') throw new ModuleError(`dest ${base} exists and is not a folder`);
  if (!top && root.length > 0) {
    const destStat = await ctx.conn.stat(args.dest, become);
    if (destStat.exists && destStat.type !== 'directory') throw new ModuleError(`dest ${args.dest} exists and is not a folder`);
    if (!destStat.exists) mkdirs.push({ path: args.dest, mode: resolveMode(args.directory_mode, undefined, true) ?? 0o755 });
  }
  if (!top && root.length === 0) {
    const mode = resolveMode(args.directory_mode, undefined, true) ?? 0o755;
    mkdirs.push({ path: base, mode });
    effects.push({ path: base, state: 'directory', mode, ...attrsWanted });
  }
  for (const rel of [...root, ...dirs]) {
    const path = rel === '' ? base : posix.join(base, rel);
    const st = disk.get(rel === '' ? '.' : rel);
    if (!st) {
      const mode = resolveMode(args.directory_mode, undefined, true) ?? 0o755;
      mkdirs.push({ path, mode });
      effects.push({ path, state: 'directory', mode, ...attrsWanted });
      continue;
    }
    if (st.type !== 'directory') throw new ModuleError(`${path} exists and is not a folder`);
    const changes = attrChanges({ mode: args.directory_mode, ...attrsWanted }, { exists: true, type: 'directory', mode: st.mode, owner: st.owner, group: st.group });
    if (hasChanges(changes)) dirFixes.push({ path, changes });
    effects.push({ path, state: 'directory', mode: changes.mode ?? st.mode, owner: args.owner ?? st.owner, group: args.group ?? st.group });
  }
  for (const rel of files) {
    const path = posix.join(base, rel);
    const st = disk.get(rel);
    if (st && st.type === 'directory') throw new ModuleError(`${path} exists and is a folder`);
    const isFile = st?.type === 'file';
    if (st && !args.force) continue;
    // A large file is hashed as a stream and streamed to the host, as a single copy does: never read whole.
    const local = join(args.local, rel);
    const size = statSync(local).size;
    const content: Buffer | LocalFile = size > STREAM_FROM_BYTES ? { localPath: local, size, sha256: await sha256OfFile(local) } : readFileSync(local);
    const sum = Buffer.isBuffer(content) ? sha256(content) : content.sha256;
    const mode = resolveMode(args.mode, isFile ? st.mode : undefined, false) ?? (isFile ? st.mode : 0o644);
    const kept = { mode, owner: args.owner ?? st?.owner, group: args.group ?? st?.group };
    effects.push(Buffer.isBuffer(content) ? { path, state: 'file', content, ...kept } : { path, state: 'file', sha256: sum, size, ...kept });
    if (!isFile || st.sha256 !== sum) {
      writes.push({ path, content, mode, backup: args.backup && isFile });
      continue;
    }
    const changes = attrChanges({ mode: args.mode, ...attrsWanted }, { exists: true, type: 'file', mode: st.mode, owner: st.owner, group: st.group });
    if (hasChanges(changes)) fileFixes.push({ path, changes });
  }
  const changed = mkdirs.length + dirFixes.length + writes.length + fileFixes.length > 0;
  const result = { dest: args.dest, src: args.src, ...(args.mode !== undefined ? { mode: typeof args.mode === 'number' ? formatMode(args.mode) : args.mode } : {}) };
  if (!changed) return { changed: false, result };
  let diff: FileDiff[] | undefined;
  if (ctx.diff) {
    diff = [];
    // A streamed file is too large to show, as with a single copy.
    for (const w of writes) if (Buffer.isBuffer(w.content)) diff.push(fileDiff(w.path, disk.get(w.path.slice(base.length + 1)) ? await ctx.conn.get(w.path, become) : null, w.content));
    for (const d of mkdirs) diff.push({ path: d.path, before: 'state: absent\n', after: `state: directory\nmode: ${formatMode(d.mode)}\n` });
  }
  return {
    changed: true,
    msg: `copy ${args.src} to ${base}: ${writes.length} file(s) written, ${mkdirs.length} folder(s) made, ${dirFixes.length + fileFixes.length} attribute fix(es)`,
    diff,
    result,
    effects,
    apply: async () => {
      const who = { owner: args.owner, group: args.group };
      const before = mkdirs.flatMap((d) => [`mkdir -p -- ${shellQuote(d.path)}`, ...attrCommands(d.path, { mode: d.mode, ...who })]);
      const fixes = [...dirFixes, ...fileFixes].flatMap((f) => attrCommands(f.path, f.changes));
      if (before.length > 0) {
        const r = await ctx.conn.exec(before.join(' && '), become);
        if (r.rc !== 0) throw new ModuleError(`cannot make folders under ${args.dest}: ${r.stderr.trim()}`);
      }
      const backups: string[] = [];
      for (const w of writes) {
        if (w.backup) backups.push(await backupFile(w.path, ctx));
        const st = disk.get(w.path.slice(base.length + 1));
        const options = { mode: w.mode, owner: args.owner ?? st?.owner, group: args.group ?? st?.group, ...become };
        if (Buffer.isBuffer(w.content)) await ctx.conn.put(w.path, w.content, options);
        else if (ctx.conn.putFile) await ctx.conn.putFile(w.path, w.content, options);
        else await ctx.conn.put(w.path, readFileSync(w.content.localPath), options); // a connection that cannot stream
      }
      if (fixes.length > 0) {
        const r = await ctx.conn.exec(fixes.join(' && '), become);
        if (r.rc !== 0) throw new ModuleError(`cannot set attributes under ${args.dest}: ${r.stderr.trim()}`);
      }
      return backups.length > 0 ? { backup_files: backups } : {};
    },
  };
}

interface HostEntry {
  type: 'd' | 'f';
  mode: number;
  sha256?: string;
}

/** A tree on the host: folders and files (links followed) with modes and the sha256 of files. */
function parseTree(text: string): Map<string, HostEntry> {
  const map = new Map<string, HostEntry>();
  const [list, sums] = text.split('@@SUMS\0');
  for (const record of (list ?? '').split('\0')) {
    const m = /^([df])\|([0-7]+)\|(.*)$/s.exec(record);
    if (m) map.set(m[3], { type: m[1] as 'd' | 'f', mode: parseInt(m[2], 8) });
  }
  for (const record of (sums ?? '').split('\0')) {
    const m = /^([0-9a-f]{64}) {2}\.\/(.*)$/s.exec(record);
    const entry = m ? map.get(m[2]) : undefined;
    if (m && entry) entry.sha256 = m[1];
  }
  return map;
}

function treeScript(dir: string): string {
  return (
    `if cd -- ${shellQuote(dir)} 2>/dev/null; then find -L . -mindepth 0 \\( -type d -printf 'd|%m|%P\\0' \\) -o \\( -type f -printf 'f|%m|%P\\0' \\); ` +
    `printf '@@SUMS\\0'; find -L . -type f -print0 | xargs -0 -r sha256sum -z --; else printf 'MISSING\\0'; fi`
  );
}

/**
 * remote_src with a folder, as Ansible's copy module on the host: new folders and files take the source's modes,
 * files whose content differs are copied again (with the source's mode); files with the same content are left as
 * they are. Both trees are read in one exec; one more copies what differs.
 */
export async function copyDirOnHost(args: Omit<CopyDirArgs, 'local'>, ctx: ModuleContext): Promise<Plan> {
  const become = asBecome(ctx.become);
  const src = args.src.replace(/\/+$/, '');
  const base = args.src.endsWith('/') ? args.dest : posix.join(args.dest, posix.basename(src));
  const r = await ctx.conn.exec(`${treeScript(src)}; printf '@@TARGET\\0'; ${treeScript(base)}; true`, become);
  const [srcText, targetText] = r.stdout.split('@@TARGET\0');
  const source = parseTree(srcText ?? '');
  const target = parseTree(targetText ?? '');
  const commands: string[] = [];
  const effects: FileEffect[] = [];
  const q = (rel: string): string => shellQuote(rel === '' ? base : posix.join(base, rel));
  if ((srcText ?? '').startsWith('MISSING\0')) throw new ModuleError(`Source ${args.src} not found`);
  const baseMissing = (targetText ?? '').startsWith('MISSING\0');
  // A new target for `src/` takes the source folder's mode (entry ''); for `src` it is a plain new folder (as Ansible).
  const top = args.src.endsWith('/') ? source.get('') : undefined;
  if (baseMissing) {
    commands.push(`mkdir -p -- ${q('')}`, ...(top ? [`chmod ${top.mode.toString(8)} -- ${q('')}`] : []));
    effects.push({ path: base, state: 'directory', mode: top?.mode ?? 0o755 });
  }
  source.delete('');
  let copied = 0;
  for (const [rel, entry] of [...source.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const there = target.get(rel);
    if (entry.type === 'd') {
      if (!there) {
        commands.push(`mkdir -p -- ${q(rel)}`, `chmod ${entry.mode.toString(8)} -- ${q(rel)}`);
        effects.push({ path: posix.join(base, rel), state: 'directory', mode: entry.mode });
      } else if (there.type !== 'd') throw new ModuleError(`${posix.join(base, rel)} exists and is not a folder`);
      continue;
    }
    if (there?.type === 'd') throw new ModuleError(`${posix.join(base, rel)} exists and is a folder`);
    if (there && (!args.force || there.sha256 === entry.sha256)) continue;
    copied++;
    commands.push(`cp -L --preserve=mode -- ${shellQuote(posix.join(src, rel))} ${q(rel)}`);
    effects.push({ path: posix.join(base, rel), state: 'file', mode: entry.mode });
  }
  const who = `${args.owner ?? ''}${args.group !== undefined ? `:${args.group}` : ''}`;
  if (who !== '' && commands.length > 0) commands.push(`chown -R ${shellQuote(who)} -- ${q('')}`);
  const result = { dest: args.dest, src: args.src };
  if (commands.length === 0) return { changed: false, result };
  return {
    changed: true,
    msg: `copy ${args.src} to ${base} on the host: ${copied} file(s)`,
    result,
    effects,
    apply: async () => {
      const out = await ctx.conn.exec(commands.join(' && '), become);
      if (out.rc !== 0) throw new ModuleError(`cannot copy ${args.src} to ${base}: ${out.stderr.trim()}`);
    },
  };
}
