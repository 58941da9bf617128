// stat: facts about a path on the host, in one round trip. `checksum` is sha256 (Ansible's default is sha1).

import { defineModule } from './contract.ts';
import { asBecome, statMode } from './file-attrs.ts';

interface StatArgs {
  path: string;
  follow: boolean;
  get_checksum: boolean;
  checksum_algorithm: 'sha256';
}

export default defineModule<StatArgs>({
  name: 'stat',
  spec: {
    args: {
      path: { type: 'path', required: true, aliases: ['dest', 'name'] },
      follow: { type: 'bool', default: false, description: 'Describe what a link points to, not the link.' },
      get_checksum: { type: 'bool', default: true, description: 'Add the sha256 of a regular file as `checksum`.' },
      checksum_algorithm: { type: 'str', default: 'sha256', choices: ['sha256'], aliases: ['checksum', 'checksum_algo'] },
    },
  },
  async plan(args, ctx) {
    const st = await ctx.conn.stat(args.path, { follow: args.follow, checksum: args.get_checksum, ...asBecome(ctx.become) });
    if (!st.exists) return { changed: false, result: { stat: { exists: false } } };
    const mode = st.mode ?? 0;
    const stat = {
      exists: true,
      path: args.path,
      isdir: st.type === 'directory',
      isreg: st.type === 'file',
      islnk: st.type === 'link',
      mode: statMode(mode),
      uid: st.uid,
      gid: st.gid,
      pw_name: st.owner,
      gr_name: st.group,
      size: st.size,
      mtime: st.mtime,
      // Ansible's permission flags, from the mode bits.
      xusr: (mode & 0o100) !== 0,
      wusr: (mode & 0o200) !== 0,
      rusr: (mode & 0o400) !== 0,
      ...(st.type === 'link' ? { lnk_target: st.target, lnk_source: st.target } : {}),
      ...(st.sha256 !== undefined ? { checksum: st.sha256 } : {}),
    };
    return { changed: false, result: { stat } };
  },
});
