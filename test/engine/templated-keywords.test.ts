// Issue 11: every keyword Ansible templates takes a `{{ }}` value (ignore_errors, retries, delay, until, no_log,
// throttle, become, become_user, run_once, delegate_to, any_errors_fatal, changed_when, check_mode, diff, timeout,
// environment, ignore_unreachable), rendered per host when the task runs; a bad value is an error at its place.
// The same playbook through ansible-playbook and kplay: statuses, messages, attempts, files and recap agree.

import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay } from '../helpers/kplay.ts';
import { ansibleSees, kplaySees, writeProject } from './play-oracle.ts';

const play = (out: string): string => `- hosts: all
  gather_facts: false
  vars:
    n: 2
    yes_var: true
    no_var: false
    out: ${out}
  tasks:
    - name: ignore_errors from a variable
      command: /bin/false
      changed_when: false
      ignore_errors: "{{ yes_var }}"
    - name: an ignored failure that changed counts changed, as in Ansible
      command: /bin/false
      ignore_errors: "{{ yes_var }}"
    - name: retries and delay from variables
      command: /bin/true
      register: tries
      until: "{{ no_var }}"
      changed_when: false
      retries: "{{ n }}"
      delay: "{{ 0 }}"
      ignore_errors: "{{ 'yes' }}"
    - name: attempts
      debug: msg="{{ tries.attempts }}"
    - name: no_log from a variable
      debug: msg="the secret is hunter2"
      no_log: "{{ yes_var }}"
    - name: check_mode from a variable
      copy: content=x dest={{ out }}/checked
      check_mode: "{{ yes_var }}"
    - name: the rest from variables
      shell: echo "$KW" > {{ out }}/env
      environment:
        KW: "{{ n * 21 }}"
      become: "{{ no_var }}"
      run_once: "{{ yes_var }}"
      throttle: "{{ n }}"
      timeout: "{{ n * 10 }}"
      diff: "{{ no_var }}"
      any_errors_fatal: "{{ no_var }}"
      ignore_unreachable: "{{ no_var }}"
      delegate_to: "{{ 'localhost' }}"
      changed_when: "{{ yes_var }}"
    - name: after
      debug: msg="{{ lookup('file', out + '/env') }}"
`;

t.test('keywords written as {{ }} do what Ansible does', async (t) => {
  const dir = t.testdir({ a: {}, k: {} });
  const both = await Promise.all([
    (async () => {
      writeProject(join(dir, 'a'), play(join(dir, 'a')));
      return ansibleSees(join(dir, 'a'));
    })(),
    (async () => {
      writeProject(join(dir, 'k'), play(join(dir, 'k')));
      return kplaySees(join(dir, 'k'));
    })(),
  ]);
  // Messages of the debug tasks (other modules' messages differ in wording).
  const debug = new Set(['attempts', 'no_log from a variable', 'after']);
  const [a, k] = both.map((s) => ({ ...s, tasks: s.tasks.map((x) => ({ name: x.name, status: x.status, msg: debug.has(x.name) && x.msg !== undefined ? String(x.msg) : undefined })) }));
  t.equal(a.code, 0, `ansible-playbook ran: ${a.out}`);
  t.equal(k.code, 0, `kplay ran: ${k.out}`);
  t.same(k.tasks, a.tasks, 'the same statuses and messages');
  t.same(k.recap, a.recap, 'the same recap');
  t.equal(k.tasks[3].msg, '2', 'retries: "{{ n }}": attempts as Ansible 2.14 reports them (the test can fail)');
  t.equal(existsSync(join(dir, 'k/checked')), false, 'check_mode: "{{ yes_var }}" wrote nothing');
  t.equal(readFileSync(join(dir, 'k/env'), 'utf8'), '42\n', 'environment rendered');
});

t.test('a keyword whose template gives no boolean fails the task at its place', async (t) => {
  const dir = t.testdir({});
  writeProject(dir, `- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=x
      ignore_errors: "{{ 'maybe' }}"
`);
  const r = await kplay(['run', 'play.yml', '-i', 'inventory.ini', '--output', 'json'], { cwd: dir });
  t.equal(r.code, 2);
  const failed = r.events.find((e) => e.type === 'result' && e.status === 'failed');
  t.match(failed && 'msg' in failed ? failed.msg : '', /play\.yml:5:22: "ignore_errors" takes true or false, got "maybe"/);
});

t.test('a keyword template with a syntax error is refused at load', async (t) => {
  const dir = t.testdir({});
  writeProject(dir, `- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=x
      retries: "{{ n + }}"
      until: true
`);
  const r = await kplay(['run', 'play.yml', '-i', 'inventory.ini'], { cwd: dir });
  t.equal(r.code, 1);
  t.match(r.stderr, /^play\.yml:5:/);
});
