// Put given content at a path on the host, as copy and template do.
//
// Warm (nothing to do) is one round trip: a stat with checksum, compared with the content's sha256 here. Cold is that
// stat plus one atomic put that also sets mode and owner. The old content is read only for --diff, and only when it
// differs.

import { createHash } from 'node:crypto';
import { tempBeside } from '../core/temp-path.ts';
import { posix } from 'node:path';
import { readFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { UnreachableError, type FileStat, type LocalFile } from '../connection/connection.ts';
import { shellQuote } from '../core/shell.ts';
import { ModuleError, type ModuleContext, type Plan } from './contract.ts';
import { fileDiff } from './diff-text.ts';
import { asBecome, attrChanges, attrCommands, describeChanges, formatMode, hasChanges, resolveMode, type ModeArg } from './file-attrs.ts';

/** A file already on the host (copy with remote_src), copied there without passing through the controller. */
export interface HostFile {
  hostPath: string;
  sha256: string;
  size: number;
}

/** The arguments copy and template share: where the file goes and how it is placed. */
export interface PlaceFileArgs {
  dest: string;
  mode?: ModeArg;
  owner?: string;
  group?: string;
  /** Keep the old file as `dest.<timestamp>~` before replacing it. */
  backup: boolean;
  /** false: leave an existing dest alone, whatever it holds. */
  force: boolean;
  /** A command that must accept the new file (`%s` is its path) before it replaces dest, e.g. `visudo -cf %s`. */
  validate?: string;
}

/** Whether content is a large controller file (copy streams it: never read whole into memory). */
export function isLocalFile(content: Buffer | HostFile | LocalFile): content is LocalFile {
  return !Buffer.isBuffer(content) && 'localPath' in content;
}

export interface PlaceFileRequest extends PlaceFileArgs {
  /** The bytes, a file already on the host (remote_src), or a large controller file to stream. */
  content: Buffer | HostFile | LocalFile;
  /** When dest is a directory (or ends with '/'), write into it under this name; without it that is an error. */
  nameInDir?: string;
  /** Extra values for the result (src). */
  result?: Record<string, unknown>;
  /** dest's stat with checksum, when the caller read it already (saves a round trip). */
  known?: FileStat;
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Controller files larger than this are streamed to the host and hashed as a stream, never read whole. */
export const STREAM_FROM_BYTES = 1024 * 1024;

/** The sha256 of a controller file, read as a stream. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Copy dest to Ansible's backup name, `<dest>.<pid>.<YYYY-MM-DD@HH:MM:SS>~` (the pid and time of the host's shell,
 * as Ansible's are the module's on the host), in one exec; returns the name.
 */
export async function backupFile(dest: string, ctx: ModuleContext): Promise<string> {
  const d = shellQuote(dest);
  const r = await ctx.conn.exec(`b=${d}.$$.$(date +%Y-%m-%d@%H:%M:%S~) && cp -p -- ${d} "$b" && printf %s "$b"`, asBecome(ctx.become));
  if (r.rc !== 0) throw new ModuleError(`cannot back up ${dest}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Connection errors other than unreachable become task failures with a message naming the path. */
function asModuleError(error: unknown, what: string): Error {
  if (error instanceof UnreachableError || error instanceof ModuleError) return error;
  return new ModuleError(`${what}: ${(error as Error).message}`);
}

async function statDest(request: PlaceFileRequest, ctx: ModuleContext): Promise<[string, FileStat]> {
  if (request.known) return [request.dest, request.known];
  const stat = (path: string): Promise<FileStat> => ctx.conn.stat(path, { checksum: true, ...asBecome(ctx.become) });
  const intoDir = (dir: string): string => {
    if (!request.nameInDir) throw new ModuleError(`${dir} is a directory: give dest a file name`);
    return posix.join(dir, request.nameInDir);
  };
  let dest = request.dest.endsWith('/') ? intoDir(request.dest) : request.dest;
  let st = await stat(dest);
  // A link to a directory is that directory, as in Ansible (which writes inside it); a link to a file is replaced.
  const isDir = st.type === 'directory' || (st.type === 'link' && (await ctx.conn.stat(dest, { follow: true, ...asBecome(ctx.become) })).type === 'directory');
  if (st.exists && isDir && dest === request.dest) {
    dest = intoDir(dest);
    st = await stat(dest);
  }
  if (st.exists && st.type !== 'file' && st.type !== 'link') {
    throw new ModuleError(`${dest} exists and is not a regular file (${st.type})`);
  }
  return [dest, st];
}


/** remote_src: copy beside dest, set attributes, validate, rename over dest; all in one exec, cleaned up on failure. */
async function copyOnHost(
  src: string,
  dest: string,
  attrs: { mode: number; owner?: string; group?: string; validate?: string },
  ctx: ModuleContext,
): Promise<void> {
  const tmpPath = tempBeside(dest);
  const tmp = shellQuote(tmpPath);
  const steps = [`cp -- ${shellQuote(src)} ${tmp}`, ...attrCommands(tmpPath, { mode: attrs.mode, owner: attrs.owner, group: attrs.group })];
  if (attrs.validate) steps.push(attrs.validate.replaceAll('%s', tmp));
  steps.push(`mv -f -- ${tmp} ${shellQuote(dest)}`);
  const r = await ctx.conn.exec(`{ ${steps.join(' && ')}; } || { rc=$?; rm -f -- ${tmp}; exit $rc; }`, asBecome(ctx.become));
  if (r.rc !== 0) {
    const what = attrs.validate ? 'failed to copy or validate' : 'cannot copy';
    throw new ModuleError(`${what} ${src} to ${dest}: ${(r.stderr || r.stdout).trim()}`, { rc: r.rc, stdout: r.stdout, stderr: r.stderr });
  }
}

/** Run the validate command on the new file beside dest; move it over dest only if it passes (one exec). */
async function validateAndMove(validate: string, tmp: string, dest: string, ctx: ModuleContext): Promise<void> {
  const t = shellQuote(tmp);
  const check = validate.replaceAll('%s', t);
  const r = await ctx.conn.exec(`if ${check}; then mv -f -- ${t} ${shellQuote(dest)}; else rc=$?; rm -f -- ${t}; exit $rc; fi`, asBecome(ctx.become));
  if (r.rc !== 0) {
    throw new ModuleError(`failed to validate: ${(r.stderr || r.stdout).trim()}`, { rc: r.rc, stdout: r.stdout, stderr: r.stderr, validate });
  }
}

export async function placeFile(request: PlaceFileRequest, ctx: ModuleContext): Promise<Plan> {
  if (request.validate !== undefined && !request.validate.includes('%s')) {
    throw new ModuleError(`validate must contain %s: ${request.validate}`);
  }
  const [dest, st] = await statDest(request, ctx);
  const isFile = st.exists && st.type === 'file';
  const content = request.content;
  const checksum = Buffer.isBuffer(content) ? sha256(content) : content.sha256;
  // Replacing a file keeps its mode and owner unless the task sets them (a link is replaced by a file).
  const mode = resolveMode(request.mode, isFile ? st.mode : undefined, false) ?? (isFile ? st.mode : undefined) ?? 0o644;
  const owner = request.owner ?? (isFile ? st.owner : undefined);
  const group = request.group ?? (isFile ? st.group : undefined);
  const result: Record<string, unknown> = {
    ...request.result,
    dest,
    checksum,
    size: Buffer.isBuffer(content) ? content.length : content.size,
    mode: formatMode(mode),
    owner,
    group,
    state: 'file',
  };
  // A host file's content is read only when --diff shows it; the --check overlay reads it (`from`) only if asked.
  // A streamed controller file is too large to show: --diff says only that it changes.
  const known = async (): Promise<Buffer | undefined> =>
    Buffer.isBuffer(content) ? content : isLocalFile(content) ? undefined : ((await ctx.conn.get(content.hostPath, asBecome(ctx.become))) ?? undefined);
  const effects: Plan['effects'] = [
    Buffer.isBuffer(content)
      ? { path: dest, state: 'file', content, mode, owner, group }
      : isLocalFile(content)
        ? { path: dest, state: 'file', sha256: content.sha256, size: content.size, mode, owner, group }
        : { path: dest, state: 'file', from: content.hostPath, mode, owner, group },
  ];

  if (st.exists && !request.force) {
    return { changed: false, msg: 'file already exists', result: { ...result, ...existing(st) } };
  }

  if (isFile && st.sha256 === checksum) {
    const changes = attrChanges(request, st);
    if (!hasChanges(changes)) return { changed: false, result, effects };
    return {
      changed: true,
      msg: `${dest}: ${describeChanges(changes, st)}`,
      result,
      effects,
      apply: async () => {
        const r = await ctx.conn.exec(attrCommands(dest, changes).join(' && '), asBecome(ctx.become));
        if (r.rc !== 0) throw new ModuleError(`cannot set attributes of ${dest}: ${r.stderr.trim()}`);
      },
    };
  }

  const plan: Plan = {
    changed: true,
    msg: `${isFile ? 'update' : 'create'} ${dest} ${formatMode(mode)}`,
    result,
    effects,
    apply: async () => {
      const applied: Record<string, unknown> = {};
      if (request.backup && isFile) {
        applied.backup_file = await backupFile(dest, ctx);
      }
      const attrs = { mode, owner, group, validate: request.validate };
      if (!Buffer.isBuffer(content) && !isLocalFile(content)) {
        await copyOnHost(content.hostPath, dest, attrs, ctx);
        return applied;
      }
      const target = request.validate ? tempBeside(dest) : dest;
      const putOptions = { mode, owner, group, ...asBecome(ctx.become) };
      try {
        if (!isLocalFile(content)) await ctx.conn.put(target, content, putOptions);
        else if (ctx.conn.putFile) await ctx.conn.putFile(target, content, putOptions);
        else await ctx.conn.put(target, await readFile(content.localPath), putOptions); // a connection that cannot stream
      } catch (error) {
        throw asModuleError(error, `cannot write ${dest}`);
      }
      if (request.validate) await validateAndMove(request.validate, target, dest, ctx);
      return applied;
    },
  };
  const after = ctx.diff ? await known() : undefined;
  // Read for --diff anyway: the effect carries the content itself rather than where to read it.
  if (after) effects[0] = { path: dest, state: 'file', content: after, mode, owner, group };
  if (after) {
    const before = isFile ? await ctx.conn.get(dest, asBecome(ctx.become)) : null;
    plan.diff = [fileDiff(dest, before, after)];
  }
  return plan;
}

/** The result values of a file left as it is. */
function existing(st: FileStat): Record<string, unknown> {
  return { checksum: st.sha256, size: st.size, mode: formatMode(st.mode), owner: st.owner, group: st.group };
}
