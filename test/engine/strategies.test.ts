// How hosts are worked through: serial batches, max_fail_percentage, any_errors_fatal, the free strategy, throttle
// and --forks. Five hosts on this machine (local connection), each with its own folder.

import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { kplay, type KplayResult } from '../helpers/kplay.ts';

const INVENTORY = `all:
  vars:
    ansible_connection: local
  hosts:
    h1: {}
    h2: {}
    h3: {}
    h4: {}
    h5: {}
`;

function fixture(t: Test, play: string): string {
  return t.testdir({ 'inventory.yml': INVENTORY, 'site.yml': play });
}
const results = (r: KplayResult): [string, string, string][] =>
  r.events.flatMap((e) => (e.type === 'result' ? [[e.host, e.task.name, e.status] as [string, string, string]] : []));

t.test('serial runs the whole play on each batch in turn', async (t) => {
  const dir = fixture(t, `
- hosts: all
  gather_facts: false
  serial: [1, "40%"]
  tasks:
    - name: one
      debug: msg=1
    - name: two
      debug: msg=2
`);
  const r = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '--output', 'json'], { cwd: dir });
  t.equal(r.code, 0, r.stderr);
  const batchOf: Record<string, number> = { h1: 0, h2: 1, h3: 1, h4: 2, h5: 2 };
  const seen = results(r).map(([h, task]) => [batchOf[h], task] as const);
  t.equal(seen.length, 10);
  t.same(seen.map(([b]) => b), [...seen.map(([b]) => b)].sort(), 'batches of 1, then 40% (2) of 5 hosts, in turn');
  for (const batch of [0, 1, 2]) {
    const tasks = seen.filter(([b]) => b === batch).map(([, task]) => task);
    t.same(tasks, [...tasks].sort(), `batch ${batch}: every host does "one" before "two"`);
  }
});

t.test('max_fail_percentage and any_errors_fatal end the play for every host', async (t) => {
  const others = ['h1', 'h3', 'h4', 'h5'];
  const play = (keyword: string): string => `
- hosts: all
  gather_facts: false
  ${keyword}
  tasks:
    - name: fails on h2
      fail: msg=no
      when: inventory_hostname == 'h2'
    - name: after
      copy: content=x dest={{ playbook_dir }}/after-{{ inventory_hostname }}
`;
  for (const keyword of ['max_fail_percentage: 10', 'any_errors_fatal: true', '']) {
    const dir = fixture(t, play(keyword));
    const r = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '--output', 'json'], { cwd: dir });
    t.equal(r.code, 2, `${keyword || 'neither'}: a failed task`);
    const ranAfter = others.filter((h) => existsSync(join(dir, `after-${h}`)));
    if (keyword) t.same(ranAfter, [], `${keyword}: no host ran the next task`);
    else t.same(ranAfter, others, 'without them, the other hosts go on');
    t.notOk(existsSync(join(dir, 'after-h2')), 'the failed host stops');
  }
});

t.test('the free strategy lets each host run ahead; linear waits for all hosts at each task', async (t) => {
  const play = (strategy: string) => `
- hosts: h1,h2
  gather_facts: false
  strategy: ${strategy}
  tasks:
    - name: slow on h1
      command: "sleep {{ 1 if inventory_hostname == 'h1' else 0 }}"
    - name: next
      debug: msg=next
`;
  const free = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '--output', 'json'], { cwd: fixture(t, play('free')) });
  t.equal(free.code, 0, free.stderr);
  const order = results(free).map(([h, task]) => `${h}:${task}`);
  t.ok(order.indexOf('h2:next') < order.indexOf('h1:slow on h1'), `free: h2 finished before h1's slow task (${order.join(' ')})`);
  const linear = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '--output', 'json'], { cwd: fixture(t, play('linear')) });
  const lorder = results(linear).map(([h, task]) => `${h}:${task}`);
  t.ok(lorder.indexOf('h2:next') > lorder.indexOf('h1:slow on h1'), `linear: next waits for every host (${lorder.join(' ')})`);
});

t.test('throttle and --forks cap how many hosts work at once', async (t) => {
  // Each host takes a lock folder for a moment: two at once make one of them fail.
  const play = (throttle: string) => `
- hosts: all
  gather_facts: false
  tasks:
    - name: exclusive
      shell: mkdir {{ playbook_dir }}/lock && sleep 0.2 && rmdir {{ playbook_dir }}/lock
      ${throttle}
`;
  const free = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '--output', 'json'], { cwd: fixture(t, play('')) });
  t.equal(free.code, 2, 'without a cap, hosts collide');
  const throttled = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '--output', 'json'], { cwd: fixture(t, play('throttle: 1')) });
  t.equal(throttled.code, 0, 'throttle: 1 runs one host at a time');
  const forks = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '--forks', '1', '--output', 'json'], { cwd: fixture(t, play('')) });
  t.equal(forks.code, 0, '--forks 1 as well');
});

// (Only what Ansible shows too: its ansible_play_batch also leaves out failed hosts, and its ansible_play_hosts spans
// every batch; kplay's do not yet.)
t.test('play_hosts follows the batch and the hosts that failed, task by task', async (t) => {
  const dir = fixture(t, `
- hosts: all
  gather_facts: false
  serial: 3
  tasks:
    - name: before
      debug: msg="{{ play_hosts | join(',') }}|{{ ansible_play_hosts_all | join(',') }}"
    - name: fails on h2 and h4
      fail: msg=no
      when: inventory_hostname in ['h2', 'h4']
    - name: after
      debug: msg="{{ play_hosts | join(',') }}|{{ group_names | join(',') }}"
`);
  const r = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '--output', 'json', '-v'], { cwd: dir });
  const msgs = r.events.flatMap((e) => (e.type === 'result' && e.task.name !== 'fails on h2 and h4' ? [`${e.task.name} ${e.host} ${String(e.result?.msg)}`] : []));
  t.same(msgs.sort(), [
    'after h1 h1,h3|ungrouped',
    'after h3 h1,h3|ungrouped',
    'after h5 h5|ungrouped',
    'before h1 h1,h2,h3|h1,h2,h3,h4,h5',
    'before h2 h1,h2,h3|h1,h2,h3,h4,h5',
    'before h3 h1,h2,h3|h1,h2,h3,h4,h5',
    'before h4 h4,h5|h1,h2,h3,h4,h5',
    'before h5 h4,h5|h1,h2,h3,h4,h5',
  ]);
});
