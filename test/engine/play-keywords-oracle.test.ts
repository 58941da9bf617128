// A templated gather_facts (rendered with the play's vars and -e before any host, read as Ansible's boolean), the
// play keyword `port`, ansible_facts defined (empty) before any gathering, and hostvars' read-only Mapping methods:
// run through ansible-playbook and kplay, which must print the same.

import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { kplay } from '../helpers/kplay.ts';
import { project, sameAsAnsible } from '../jinja/playbook-oracle.ts';

const PLAY = `
- hosts: all
  gather_facts: "{{ gf }}"
  port: "{{ p }}"
  vars: {gf: "no", p: 22}
  tasks:
    - debug: {msg: "{{ ansible_facts }}"}
    - debug: {msg: "{{ hostvars[inventory_hostname].ansible_facts }}"}
    - debug: {msg: "{{ 'ansible_facts' in hostvars[inventory_hostname].keys() | list }}"}
    - debug: {msg: "{{ hostvars[inventory_hostname].get('nope', 'dflt') }}"}
    - debug: {msg: "{{ (hostvars[inventory_hostname].items() | list | length) > 0 }}"}
- hosts: all
  gather_facts: "{{ not (skip | default(false)) }}"
  tasks:
    - debug: {msg: "{{ ansible_facts.distribution }}"}
`;

t.test('templated gather_facts, port, ansible_facts before gathering, hostvars methods: as ansible-playbook', async (t) => {
  const dir = project(t, { 'play.yml': PLAY });
  const steps = await sameAsAnsible(t, dir);
  t.equal(steps[0].msg, '{}', 'the oracle: ansible_facts is {} before gathering');
  t.equal(steps.at(-1)?.msg, '"Debian"', 'the second play gathered');
  const skipped = await sameAsAnsible(t, dir, 'play.yml', ['-e', '{"skip": true}']);
  t.equal(skipped.at(-1)?.status, 'failed', 'no facts: the last debug fails in both');
});

t.test('a templated gather_facts that is not a boolean is an error at its place before any host', async (t) => {
  const dir = project(t, { 'play.yml': '- hosts: all\n  gather_facts: "{{ gf }}"\n  tasks:\n    - copy: {content: x, dest: "{{ playbook_dir }}/touched"}\n' });
  const bad = await kplay(['run', 'play.yml', '-i', 'inventory.ini', '-e', 'gf=maybe'], { cwd: dir });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^play\.yml:2:17: gather_facts "\{\{ gf \}\}" renders to "maybe", not true or false/);
  const undef = await kplay(['run', 'play.yml', '-i', 'inventory.ini'], { cwd: dir });
  t.equal(undef.code, 1);
  t.match(undef.stderr, /^play\.yml:2:17: gather_facts "\{\{ gf \}\}": .*'gf' is undefined/);
  t.notOk(existsSync(join(dir, 'touched')), 'no task ran');
});
