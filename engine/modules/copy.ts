// copy: put a controller file (`src`, from the role's files/ or beside the playbook) or given `content` on the host;
// with remote_src, copy a file that is on the host already.
// Result `checksum` is the sha256 of the content (Ansible's is sha1).

import { basename } from 'node:path';
import { asBecome, resolveMode, type ModeArg } from './file-attrs.ts';
import { copyDir, copyDirOnHost } from './copy-dir.ts';
import { ModuleError, defineModule, type ModuleContext } from './contract.ts';
import { omitNulls } from '../core/given.ts';
import type { LocalFile } from '../connection/connection.ts';
import { placeFile, STREAM_FROM_BYTES, type HostFile, type PlaceFileArgs } from './place-file.ts';
import { pyToJson } from '../jinja/index.ts';


interface CopyArgs extends PlaceFileArgs {
  src?: string;
  content?: unknown;
  remote_src: boolean;
  directory_mode?: ModeArg;
}

/** The file to copy: read from the controller, or (remote_src) only stat'ed on the host. */
async function source(src: string, remote: boolean, ctx: ModuleContext): Promise<[string, Buffer | HostFile | LocalFile | typeof PLANNED] | typeof HOST_FOLDER> {
  if (remote) {
    const st = await ctx.conn.stat(src, { checksum: true, follow: true, ...asBecome(ctx.become) });
    if (!st.exists) throw new ModuleError(`Source ${src} not found`);
    if (st.type === 'directory') return HOST_FOLDER;
    if (st.type !== 'file') throw new ModuleError(`src ${src} is a ${st.type}: only files can be copied`);
    return [src, { hostPath: src, sha256: st.sha256 ?? '', size: st.size ?? 0 }];
  }
  // Read through the controller connection: in --check it also sees files an earlier task would make (pki).
  const path = ctx.findFile(src, 'files');
  const planned = ctx.controller.planned?.(path);
  if (!planned) {
    const st = await ctx.controller.stat(path, { follow: true });
    if (st.exists && st.type === 'file' && (st.size ?? 0) > STREAM_FROM_BYTES) {
      const summed = await ctx.controller.stat(path, { follow: true, checksum: true });
      if (summed.sha256 !== undefined) return [path, { localPath: path, size: summed.size ?? 0, sha256: summed.sha256 }];
    }
  }
  const content = await ctx.controller.get(path);
  if (content !== null) return [path, content];
  // An earlier task of this --check run makes the file, and what it will hold is not known yet.
  if (planned && planned.state !== 'absent') return [path, PLANNED];
  throw new ModuleError(`Source ${src} not found`);
}

const PLANNED = 'planned by an earlier task' as const;
const HOST_FOLDER = 'a folder on the host' as const;

export default defineModule<CopyArgs>({
  name: 'copy',
  spec: {
    args: {
      src: { type: 'path', description: 'A controller file: files/ of the role, or beside the playbook.' },
      content: { type: 'raw', description: 'The file content itself, instead of src (a list or map is written as JSON).' },
      dest: { type: 'path', required: true, description: 'Where on the host; a directory (or ending in /) takes the name of src.' },
      mode: { type: 'mode' },
      owner: { type: 'str' },
      group: { type: 'str' },
      backup: { type: 'bool', default: false, description: 'Keep the old file as dest.<timestamp>~ (result backup_file).' },
      force: { type: 'bool', default: true, description: 'false: only write when dest does not exist.' },
      validate: { type: 'str', description: 'Check the new file before it replaces dest: a command with %s for its path.' },
      remote_src: { type: 'bool', default: false, description: 'src is a path on the host, not on the controller.' },
      directory_mode: { type: 'mode', description: 'Copying a folder: the mode of the folders made or found (default: kept, 0755 when new).' },
    },
    mutuallyExclusive: [['src', 'content']],
    requiredOneOf: [['src', 'content']],
  },
  async plan(given, ctx) {
    const args = omitNulls(given);
    let content: Buffer | HostFile | LocalFile | typeof PLANNED;
    let src: string | undefined;
    if (args.src !== undefined && !args.remote_src) {
      // A folder (src: dir puts dir under dest; src: dir/ puts what is inside it).
      const local = ctx.findFile(args.src, 'files');
      if ((await ctx.controller.stat(local, { follow: true })).type === 'directory') {
        if (args.validate !== undefined) throw new ModuleError('validate cannot be used when copying a folder');
        return copyDir({ ...args, local, src: args.src }, ctx);
      }
    }
    if (args.src !== undefined) {
      const found = await source(args.src, args.remote_src, ctx);
      if (found === HOST_FOLDER) {
        if (args.validate !== undefined || args.mode !== undefined || args.directory_mode !== undefined) {
          throw new ModuleError("copying a folder on the host (remote_src) keeps the source's modes: mode, directory_mode and validate are not supported");
        }
        return copyDirOnHost({ ...args, src: args.src }, ctx);
      }
      [src, content] = found;
    }
    // A list or map as `content` is written as Python's json.dumps writes it (Ansible's copy), `["a", 1]`.
    else content = Buffer.from(typeof args.content === 'string' ? args.content : pyToJson(args.content, { indent: null, sortKeys: false, ensureAscii: true }));
    if (content === PLANNED) {
      const dest = args.dest.endsWith('/') ? `${args.dest}${basename(args.src ?? '')}` : args.dest;
      return { changed: true, msg: `copy ${src} (${PLANNED})`, result: { src, dest }, effects: [{ path: dest, state: 'file', mode: resolveMode(args.mode, undefined, false) }] };
    }
    return placeFile(
      {
        ...args,
        content,
        nameInDir: args.src !== undefined ? basename(args.src) : undefined,
        result: src !== undefined ? { src } : {},
      },
      ctx,
    );
  },
});
