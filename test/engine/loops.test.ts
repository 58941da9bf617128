// Ansible's loops (issue 11): with_items flattening one level, with_<lookup> for every lookup (dict, together,
// subelements with skip_missing, nested, cartesian, sequence long and short, fileglob, first_found with skip,
// indexed_items, lines, random_choice, env), loop over query() and lookup(wantlist=True), loop_control (loop_var,
// index_var, label, extended, pause). The same playbook through ansible-playbook and kplay: every task's items,
// messages and labels, and the recap, must agree. Two loops on one task are refused at load, as Ansible does.

import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay } from '../helpers/kplay.ts';
import { ansibleSees, kplaySees, writeProject, type Seen } from './play-oracle.ts';

const PLAY = `- hosts: all
  gather_facts: false
  vars:
    nested: [[1, 2], 3, [[4, 5]]]
    users:
      - name: alice
        groups: [wheel, dev]
        ssh: { keys: [k1, k2] }
      - name: bob
        groups: []
        ssh: { keys: [k3] }
      - name: carol
    ports: { http: 80, https: 443 }
  tasks:
    - name: with_items flattens one level
      debug: msg="{{ item }}"
      with_items:
        - [a, b]
        - c
        - [[d, e]]
    - name: with_items from a variable
      debug: msg="{{ item }}"
      with_items: "{{ nested }}"
    - name: loop does not flatten
      debug: msg="{{ item }}"
      loop: "{{ nested }}"
    - name: with_list
      debug: msg="{{ item }}"
      with_list: "{{ nested }}"
    - name: with_dict
      debug: msg="{{ item.key }}={{ item.value }}"
      with_dict: "{{ ports }}"
    - name: with_together
      debug: msg="{{ item.0 }}-{{ item.1 }}"
      with_together:
        - [a, b, c]
        - [1, 2]
    - name: with_subelements
      debug: msg="{{ item.0.name }} {{ item.1 }} {{ item.0.groups is defined }}"
      with_subelements:
        - "{{ users }}"
        - groups
        - skip_missing: true
    - name: with_subelements nested key
      debug: msg="{{ item.0.name }} {{ item.1 }} {{ item.0.ssh }}"
      with_subelements:
        - "{{ users | selectattr('ssh', 'defined') | list }}"
        - ssh.keys
    - name: with_nested
      debug: msg="{{ item | join(',') }}"
      with_nested:
        - [x, y]
        - [1, 2]
        - [p]
    - name: with_cartesian
      debug: msg="{{ item | join(',') }}"
      with_cartesian:
        - [x, y]
        - [1, 2]
    - name: with_sequence long form
      debug: msg="{{ item }}"
      with_sequence: start=2 end=10 stride=3 format=host%02d
    - name: with_sequence short form
      debug: msg="{{ item }}"
      with_sequence: "4-8/2:n%x"
    - name: with_sequence count
      debug: msg="{{ item }}"
      with_sequence: count=3
    - name: with_fileglob
      debug: msg="{{ item | basename }}"
      with_fileglob: "files/o*.conf"
    - name: with_first_found
      debug: msg="{{ item | basename }}"
      with_first_found:
        - files: [missing.conf, two.conf]
          paths: [files]
    - name: with_first_found skip
      debug: msg="{{ item }}"
      with_first_found:
        - files: [missing.conf]
          skip: true
    - name: with_indexed_items
      debug: msg="{{ item.0 }}:{{ item.1 }}"
      with_indexed_items: [a, [b, c]]
    - name: with_lines
      debug: msg="{{ item }}"
      with_lines: printf 'l1\\nl2\\n'
    - name: with_random_choice
      debug: msg="{{ item in ['only'] }}"
      with_random_choice: [only]
    - name: with_env (any lookup)
      debug: msg="{{ item }}"
      with_env: [HOME]
    - name: loop over query
      debug: msg="{{ item }}"
      loop: "{{ query('sequence', 'start=1 end=3') }}"
    - name: lookup wantlist
      debug: msg="{{ item }}"
      loop: "{{ lookup('items', [1, [2, 3]], wantlist=True) }}"
    - name: loop_control
      debug: msg="{{ i }} {{ n }} {{ ansible_loop.index }}/{{ ansible_loop.length }} {{ ansible_loop.first }} {{ ansible_loop.last }} {{ ansible_loop.previtem | default('-') }} {{ ansible_loop.nextitem | default('-') }} {{ ansible_loop.revindex0 }}"
      with_items: [p, q, r]
      loop_control:
        loop_var: i
        index_var: n
        label: "L-{{ i }}"
        extended: true
        pause: 0
`;

/** A scalar message as text: debug's "{{ 1 }}" is 1 in Ansible and "1" in kplay (native types are issue 10's). */
function normal(seen: Seen): Seen {
  const text = (v: unknown): unknown => (v !== null && typeof v === 'object' ? v : v === undefined ? v : String(v));
  return {
    ...seen,
    tasks: seen.tasks.map((task) => ({ ...task, msg: text(task.msg), ...(task.items ? { items: task.items.map(([s, m, l]) => [s, text(m), l] as [string, unknown, unknown]) } : {}) })),
  };
}

t.test('every loop gives the items, messages, labels and recap Ansible gives', async (t) => {
  const dir = t.testdir({});
  mkdirSync(join(dir, 'files'));
  writeFileSync(join(dir, 'files/one.conf'), 'a\n');
  writeFileSync(join(dir, 'files/two.conf'), 'b\n');
  writeFileSync(join(dir, 'files/other.txt'), 'x\n');
  writeProject(dir, PLAY);
  const [ansible, ours] = await Promise.all([ansibleSees(dir), kplaySees(dir)]);
  t.equal(ansible.code, 0, `ansible-playbook ran: ${ansible.out}`);
  t.equal(ours.code, 0, `kplay ran: ${ours.out}`);
  const a = normal(ansible);
  const k = normal(ours);
  t.equal(k.tasks.length, a.tasks.length, 'as many tasks');
  for (let i = 0; i < a.tasks.length; i++) t.same(k.tasks[i], a.tasks[i], a.tasks[i].name);
  t.same(k.recap, a.recap, 'the same recap');
  t.same(a.tasks[0].items?.map(([, m]) => m), ['a', 'b', 'c', ['d', 'e']], 'with_items spliced one level (the test can fail)');
});

t.test('loop_control.pause waits between items, not before the first', async (t) => {
  const dir = t.testdir({});
  writeProject(dir, `- hosts: all
  gather_facts: false
  tasks:
    - name: paused
      debug: msg="{{ item }}"
      with_sequence: count=3
      loop_control:
        pause: "{{ 1 }}"
`);
  const started = Date.now();
  const r = await kplaySees(dir);
  const took = Date.now() - started;
  t.equal(r.tasks[0].items?.length, 3);
  t.ok(took >= 2000, `two pauses of a second (took ${took} ms)`);
});

for (const [what, keys] of [
  ['loop and with_items', ['loop: [1]', 'with_items: [2]']],
  ['with_items and loop', ['with_items: [2]', 'loop: [1]']],
  ['two with_*', ['with_items: [2]', 'with_list: [1]']],
] as const) {
  t.test(`a task with ${what} is refused at load, at the second loop`, async (t) => {
    const dir = t.testdir({});
    writeProject(dir, `- hosts: all
  gather_facts: false
  tasks:
    - name: first
      file: path=/tmp/never-made-by-kplay state=touch
    - debug: msg=x
      ${keys[0]}
      ${keys[1]}
`);
    const r = await kplay(['run', 'play.yml', '-i', 'inventory.ini'], { cwd: dir });
    t.equal(r.code, 1, 'exit 1');
    t.match(r.stderr, new RegExp(`play\\.yml:8:7: duplicate loop in task: ${keys[1].replace(/^(with_)?(\w+):.*$/, '$2')}`));
    t.notMatch(r.stdout, /first/, 'no task ran');
  });
}

t.test('with_<name> of no lookup is an error at its place', async (t) => {
  const dir = t.testdir({});
  writeProject(dir, `- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=x
      with_itemz: [1]
`);
  const r = await kplay(['run', 'play.yml', '-i', 'inventory.ini'], { cwd: dir });
  t.equal(r.code, 1);
  t.match(r.stderr, /play\.yml:5:7: "with_itemz": no lookup named "itemz" to loop with \(did you mean "with_items"\?\)/);
});
