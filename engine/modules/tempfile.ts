// tempfile: a new temporary file or folder on the host (mktemp), named prefix + random + suffix as Ansible's.
// Always a change. In --check nothing is made: the result's path is a placeholder with XXXXXXXX for the random part.

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule } from './contract.ts';
import { asBecome } from './file-attrs.ts';

interface TempfileArgs {
  state: 'file' | 'directory';
  path?: string;
  prefix: string;
  suffix: string;
}

export default defineModule<TempfileArgs>({
  name: 'tempfile',
  spec: {
    args: {
      state: { type: 'str', default: 'file', choices: ['file', 'directory'] },
      path: { type: 'path', description: 'The folder to make it in (default: $TMPDIR, else /tmp).' },
      prefix: { type: 'str', default: 'ansible.' },
      suffix: { type: 'str', default: '' },
    },
  },
  async plan(args, ctx) {
    if (args.prefix.includes('/') || args.suffix.includes('/')) throw new ModuleError('prefix and suffix cannot contain a /');
    const dir = args.path ?? '${TMPDIR:-/tmp}';
    const where = args.path !== undefined ? shellQuote(args.path) : `"${dir}"`;
    const template = shellQuote(`${args.prefix}XXXXXXXX`);
    const planned = `${args.path ?? '/tmp'}/${args.prefix}XXXXXXXX${args.suffix}`;
    return {
      changed: true,
      msg: `make a temporary ${args.state} in ${args.path ?? '$TMPDIR'}`,
      result: { path: planned, state: args.state },
      effects: [args.state === 'directory' ? { path: planned, state: 'directory', mode: 0o700 } : { path: planned, state: 'file', content: Buffer.alloc(0), mode: 0o600 }],
      apply: async () => {
        const cmd = `mktemp ${args.state === 'directory' ? '-d ' : ''}--suffix=${shellQuote(args.suffix)} -p ${where} ${template}`;
        const r = await ctx.conn.exec(cmd, asBecome(ctx.become));
        if (r.rc !== 0) throw new ModuleError(`cannot make a temporary ${args.state}: ${r.stderr.trim()}`);
        const path = r.stdout.trim();
        return { path, state: args.state };
      },
    };
  },
});
