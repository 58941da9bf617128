// service_facts: every service the host knows, as ansible_facts.services shaped as Ansible's service_facts shapes it
// ({"ssh.service": {name, state, status, source: "systemd"}, "nginx": {name, state, source: "sysv"}}), from one
// command: `service --status-all`, then systemd's units and unit files (and the state of unit files not loaded).

import { defineModule } from './contract.ts';
import { asBecome } from './file-attrs.ts';

const SCRIPT = [
  'echo @@sysv; command -v service >/dev/null 2>&1 && service --status-all 2>/dev/null',
  'echo @@systemd; grep -q systemd /proc/1/comm 2>/dev/null || exit 0',
  'echo @@units; systemctl list-units --no-pager --type service --all --plain --no-legend',
  'echo @@files; systemctl list-unit-files --no-pager --type service --all --no-legend',
  'echo @@show; systemctl list-unit-files --no-pager --type service --all --no-legend | while read -r u rest; do printf "%s " "$u"; systemctl show "$u" -p ActiveState --value 2>/dev/null || echo; done',
].join('\n');

const BAD = ['not-found', 'masked', 'failed'];

interface Service {
  name: string;
  state: string;
  status?: string;
  source: string;
}

export function parseServices(stdout: string): Record<string, Service> {
  const sections = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^@@(\w+)$/.exec(line);
    if (m) sections.set(m[1], (current = []));
    else if (line.trim() !== '') current.push(line);
  }
  const services: Record<string, Service> = {};
  for (const line of sections.get('sysv') ?? []) {
    const m = /^\s*\[ ([+-]) \]\s+(.+)$/.exec(line);
    if (m) services[m[2]] = { name: m[2], state: m[1] === '+' ? 'running' : 'stopped', source: 'sysv' };
  }
  if (!sections.has('units')) return services;
  for (const line of (sections.get('units') ?? []).filter((l) => l.includes('.service'))) {
    let fields = line.trim().split(/\s+/);
    if (fields[0] === '●' || fields[0] === '*') fields = fields.slice(1);
    // UNIT LOAD ACTIVE SUB: a bad LOAD state is the status, else the ACTIVE one.
    const bad = BAD.find((b) => fields.includes(b));
    const status = bad ?? fields[2];
    services[fields[0]] = { name: fields[0], state: fields[3] === 'running' ? 'running' : 'stopped', status, source: 'systemd' };
  }
  const states = new Map((sections.get('show') ?? []).map((l) => [l.split(' ')[0], l.split(' ')[1] ?? ''] as const));
  for (const line of (sections.get('files') ?? []).filter((l) => l.includes('.service'))) {
    const [name, status] = line.trim().split(/\s+/);
    const known = services[name];
    if (!known) services[name] = { name, state: states.get(name) || 'unknown', status, source: 'systemd' };
    else if (!BAD.includes(known.status ?? '')) known.status = status;
  }
  return services;
}

export default defineModule<Record<string, never>>({
  name: 'service_facts',
  spec: { args: {} },
  async plan(_args, ctx) {
    const r = await ctx.conn.exec(SCRIPT, { ...asBecome(ctx.become), env: { LANG: 'C', LC_ALL: 'C' } });
    const services = parseServices(r.stdout);
    if (Object.keys(services).length === 0) {
      return { changed: false, result: { skipped: true, msg: 'Failed to find any services. This can be due to privileges or some other configuration issue.' } };
    }
    return { changed: false, facts: { ansible_facts: { services }, services } };
  },
});
