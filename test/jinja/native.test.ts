// A value that is only `{{ name }}` keeps its variable's number, bool or None (ansible-core 2.14's single-variable
// shortcut), everywhere a task reads values: vars, role defaults, set_fact, module arguments, loops, `when`. And a
// loop whose expression is undefined, with a `when` that is false without `item`, is skipped as in 2.14. Each
// playbook runs through ansible-playbook and kplay and must print the same.

import t from 'tap';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { project, sameAsAnsible, sameAsAnsibleInRoots } from './playbook-oracle.ts';

const TYPES = `
- hosts: all
  gather_facts: false
  vars: {n: 2, m: 0644, f: 1.5, b: true, nb: false, z: null, s: "{{ n }}", l: [1, 2], neg: -3, big: 12345678901}
  roles: [r]
  tasks:
    - debug: {msg: "{{ n }}"}
    - debug: {msg: "{{ m }}"}
    - debug: {msg: "{{ f }}"}
    - debug: {msg: "{{ b }}"}
    - debug: {msg: "{{ nb }}"}
    - debug: {msg: "{{ z }}"}
    - debug: {msg: "{{ s }}"}
    - debug: {msg: "{{n}}"}
    - debug: {msg: "{{ neg }}"}
    - debug: {msg: "{{ big }}"}
    - debug: {msg: " {{ n }}"}
    - debug: {msg: "{{ n }}{{ n }}"}
    - debug: {msg: "{{ n | int }}"}
    - debug: {msg: "{{ (n) }}"}
    - debug: {msg: ["{{ n }}", "{{ b }}", {k: "{{ f }}"}]}
    - set_fact: {x: "{{ n }}", y: "{{ s }}", w: "{{ z }}", fl: "{{ f }}"}
    - debug: {msg: "{{ [x, y, w, fl] }}"}
    - debug: {msg: "{{ x + 1 }}"}
    - set_fact: {it: "{{ item }}"}
      loop: [3]
    - debug: {msg: "{{ it + 1 }}"}
    - debug: {msg: "{{ item }}"}
      loop: [1, 2.5, true, null]
    - debug: {msg: "{{ item }}"}
      loop: "{{ l }}"
    - debug: {msg: "{{ item }}"}
      loop: ["{{ n }}", "{{ b }}"]
    - debug: {msg: "{{ y }}"}
      vars: {y: "{{ n }}"}
    - debug: {msg: "{{ tv }}"}
      vars: {tv: 7}
    - debug: {msg: "{{ n }}"}
      when: n == 2
    - debug: {msg: "{{ rd }}"}
    - debug: {msg: "{{ rd + 1 }}"}
    - debug: {msg: "{{ rv }}"}
    - debug: {msg: "{{ rt }}"}
    - file: {path: "{{ root }}/f", state: touch, mode: "{{ rmode }}"}
    - copy: {dest: "{{ root }}/c", content: "{{ n }}", mode: "{{ m }}"}
    - debug: {msg: "{{ lookup('file', root + '/c') }}"}
`;

t.test('a value that is only {{ var }} keeps the variable\'s type, as ansible-playbook', async (t) => {
  const dir = project(t, {
    'play.yml': TYPES,
    'roles/r/defaults/main.yml': 'rd: 40\nrmode: 0600\nrt: "{{ rd }}"\n',
    'roles/r/vars/main.yml': 'rv: false\n',
  });
  const { steps: a, roots } = await sameAsAnsibleInRoots(t, dir);
  // The cases that matter most: numbers stay numbers, and a mode from an unquoted YAML octal is that octal.
  t.equal(a[0].msg, '2');
  t.equal(a[1].msg, '420');
  for (const [side, root] of Object.entries(roots)) {
    t.equal((statSync(join(root, 'f')).mode & 0o7777).toString(8), '600', `${side}: mode "{{ rmode }}" (0600 unquoted) gives 0600`);
    t.equal((statSync(join(root, 'c')).mode & 0o7777).toString(8), '644', `${side}: mode "{{ m }}" (0644 unquoted) gives 0644`);
  }
});

t.test('an undefined loop with a when that is false without item is skipped, as ansible-playbook', async (t) => {
  const dir = project(t, {
    'play.yml': `
- hosts: all
  gather_facts: false
  vars:
    cfg: ["{{ ansible_distribution_release }}"]
  tasks:
    - name: false without item
      debug: {msg: "{{ item }}"}
      loop: "{{ cfg + [] }}"
      when: (item.state | default(False) == True) or false
    - name: plain false
      debug: {msg: "{{ item }}"}
      loop: "{{ nope }}"
      when: 1 == 2
    - name: when needs the item
      debug: {msg: "{{ item }}"}
      loop: "{{ nope }}"
      when: item == 1
      ignore_errors: true
    - name: when holds
      debug: {msg: "{{ item }}"}
      loop: "{{ nope }}"
      when: 1 == 1
      ignore_errors: true
    - name: no when
      debug: {msg: "{{ item }}"}
      loop: "{{ nope }}"
      ignore_errors: true
`,
  });
  const steps = await sameAsAnsible(t, dir);
  t.same(steps.map((s) => s.status), ['skipped', 'skipped', 'failed', 'failed', 'failed']);
});
