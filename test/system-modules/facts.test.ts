// Facts against Ansible's on the same systemd host: `ansible -m setup` and kplay's setup give the facts the README
// lists with the same keys and value types (and the same values where they cannot differ between two runs), and
// `ansible -m service_facts` and kplay's service_facts list the same services in the same states.

import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lab/nspawn.ts';
import { kplayRun, onHost, startSysLab } from './lab.ts';

const HOST = 'controller-0';
const FACTS = [
  'interfaces', 'all_ipv4_addresses', 'all_ipv6_addresses', 'default_ipv4', 'default_ipv6', 'selinux', 'env', 'user_id',
  'date_time', 'mounts', 'pkg_mgr', 'distribution_release', 'lsb', 'host0', 'lo', 'hostname', 'os_family', 'distribution',
];
// Values that may differ between two gatherings a moment apart, or that Ansible reads from its own Python process.
const VOLATILE = new Set(['date_time', 'env', 'mounts']);

/** Keys and value types, recursively (lists by their first element). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length > 0 ? [shape(value[0])] : [];
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, shape(v)]));
  }
  return value === null ? 'null' : typeof value;
}

async function ansibleModule(inventory: string, module: string): Promise<Record<string, unknown>> {
  const r = await run('env', ['ANSIBLE_PIPELINING=1', 'ansible', '-i', inventory, HOST, '-m', module, '-o'], { timeoutMs: 120_000 });
  if (r.rc !== 0) throw new Error(`ansible -m ${module}: ${r.stdout}${r.stderr}`);
  return (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { ansible_facts: Record<string, unknown> }).ansible_facts;
}

t.test('setup and service_facts have the shapes of Ansible 2.14', async (t) => {
  const lab = await startSysLab('sysfact', 1);
  t.teardown(() => lab.stop());
  const dir = t.testdir({
    'facts.yml': [
      '- hosts: all',
      '  tasks:',
      '    - service_facts:',
      '    - copy:',
      '        dest: /root/kplay-facts.json',
      '        content: "{{ ansible_facts | to_json }}"',
      '',
    ].join('\n'),
  });
  const [setup, services] = await Promise.all([ansibleModule(lab.inventoryPath, 'setup'), ansibleModule(lab.inventoryPath, 'service_facts')]);
  const r = await kplayRun(lab, join(dir, 'facts.yml'), [], dir);
  t.equal(r.code, 0, 'kplay exits 0', { output: r.code === 0 ? '' : r.stderr + r.stdout.slice(-2000) });
  const ours = JSON.parse(await onHost(lab, HOST, 'cat /root/kplay-facts.json')) as Record<string, unknown>;
  writeFileSync(join(dir, 'ansible-setup.json'), JSON.stringify(setup, null, 2)); // for a look when this fails

  for (const fact of FACTS) {
    const theirs = setup[`ansible_${fact}`];
    let mine = ours[fact];
    // Ansible reports an interface's speed when the driver knows it; kplay does not read it.
    if (fact === 'host0' && mine && typeof mine === 'object' && theirs && typeof theirs === 'object' && 'speed' in theirs) mine = { ...mine, speed: (theirs as { speed: unknown }).speed };
    if (fact === 'env') {
      // Ansible's env is its Python process's: it adds `_` and LANG; every variable kplay sees, Ansible sees too.
      const theirEnv = theirs as Record<string, string>;
      t.same(Object.entries(mine as Record<string, string>).filter(([k, v]) => theirEnv[k] !== v && k !== 'SSH_CLIENT' && k !== 'SSH_CONNECTION'), [], 'ansible_env: the same variables as Ansible sees');
      continue;
    }
    t.same(shape(mine), shape(theirs), `ansible_${fact}: the same keys and value types as Ansible's`);
    // Ansible builds the interface list from a set: its order changes from run to run.
    const sorted = (v: unknown): unknown => (fact === 'interfaces' && Array.isArray(v) ? [...(v as string[])].sort() : v);
    if (!VOLATILE.has(fact)) t.same(sorted(mine), sorted(theirs), `ansible_${fact}: the same value`);
  }
  const env = ours.env as Record<string, string>;
  t.equal(env.HOME, '/root', 'ansible_env holds the remote environment');
  t.same(ours.version, { full: '2.14.18', major: 2, minor: 14, revision: 18, string: '2.14.18' }, 'ansible_version names the Ansible kplay follows');

  const theirServices = services.services as Record<string, Record<string, unknown>>;
  const ourServices = ours.services as Record<string, Record<string, unknown>>;
  t.same(Object.keys(ourServices).sort(), Object.keys(theirServices).sort(), 'the same services');
  for (const name of ['ssh.service', 'nginx.service', 'etcd.service', 'systemd-networkd.service', 'nginx']) {
    t.same(ourServices[name], theirServices[name], `${name}: the same state, status and source`);
  }
});
