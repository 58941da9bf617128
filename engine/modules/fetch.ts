// fetch: a host file copied to the controller, laid out as Ansible's: dest/<inventory_hostname>/<src path>, or with
// flat, dest itself (dest ending in / takes the file's name). A relative dest is relative to the playbook's folder.
// Warm is one round trip to the host (a stat with checksum) and a local stat; cold adds one read, streamed into a temp
// file beside dest and hashed on the way (bounded memory, any size), renamed over dest only if the sums agree.
// The checksums in the result are sha256 (Ansible's are sha1), as kplay's stat.

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UnreachableError } from '../connection/connection.ts';
import { shellQuote } from '../core/shell.ts';
import { tempBeside, trackLocalTemp } from '../core/temp-path.ts';
import { ModuleError, defineModule } from './contract.ts';
import { asBecome } from './file-attrs.ts';

interface FetchArgs {
  src: string;
  dest: string;
  flat: boolean;
  fail_on_missing: boolean;
  validate_checksum: boolean;
}

export default defineModule<FetchArgs>({
  name: 'fetch',
  spec: {
    args: {
      src: { type: 'str', required: true, description: 'The file on the host.' },
      dest: { type: 'str', required: true, description: 'A folder on the controller (or, with flat, the file).' },
      flat: { type: 'bool', default: false, description: 'dest is the file itself, without the host name and src path below it.' },
      fail_on_missing: { type: 'bool', default: true },
      validate_checksum: { type: 'bool', default: true, description: 'Check the copy against the host file\'s checksum.' },
    },
  },
  async plan(args, ctx) {
    const src = posix.normalize(args.src);
    let dest = args.dest;
    // A relative dest is relative to the playbook's folder, as Ansible's path_dwim.
    if (!isAbsolute(dest)) dest = resolve(typeof ctx.vars.playbook_dir === 'string' ? ctx.vars.playbook_dir : process.cwd(), dest);
    if (args.flat) {
      if (args.dest.endsWith('/')) dest = join(dest, posix.basename(src));
    } else {
      const under = isAbsolute(src) ? src : `/${src}`;
      dest = join(dest, ctx.hostName, under);
    }
    const remote = await ctx.conn.stat(src, { checksum: true, follow: true, ...asBecome(ctx.become) });
    if (!remote.exists) {
      const msg = 'the remote file does not exist, not transferring, ignored';
      if (args.fail_on_missing) throw new ModuleError(msg, { file: src });
      return { changed: false, msg, result: { file: src, msg } };
    }
    if (remote.type === 'directory') throw new ModuleError('remote file is a directory, fetch cannot work on directories', { file: src });
    const local = await ctx.controller.stat(dest, { checksum: true, follow: true });
    const result = { dest, file: src, checksum: remote.sha256, remote_checksum: remote.sha256 };
    if (local.exists && local.sha256 === remote.sha256) return { changed: false, result };
    return {
      changed: true,
      msg: `fetch ${src} to ${dest}`,
      result,
      apply: async () => {
        if (ctx.conn.readStream) {
          const r = await ctx.controller.exec(`mkdir -p -- ${shellQuote(dirname(dest))}`);
          if (r.rc !== 0) throw new ModuleError(`cannot make ${dirname(dest)}: ${r.stderr.trim()}`);
          const tmp = tempBeside(dest);
          const done = trackLocalTemp(tmp);
          try {
            const hash = createHash('sha256');
            const hashing = new Transform({
              transform(chunk: Buffer, _encoding, callback) {
                hash.update(chunk);
                callback(null, chunk);
              },
            });
            await pipeline(ctx.conn.readStream(src, asBecome(ctx.become)), hashing, createWriteStream(tmp, { mode: 0o600, flags: 'wx' }));
            const sum = hash.digest('hex');
            if (args.validate_checksum && sum !== remote.sha256) {
              throw new ModuleError('checksum mismatch', { file: src, dest, checksum: sum, remote_checksum: remote.sha256 });
            }
            await chmod(tmp, local.exists ? (local.mode ?? 0o644) : 0o644);
            await rename(tmp, dest);
            return { checksum: sum };
          } catch (error) {
            await rm(tmp, { force: true });
            if (error instanceof ModuleError || error instanceof UnreachableError) throw error;
            throw new ModuleError(`cannot fetch ${src} to ${dest}: ${(error as Error).message}`);
          } finally {
            done();
          }
        }
        const content = await ctx.conn.get(src, asBecome(ctx.become));
        if (content === null) throw new ModuleError(`the remote file disappeared: ${src}`, { file: src });
        const sum = createHash('sha256').update(content).digest('hex');
        if (args.validate_checksum && sum !== remote.sha256) {
          throw new ModuleError('checksum mismatch', { file: src, dest, checksum: sum, remote_checksum: remote.sha256 });
        }
        const r = await ctx.controller.exec(`mkdir -p -- ${shellQuote(dirname(dest))}`);
        if (r.rc !== 0) throw new ModuleError(`cannot make ${dirname(dest)}: ${r.stderr.trim()}`);
        await ctx.controller.put(dest, content, { mode: local.exists ? local.mode : 0o644 });
        return { checksum: sum };
      },
    };
  },
});
