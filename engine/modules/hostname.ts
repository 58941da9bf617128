// hostname: the host's name, now and after a reboot. With systemd as PID 1 (or use=systemd) through hostnamectl, as
// Ansible does; otherwise (use=debian, generic, file) /etc/hostname and the `hostname` command.
//
// One round trip reads the current and the permanent name (and whether systemd runs); apply() sets what differs in
// one command. The facts ansible_hostname, ansible_nodename, ansible_fqdn and ansible_domain follow the new name.

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule } from './contract.ts';
import { asBecome } from './file-attrs.ts';

interface HostnameArgs {
  name: string;
  use?: string;
}

const STRATEGIES = ['alpine', 'debian', 'freebsd', 'generic', 'macos', 'macosx', 'darwin', 'openbsd', 'openrc', 'redhat', 'sles', 'solaris', 'systemd'];
const FILE_STRATEGIES = new Set(['debian', 'generic', 'alpine', 'openrc']);

const READ =
  'if [ -d /run/systemd/system ] && command -v hostnamectl >/dev/null; then echo systemd; hostnamectl --transient status; hostnamectl --static status; ' +
  'else echo file; hostname; cat /etc/hostname 2>/dev/null || echo; fi';

export default defineModule<HostnameArgs>({
  name: 'hostname',
  spec: {
    args: {
      name: { type: 'str', required: true },
      use: { type: 'str', choices: STRATEGIES, description: 'How: systemd (hostnamectl) or debian/generic (/etc/hostname); default by the host.' },
    },
  },
  async plan(args, ctx) {
    const name = args.name;
    if (args.use && !FILE_STRATEGIES.has(args.use) && args.use !== 'systemd') {
      throw new ModuleError(`use=${args.use} is not supported by kplay (systemd, debian, generic, alpine, openrc are)`);
    }
    const become = asBecome(ctx.become);
    const r = await ctx.conn.exec(READ, become);
    if (r.rc !== 0) throw new ModuleError(`cannot read the hostname: ${(r.stderr || r.stdout).trim()}`);
    const [found = 'file', current = '', permanent = ''] = r.stdout.split('\n').map((l) => l.trim());
    const systemd = args.use ? args.use === 'systemd' : found === 'systemd';
    if (systemd && name.length > 64) throw new ModuleError('name cannot be longer than 64 characters on systemd servers, try a shorter name');
    const steps: string[] = [];
    const n = shellQuote(name);
    if (systemd) {
      // Permanent first, as Ansible does (NetworkManager complains otherwise).
      if (permanent !== name) steps.push(`hostnamectl --pretty --static set-hostname ${n}`);
      if (current !== name) steps.push(`hostnamectl --transient set-hostname ${n}`);
    } else {
      if (current !== name) steps.push(`hostname ${n}`);
      if (permanent !== name) steps.push(`printf '%s\\n' ${n} > /etc/hostname`);
    }
    const short = name.split('.')[0];
    const facts = { hostname: short, nodename: name, fqdn: name, domain: name.includes('.') ? name.slice(short.length + 1) : '' };
    const result = { name };
    const factsOut = { ansible_facts: facts, ...Object.fromEntries(Object.entries(facts).map(([k, v]) => [`ansible_${k}`, v])) };
    if (steps.length === 0) return { changed: false, result, facts: factsOut };
    const before = current !== name ? current : permanent;
    return {
      changed: true,
      msg: `hostname ${before} → ${name}`,
      diff: [{ path: 'hostname', before: `hostname = ${before}\n`, after: `hostname = ${name}\n` }],
      result,
      facts: factsOut,
      effects: systemd ? [] : [{ path: '/etc/hostname', state: 'file', content: Buffer.from(`${name}\n`) }],
      apply: async () => {
        const w = await ctx.conn.exec(steps.join(' && '), become);
        if (w.rc !== 0) throw new ModuleError(`Command failed rc=${w.rc}, out=${w.stdout.trim()}, err=${w.stderr.trim()}`);
      },
    };
  },
});
