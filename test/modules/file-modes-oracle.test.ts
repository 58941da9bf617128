// Modes as Ansible prints them (a file result '0%03o': 02775; stat and find '%04o': 2775) and folders made by
// `file: state=directory` with their missing parents: each made folder gets the task's mode, as Ansible's file module
// does. Run through ansible-playbook and kplay on this machine (local connection), each in its own folder.

import t from 'tap';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay } from '../helpers/kplay.ts';
import { project, sameAsAnsibleInRoots } from '../jinja/playbook-oracle.ts';

const PLAY = `
- hosts: all
  gather_facts: false
  tasks:
    - file: {path: "{{ root }}/sg", state: directory, mode: "2775"}
      register: r
    - debug: {msg: "{{ r.mode }}"}
    - file: {path: "{{ root }}/sg", state: directory, mode: "2775"}
      register: r
    - debug: {msg: "{{ r.mode }}"}
    - stat: {path: "{{ root }}/sg"}
      register: s
    - debug: {msg: "{{ s.stat.mode }}"}
    - find: {paths: "{{ root }}", file_type: directory}
      register: f
    - debug: {msg: "{{ f.files | map(attribute='mode') | list }}"}
    - file: {path: "{{ root }}/p/a/b", state: directory, mode: "0700"}
      register: r
    - debug: {msg: "{{ r.mode }}"}
    - file: {path: "{{ root }}/q/a", state: directory, mode: "u=rwx,g=rx,o="}
    - file: {path: "{{ root }}/t", state: touch, mode: "0604"}
      register: r
    - debug: {msg: "{{ r.mode }}"}
`;

t.test('modes printed and parents made as ansible-playbook', async (t) => {
  const dir = project(t, { 'play.yml': PLAY });
  const { steps: a, roots } = await sameAsAnsibleInRoots(t, dir);
  t.equal(a[1].msg, '"02775"', 'the oracle prints a file result with 0%03o');
  const modeOf = (p: string): string => (statSync(p).mode & 0o7777).toString(8);
  for (const [side, root] of Object.entries(roots)) {
    t.same(['p', 'p/a', 'p/a/b'].map((d) => modeOf(join(root, d))), ['700', '700', '700'], `${side}: every folder made has the mode`);
    t.same(['q', 'q/a'].map((d) => modeOf(join(root, d))), ['750', '750'], `${side}: a symbolic mode too`);
  }
});

t.test('hosts on one machine making folders under the same missing parent at once all succeed, as mkdir -p', async (t) => {
  const dir = t.testdir({ 'play.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - file: {path: "{{ playbook_dir }}/shared/a/{{ inventory_hostname }}", state: directory, mode: "0750"}\n' });
  const names = Array.from({ length: 12 }, (_, i) => `h${i}`);
  writeFileSync(join(dir, 'inventory.ini'), names.map((h) => `${h} ansible_connection=local`).join('\n') + '\n');
  for (let round = 0; round < 3; round++) {
    const r = await kplay(['run', 'play.yml', '-i', 'inventory.ini', '--forks', '12'], { cwd: dir });
    t.equal(r.code, 0, `round ${round}: every host made its folder ${r.stdout.slice(-1500)}`);
    t.same(names.map((h) => (statSync(join(dir, 'shared/a', h)).mode & 0o7777).toString(8)), names.map(() => '750'), `round ${round}: each with its mode`);
    rmSync(join(dir, 'shared'), { recursive: true });
  }
});
