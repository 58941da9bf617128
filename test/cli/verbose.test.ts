// Issue 13: -v shows a result as Ansible's -v does: facts gathering as a bare `ok: [host]` (Ansible's own -v output
// of the same playbook is the oracle), a set_fact's facts once, not nested.

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { kplay } from '../helpers/kplay.ts';
import { labFleet } from '../ssh/fixture.ts';

const PLAYBOOK = '- hosts: localhost\n  gather_facts: true\n  tasks:\n    - set_fact:\n        answer: 42\n';

/** `TASK [x]` → the line after it, for every task. */
function resultLines(out: string): Record<string, string> {
  const lines = out.split('\n');
  const found: Record<string, string> = {};
  lines.forEach((line, i) => {
    const task = /^TASK \[(.+)\] \*+$/.exec(line)?.[1];
    if (task) found[task] = lines[i + 1];
  });
  return found;
}

t.test('-v: facts gathering shows no facts; set_fact its facts once', async (t) => {
  const cwd = t.testdir({ 'site.yml': PLAYBOOK });
  const ours = resultLines((await kplay(['run', 'site.yml', '-v'], { cwd })).stdout);
  const ansible = resultLines(
    execFileSync('ansible-playbook', ['-v', '-i', 'localhost,', '-c', 'local', 'site.yml'], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3' },
    }),
  );
  t.equal(ours['Gathering Facts'], 'ok: [localhost]', 'no facts dumped');
  t.equal(ours['Gathering Facts'], ansible['Gathering Facts'], 'as Ansible');
  const facts = (line: string) => JSON.parse(line.replace(/^ok: \[localhost\] => /, '')) as Record<string, unknown>;
  t.same(facts(ours.set_fact), facts(ansible.set_fact), 'set_fact: the same values as Ansible');
  t.same(facts(ours.set_fact).ansible_facts, { answer: 42 }, 'once, not nested');
});

t.test('-vvv: how kplay connects, once per host, without secrets', async (t) => {
  const cwd = t.testdir({
    'site.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: "true"\n    - command: "true"\n',
    'inventory.yml': 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_become_password: s3cret-pass\n',
  });
  const vvv = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '-vvv'], { cwd });
  t.equal(vvv.code, 0, vvv.stderr);
  t.equal(vvv.stdout.match(/^<localhost> ESTABLISH LOCAL CONNECTION FOR USER: \S+$/gm)?.length, 1, 'once');
  t.notMatch(vvv.stdout, 's3cret-pass');
  const v = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '-v'], { cwd });
  t.notMatch(v.stdout, 'ESTABLISH', 'not below -vvv');
});

t.test('-vvv over SSH: user, address, port, key and known_hosts, once per host; never the become password', async (t) => {
  const fleet = await labFleet(t, 2, 'verbose');
  if (!fleet) return;
  const cwd = t.testdir({ 'site.yml': '- hosts: all\n  gather_facts: false\n  vars:\n    ansible_become_password: s3cret-pass\n  tasks:\n    - command: "true"\n    - command: "true"\n' });
  const r = await kplay(['run', 'site.yml', '-i', fleet.inventoryFile, '-vvv'], { cwd });
  t.equal(r.code, 0, r.stderr);
  for (const host of fleet.hosts) {
    const lines = r.stdout.split('\n').filter((l) => l.startsWith(`<${host.name}> ESTABLISH SSH CONNECTION`));
    t.equal(lines.length, 1, `${host.name}: once`);
    t.match(lines[0], `<${host.name}> ESTABLISH SSH CONNECTION FOR USER: root, to ${host.address}:22`);
  }
  t.match(r.stdout, /ESTABLISH SSH CONNECTION .*, key \S+/, 'the key file');
  t.match(r.stdout, /ESTABLISH SSH CONNECTION .*, known_hosts \S+/, 'the known_hosts file');
  t.notMatch(r.stdout + r.stderr, 's3cret-pass');
});
