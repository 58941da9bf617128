// Handlers: once per host at the end of the play however many tasks notify; none on a failed host unless
// --force-handlers.

import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay } from '../helpers/kplay.ts';

const PLAYBOOK = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: first change
      copy: content=a dest={{ playbook_dir }}/a
      notify: count
    - name: second change
      copy: content=b dest={{ playbook_dir }}/b
      notify: [count]
    - name: maybe fail
      fail: msg=asked
      when: fail_now | default(false)
  handlers:
    - name: count
      shell: echo run >> {{ playbook_dir }}/handler-runs
`;

t.test('a handler notified twice runs once, at the end of the play', async (t) => {
  const dir = t.testdir({ 'site.yml': PLAYBOOK });
  const r = await kplay(['run', 'site.yml', '--output', 'json'], { cwd: dir });
  t.equal(r.code, 0, r.stderr);
  t.equal(readFileSync(join(dir, 'handler-runs'), 'utf8'), 'run\n');
  const order = r.events.flatMap((e) => (e.type === 'result' ? [e.task.name] : []));
  t.same(order, ['first change', 'second change', 'maybe fail', 'count'], 'the handler ran after every task');
  const again = await kplay(['run', 'site.yml', '--output', 'json'], { cwd: dir });
  t.equal(again.recap?.localhost.changed, 0);
  t.equal(readFileSync(join(dir, 'handler-runs'), 'utf8'), 'run\n', 'nothing changed: the handler did not run');
});

t.test('a failed host runs no handlers unless --force-handlers', async (t) => {
  const dir = t.testdir({ 'site.yml': PLAYBOOK });
  const failed = await kplay(['run', 'site.yml', '-e', 'fail_now=true', '--output', 'json'], { cwd: dir });
  t.equal(failed.code, 2, 'a failed task: exit code 2');
  t.equal(failed.recap?.localhost.failed, 1);
  t.notOk(existsSync(join(dir, 'handler-runs')), 'no handler on a failed host');

  const dir2 = t.testdir({ 'site.yml': PLAYBOOK });
  const forced = await kplay(['run', 'site.yml', '-e', 'fail_now=true', '--force-handlers', '--output', 'json'], { cwd: dir2 });
  t.equal(forced.code, 2);
  t.equal(readFileSync(join(dir2, 'handler-runs'), 'utf8'), 'run\n', '--force-handlers ran it');
});
