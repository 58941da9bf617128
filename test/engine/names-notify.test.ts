// Issue 11: `ansible.builtin.` / `ansible.legacy.` names of include_tasks, import_tasks, include_role, import_role,
// meta, include_vars, set_fact, debug, assert, fail (and every module: the registry strips the prefix), and `notify`
// on a block (each task of it that changes notifies; a task's own notify replaces the block's). The same playbook
// through ansible-playbook and kplay: the tasks that ran, their messages and the recap must agree.

import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ansibleSees, kplaySees, writeProject } from './play-oracle.ts';

const PLAY = `- hosts: all
  gather_facts: false
  handlers:
    - name: h-block
      ansible.builtin.debug: msg=h-block
    - name: h-own
      ansible.legacy.debug: msg=h-own
    - name: h-quiet
      debug: msg=h-quiet
  tasks:
    - ansible.builtin.include_vars: vars.yml
    - ansible.legacy.set_fact:
        fact_one: "{{ from_file }}-fact"
    - ansible.builtin.assert:
        that:
          - fact_one == 'file-fact'
          - from_file is defined
    - ansible.builtin.import_tasks: imported.yml
    - ansible.legacy.include_tasks: included.yml
    - ansible.builtin.import_role:
        name: r1
    - ansible.legacy.include_role:
        name: r1
        tasks_from: other
    - ansible.builtin.fail:
        msg: expected failure
      ignore_errors: true
    - name: a block that notifies
      block:
        - name: changes
          ansible.builtin.command: "true"
        - name: does not change
          ansible.builtin.command: "true"
          changed_when: false
        - name: own notify replaces the block's
          ansible.builtin.command: "true"
          notify: h-own
      notify: h-block
    - block:
        - name: nothing changes here
          command: "true"
          changed_when: false
      notify: h-quiet
    - ansible.builtin.meta: flush_handlers
    - ansible.builtin.debug:
        msg: after flush
    - ansible.legacy.meta: end_play
    - ansible.builtin.debug:
        msg: never
`;

t.test('ansible.builtin./ansible.legacy. names and notify on a block do what Ansible does', async (t) => {
  const dir = t.testdir({});
  writeProject(dir, PLAY, {
    'vars.yml': 'from_file: file\n',
    'imported.yml': '- ansible.builtin.debug: msg=imported\n',
    'included.yml': '- ansible.builtin.debug: msg=included\n',
  });
  mkdirSync(join(dir, 'roles/r1/tasks'), { recursive: true });
  writeFileSync(join(dir, 'roles/r1/tasks/main.yml'), '- ansible.builtin.debug: msg=role-main\n');
  writeFileSync(join(dir, 'roles/r1/tasks/other.yml'), '- ansible.builtin.debug: msg=role-other\n');
  const [a, k] = await Promise.all([ansibleSees(dir), kplaySees(dir)]);
  t.equal(a.code, 0, `ansible-playbook ran: ${a.out}`);
  t.equal(k.code, 0, `kplay ran: ${k.out}`);
  const shown = (s: typeof a): string[] => s.tasks.filter((x) => x.name !== 'include_tasks' && !/include_tasks|include_role/.test(x.name)).map((x) => `${x.status} ${String(x.msg ?? '')}`);
  t.same(shown(k), shown(a), 'the same tasks, statuses and messages');
  t.same(k.recap, a.recap, 'the same recap');
  t.ok(shown(k).includes('ok h-block') && shown(k).includes('ok h-own') && !shown(k).includes('ok h-quiet'), 'the block notified (the test can fail)');
});
