// slurp: a host file's content, base64-encoded, in one round trip (Ansible's return values: content, encoding, source).

import { ModuleError, defineModule } from './contract.ts';
import { asBecome } from './file-attrs.ts';

interface SlurpArgs {
  src: string;
}

export default defineModule<SlurpArgs>({
  name: 'slurp',
  spec: { args: { src: { type: 'path', required: true, aliases: ['path'] } } },
  async plan(args, ctx) {
    const p = args.src.replaceAll("'", "'\\''");
    // One exec: the type check and the content, base64 so any bytes pass through the shell's text output.
    const r = await ctx.conn.exec(`if [ -d '${p}' ]; then exit 21; elif [ ! -e '${p}' ]; then exit 2; fi; base64 -w0 -- '${p}'`, asBecome(ctx.become));
    if (r.rc === 21) throw new ModuleError(`source is a directory and must be a file: ${args.src}`, { source: args.src });
    if (r.rc === 2) throw new ModuleError(`file not found: ${args.src}`, { source: args.src });
    if (r.rc !== 0) throw new ModuleError(`cannot read ${args.src}: ${r.stderr.trim()}`, { source: args.src });
    return { changed: false, result: { content: r.stdout.trim(), encoding: 'base64', source: args.src } };
  },
});
