// getent: a name service database (passwd, group, hosts, services...) as the fact getent_<database>, shaped as
// Ansible's getent module shapes it: each entry's first field is the key, the rest a list. One command.

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule } from './contract.ts';
import { asBecome } from './file-attrs.ts';

interface GetentArgs {
  database: string;
  key?: string;
  service?: string;
  split?: string;
  fail_key: boolean;
}

const COLON = new Set(['passwd', 'shadow', 'group', 'gshadow']);
const FAILURES: Record<number, string> = {
  1: 'Missing arguments, or database unknown.',
  2: 'One or more supplied key could not be found in the database.',
  3: 'Enumeration not supported on this database.',
};

export default defineModule<GetentArgs>({
  name: 'getent',
  spec: {
    args: {
      database: { type: 'str', required: true, description: 'passwd, group, shadow, hosts, services, ...' },
      key: { type: 'str', description: 'One entry; without it, the whole database.' },
      service: { type: 'str', description: 'The NSS service to ask (getent -s).' },
      split: { type: 'str', description: "Field separator (default ':' for passwd, shadow, group, gshadow; else whitespace)." },
      fail_key: { type: 'bool', default: true, description: 'Fail when the key is not found.' },
    },
  },
  async plan(args, ctx) {
    const words = ['getent', args.database, ...(args.key != null ? [args.key] : []), ...(args.service != null ? ['-s', args.service] : [])];
    const r = await ctx.conn.exec(words.map(shellQuote).join(' '), asBecome(ctx.become));
    const tree = `getent_${args.database}`;
    const entries: Record<string, unknown> = {};
    const split = args.split ?? (COLON.has(args.database) ? ':' : undefined);
    const facts = (msg?: string) => ({
      changed: false,
      ...(msg ? { msg } : {}),
      facts: { ansible_facts: { [tree]: entries }, [tree]: entries },
    });
    if (r.rc === 0) {
      const seen = new Map<string, number>();
      for (const line of r.stdout.split('\n').filter((l) => l !== '')) {
        const record = split === undefined ? line.trim().split(/\s+/) : line.split(split);
        const [key, ...rest] = record;
        const n = seen.get(key) ?? 0;
        // A key found more than once becomes a list of its entries, as in Ansible.
        if (n === 0) entries[key] = rest;
        else entries[key] = n === 1 ? [entries[key], rest] : [...(entries[key] as unknown[]), rest];
        seen.set(key, n + 1);
      }
      return facts();
    }
    if (r.rc === 2 && !args.fail_key) {
      entries[args.key ?? ''] = null;
      return facts(FAILURES[2]);
    }
    throw new ModuleError(FAILURES[r.rc] ?? `getent failed (rc ${r.rc}): ${r.stderr.trim()}`, { rc: r.rc });
  },
});
