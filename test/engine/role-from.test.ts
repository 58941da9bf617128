// include_role / import_role with vars_from, defaults_from and handlers_from (beside tasks_from) load those files of
// the role instead of main, as ansible-playbook does; a file they name that is missing is an error before any host.

import t from 'tap';
import { kplay } from '../helpers/kplay.ts';
import { project, sameAsAnsible } from '../jinja/playbook-oracle.ts';

const ROLE = {
  'roles/r/tasks/main.yml': '- debug: {msg: "main {{ v }} {{ d }}"}\n  changed_when: true\n  notify: h\n',
  'roles/r/tasks/other.yml': '- debug: {msg: "other {{ v }} {{ d }}"}\n  changed_when: true\n  notify: h\n',
  'roles/r/vars/main.yml': 'v: vars-main\n',
  'roles/r/vars/alt.yml': 'v: vars-alt\n',
  'roles/r/defaults/main.yml': 'd: defaults-main\nonly_main: yes\n',
  'roles/r/defaults/alt.yml': 'd: defaults-alt\n',
  'roles/r/handlers/main.yml': '- name: h\n  debug: {msg: "handler main"}\n',
  'roles/r/handlers/alt.yml': '- name: h\n  debug: {msg: "handler alt"}\n',
};

t.test('vars_from, defaults_from and handlers_from load those files, as ansible-playbook', async (t) => {
  const dir = project(t, {
    ...ROLE,
    'play.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - include_role: {name: r, vars_from: alt, defaults_from: alt.yml, handlers_from: alt}
    - include_role: {name: r, tasks_from: other, vars_from: alt}
- hosts: all
  gather_facts: false
  tasks:
    - import_role: {name: r, defaults_from: alt}
    - debug: {msg: "{{ only_main | default('no main defaults') }}"}
- hosts: all
  gather_facts: false
  tasks:
    - include_role: {name: r}
`,
  });
  const steps = await sameAsAnsible(t, dir);
  t.same(steps.map((s) => s.msg).filter((m) => m !== ''), [
    '"main vars-alt defaults-alt"',
    '"other vars-alt defaults-main"',
    '"handler alt"',
    '"handler main"', // the second include (handlers_from not given) brought main's h too: both run
    '"main vars-main defaults-alt"',
    '"no main defaults"',
    '"handler main"',
    '"main vars-main defaults-main"',
    '"handler main"',
  ], 'the oracle shows which files were read');
});

t.test('a vars_from, defaults_from or handlers_from file that is missing is an error at its place', async (t) => {
  for (const key of ['vars_from', 'defaults_from', 'handlers_from']) {
    const dir = project(t, { ...ROLE, 'play.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - import_role: {name: r, ${key}: nope}\n` });
    const r = await kplay(['run', 'play.yml', '-i', 'inventory.ini'], { cwd: dir });
    t.equal(r.code, 1, key);
    const folder = key.replace('_from', '');
    t.match(r.stderr, new RegExp(`^play\\.yml:4:27: role "r" has no ${folder}/nope\\.yml`), `${key}: names the file at the role's name`);
  }
});
