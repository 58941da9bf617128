// slurp: a host file's content, base64-encoded (Ansible's return values: content, encoding, source).
// One read through the connection, so that in --check it sees a file an earlier task plans.

import { ModuleError, defineModule } from './contract.ts';
import { asBecome } from './file-attrs.ts';

interface SlurpArgs {
  src: string;
}

export default defineModule<SlurpArgs>({
  name: 'slurp',
  spec: { args: { src: { type: 'path', required: true, aliases: ['path'] } } },
  async plan(args, ctx) {
    const become = asBecome(ctx.become);
    let content: Buffer | null;
    try {
      content = await ctx.conn.get(args.src, become);
    } catch (error) {
      // Only a failed read costs a second round trip, to tell a folder from another problem.
      const st = await ctx.conn.stat(args.src, { follow: true, ...become });
      if (st.exists && st.type === 'directory') throw new ModuleError(`source is a directory and must be a file: ${args.src}`, { source: args.src });
      throw new ModuleError(`cannot read ${args.src}: ${(error as Error).message}`, { source: args.src });
    }
    if (content === null) throw new ModuleError(`file not found: ${args.src}`, { source: args.src });
    return { changed: false, result: { content: content.toString('base64'), encoding: 'base64', source: args.src } };
  },
});
