// async / poll / async_status, and the keys of registered results (`failed: false`, a loop's `skipped: false`): the
// same playbook through ansible-playbook and kplay on this machine. kplay's jobs run in its own process (the README
// says why), so the keys Ansible's job files add (`results_file`, `invocation`) are left out of the comparison.

import t from 'tap';
import { project, sameAsAnsible } from '../jinja/playbook-oracle.ts';

const KEYS = "dict2items | map(attribute='key') | reject('in', ['results_file', 'invocation']) | sort";

const PLAY = `
- hosts: all
  gather_facts: false
  tasks:
    - name: async with poll waits for the task
      command: sleep 1
      async: 20
      poll: 1
      register: a
    - debug: {msg: "{{ a | ${KEYS} }}"}
    - debug: {msg: "{{ [a.changed, a.finished, a.started, a.rc, a.ansible_job_id is match('^j[0-9]+[.][0-9]+$')] }}"}
    - name: poll 0 starts it and goes on
      shell: sleep 2; echo hi
      async: 20
      poll: 0
      register: b
    - debug: {msg: "{{ b | ${KEYS} }}"}
    - debug: {msg: "{{ [b.changed, b.finished, b.started] }}"}
    - name: async_status until it has finished
      async_status: {jid: "{{ b.ansible_job_id }}"}
      register: s
      until: s.finished
      retries: 30
      delay: 1
    - debug: {msg: "{{ [s.changed, s.finished, s.stdout, s.rc, s.failed] }}"}
    - name: a job that fails fails async_status
      command: "false"
      async: 20
      poll: 0
      register: f
    - async_status: {jid: "{{ f.ansible_job_id }}"}
      register: fs
      until: fs.finished
      retries: 30
      delay: 1
      ignore_errors: true
    - debug: {msg: "{{ [fs.failed, fs.rc, fs.finished] }}"}
    - name: each item is a job of its own
      command: "echo {{ item }}"
      loop: [x, y]
      async: 20
      poll: 0
      register: l
    - async_status: {jid: "{{ item.ansible_job_id }}"}
      loop: "{{ l.results }}"
      register: ls
      until: ls.finished
      retries: 30
      delay: 1
    - debug: {msg: "{{ ls.results | map(attribute='stdout') | list }}"}
    - async_status: {jid: "{{ b.ansible_job_id }}", mode: cleanup}
    - name: an unknown job
      async_status: {jid: j123.456}
      ignore_errors: true
    - name: async shorter than the task fails it
      command: sleep 4
      async: 1
      poll: 1
      ignore_errors: true
      register: c
    - debug: {msg: "{{ [c.failed, c.msg] }}"}
    - command: "echo {{ item }}"
      loop: [1]
      register: r
    - debug: {msg: "{{ [r | ${KEYS}, r.results[0] | ${KEYS}] }}"}
    - set_fact: {x: 1}
      register: sf
    - debug: {msg: "{{ sf | ${KEYS} }}"}
    - command: "true"
      when: false
      register: sk
    - debug: {msg: "{{ sk | ${KEYS} }}"}
`;

t.test('async, poll, async_status and registered keys, as ansible-playbook', async (t) => {
  const dir = project(t, { 'play.yml': PLAY });
  const steps = await sameAsAnsible(t, dir);
  t.equal(steps.at(-7)?.msg, '[true, "async task did not complete within the requested time - 1s"]', 'the oracle: the timeout message');
});
