// YAML's `!unsafe` tag (Ansible's marker for text that must never be templated) in vars, vars files, set_fact and
// module arguments, run through ansible-playbook and kplay; and `debug: var=` prints the variable alone, byte for
// byte as Ansible's screen does.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay } from '../helpers/kplay.ts';
import { ansibleSteps, project, sameAsAnsibleInRoots } from './playbook-oracle.ts';

const PLAY = `
- hosts: all
  gather_facts: false
  vars:
    a: !unsafe "{{ 1 + 1 }}"
    b: !unsafe ["{{ 2 }}", "{% if x %}"]
    ref: "{{ a }}"
  vars_files: [vars.yml]
  tasks:
    - debug: {msg: "{{ a }}"}
    - debug: {msg: "{{ b }}"}
    - debug: {msg: "{{ ref }}"}
    - debug: {msg: "{{ a | length }}"}
    - debug: {msg: "{{ a ~ '!' }}"}
    - debug: {msg: "{{ from_file }}"}
    - debug:
        msg: !unsafe "{{ lookup('env', 'HOME') }}"
    - set_fact:
        d: !unsafe "{% raw %}x{% endraw %}"
    - debug: {msg: "{{ d }}"}
    - copy: {content: !unsafe "{{ x }}\\n", dest: "{{ root }}/out.txt"}
`;

t.test('!unsafe values are never templated, as ansible-playbook', async (t) => {
  const dir = project(t, { 'play.yml': PLAY, 'vars.yml': 'from_file: !unsafe "{{ nope }}"\n' });
  const { steps: a, roots } = await sameAsAnsibleInRoots(t, dir);
  t.equal(a[0].msg, '"{{ 1 + 1 }}"', 'the oracle prints the text');
  for (const [side, root] of Object.entries(roots)) t.equal(readFileSync(join(root, 'out.txt'), 'utf8'), '{{ x }}\n', `${side}: copy wrote the text`);
});

// Ansible fails such a task when it runs; kplay refuses the playbook before any host is touched (README: differences).
t.test('a condition marked !unsafe is refused at its place before any host', async (t) => {
  const dir = project(t, {
    'play.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - debug: {msg: hi}
      when: !unsafe "1 == 1"
      ignore_errors: true
`,
  });
  const steps = ansibleSteps(dir);
  t.same(steps.map((s) => s.status), ['failed'], 'ansible-playbook fails the task');
  const k = await kplay(['run', 'play.yml', '-i', 'inventory.ini'], { cwd: dir });
  t.equal(k.code, 1);
  t.match(k.stderr, /play\.yml:6:21: "when" is marked !unsafe/);
  t.notMatch(k.stdout, /PLAY/, 'no play started');
});

t.test('debug var= prints the variable alone, the bytes of Ansible\'s screen', async (t) => {
  const dir = project(t, {
    'play.yml': `
- hosts: all
  gather_facts: false
  vars: {e: hi, n: [1, {k: v}], u: !unsafe "{{ e }}"}
  tasks:
    - debug: var=e
    - debug: {var: n}
    - debug: {var: u}
    - debug: {var: nope}
`,
  });
  const blocks = (text: string): string[] => text.match(/^ok: \[localhost\] => \{\n[\s\S]*?\n\}$/gm) ?? [];
  const env = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: '0', ANSIBLE_INVENTORY_UNPARSED_WARNING: '0' };
  const ansible = spawnSync('ansible-playbook', ['-i', 'inventory.ini', 'play.yml'], { cwd: dir, env, encoding: 'utf8' });
  const k = await kplay(['run', 'play.yml', '-i', 'inventory.ini'], { cwd: dir, env: { NO_COLOR: '1' } });
  t.equal(k.code, 0, k.stderr);
  t.equal(blocks(ansible.stdout).length, 4, 'four debug blocks from ansible-playbook');
  t.same(blocks(k.stdout), blocks(ansible.stdout));
  t.notMatch(k.stdout, /"msg"/, 'no msg line');
});
