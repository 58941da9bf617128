// group: a local group, with groupadd / groupmod / groupdel as Ansible's group module runs them.
// Reads /etc/group (accounts.ts); its effects rewrite it, so later tasks of a --check run see the group.

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule } from './contract.ts';
import { freeId, groupLine, readAccounts, withLine } from './accounts.ts';
import { asBecome } from './file-attrs.ts';

interface GroupArgs {
  name: string;
  gid?: number;
  state: 'present' | 'absent';
  system: boolean;
  non_unique: boolean;
}

export default defineModule<GroupArgs>({
  name: 'group',
  spec: {
    args: {
      name: { type: 'str', required: true },
      gid: { type: 'int' },
      state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
      system: { type: 'bool', default: false, description: 'A system group (gid below 1000), on creation only.' },
      non_unique: { type: 'bool', default: false, description: 'Allow a gid another group has (-o).' },
    },
  },
  async plan(args, ctx) {
    const acc = await readAccounts(ctx, false);
    const current = acc.groups.find((g) => g.name === args.name);
    let cmd: string[] | undefined;
    let after = current;
    if (args.state === 'absent') {
      if (current) cmd = ['groupdel', args.name];
      after = undefined;
    } else if (!current) {
      const used = new Set(acc.groups.map((g) => g.gid));
      const gid = args.gid ?? (args.system ? freeId(used, 999, 100) : freeId(used, 1000, 60000));
      cmd = ['groupadd', ...(args.gid != null ? ['-g', String(args.gid)] : []), ...(args.non_unique ? ['-o'] : []), ...(args.system ? ['-r'] : []), args.name];
      after = { name: args.name, password: 'x', gid, members: [] };
    } else if (args.gid != null && args.gid !== current.gid) {
      cmd = ['groupmod', '-g', String(args.gid), ...(args.non_unique ? ['-o'] : []), args.name];
      after = { ...current, gid: args.gid };
    }
    const result = after ? { name: args.name, state: 'present', gid: after.gid, system: args.system } : { name: args.name, state: 'absent' };
    if (!cmd) return { changed: false, result };
    const script = cmd.map(shellQuote).join(' ');
    return {
      changed: true,
      msg: script,
      result,
      effects: [{ path: '/etc/group', state: 'file', content: Buffer.from(withLine(acc.groupText, args.name, after ? groupLine(after) : null)) }],
      apply: async () => {
        const r = await ctx.conn.exec(script, asBecome(ctx.become));
        if (r.rc !== 0) throw new ModuleError(`${script} failed: ${(r.stderr || r.stdout).trim()}`, { rc: r.rc, stderr: r.stderr });
      },
    };
  },
});
