// Issue 13: -v shows a result as Ansible's -v does: facts gathering as a bare `ok: [host]` (Ansible's own -v output
// of the same playbook is the oracle), a set_fact's facts once, not nested.

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { kplay } from '../helpers/kplay.ts';

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
