// import_role / include_role with tasks_from load the role's handlers, defaults and vars as Ansible does: the same
// project runs through ansible-playbook and kplay and must print the same, handlers included (once each).

import t from 'tap';
import { project, sameAsAnsible } from '../jinja/playbook-oracle.ts';

const ROLE = {
  'roles/r/tasks/main.yml': '- name: main\n  debug: {msg: "main {{ rd }}"}\n  changed_when: true\n  notify: h1\n',
  'roles/r/tasks/other.yml': '- name: other\n  debug: {msg: "other {{ rd }} {{ rv }}"}\n  changed_when: true\n  notify: [h1, h2]\n',
  'roles/r/handlers/main.yml': '- name: h1\n  debug: {msg: "h1 {{ rd }}"}\n- name: h2\n  debug: {msg: h2}\n',
  'roles/r/defaults/main.yml': 'rd: from-defaults\n',
  'roles/r/vars/main.yml': 'rv: from-vars\n',
};

t.test('import_role with tasks_from: the role\'s handlers, defaults and vars', async (t) => {
  const dir = project(t, {
    ...ROLE,
    'play.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - import_role: {name: r, tasks_from: other}\n    - debug: {msg: "after {{ rd }}"}\n',
  });
  const steps = await sameAsAnsible(t, dir);
  t.same(steps.map((s) => s.msg), ['"other from-defaults from-vars"', '"after from-defaults"', '"h1 from-defaults"', '"h2"']);
});

t.test('include_role with tasks_from: the role\'s handlers', async (t) => {
  const dir = project(t, {
    ...ROLE,
    'play.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - include_role: {name: r, tasks_from: other}\n',
  });
  const steps = await sameAsAnsible(t, dir);
  t.equal(steps.length, 3, 'the task and both handlers ran');
});

t.test('a role in roles: and again with tasks_from: each handler runs once', async (t) => {
  const dir = project(t, {
    ...ROLE,
    'play.yml': '- hosts: all\n  gather_facts: false\n  roles: [r]\n  tasks:\n    - import_role: {name: r, tasks_from: other}\n',
  });
  await sameAsAnsible(t, dir);
});
