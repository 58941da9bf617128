import t from 'tap';
import { formatRecap, Tally } from '../../engine/report/recap.ts';
import { painter } from '../../engine/report/style.ts';
import type { RunEvent, TaskRef } from '../../engine/core/events.ts';
import { fleetRun, scriptedRun } from './scripted-run.ts';

function tally(events: RunEvent[]): Tally {
  const counts = new Tally();
  for (const event of events) {
    if (event.type === 'host_task') counts.startTask(event.host);
    if (event.type === 'result') counts.add(event);
  }
  return counts;
}

t.test('the running tally comes to the recap the runner sends', async (t) => {
  for (const events of [scriptedRun(), fleetRun(12)]) {
    const recap = events.at(-1);
    t.equal(recap?.type, 'recap');
    if (recap?.type === 'recap') t.same(tally(events).hosts, recap.hosts);
  }
});

t.test('a loop counts once, as its worst item; the next task starts afresh', async (t) => {
  const task: TaskRef = { name: 'pkgs', module: 'package', file: 'site.yml', line: 1 };
  const other: TaskRef = { ...task, name: 'more pkgs', line: 5 };
  const item = (status: 'ok' | 'changed' | 'failed' | 'skipped', name: string, t = task): RunEvent => ({
    type: 'result',
    host: 'h',
    task: t,
    status,
    item: name,
  });
  const counts = tally([
    { type: 'host_task', host: 'h', task },
    item('skipped', 'a'),
    item('ok', 'b'),
    item('changed', 'c'),
    item('ok', 'd'),
    { type: 'host_task', host: 'h', task: other },
    item('skipped', 'x', other),
    item('skipped', 'y', other),
  ]);
  t.same(counts.hosts.h, { ok: 1, changed: 1, failed: 0, skipped: 1, unreachable: 0, rescued: 0, ignored: 0 });
});

t.test('the recap lines are aligned as Ansible aligns them', async (t) => {
  const lines = formatRecap(
    { 'a-rather-long-host-name.example.com': { ok: 12, changed: 0, failed: 0, skipped: 0, unreachable: 0, rescued: 1, ignored: 0 } },
    painter(false),
  );
  t.same(lines, [
    '',
    `PLAY RECAP ${'*'.repeat(69)}`,
    'a-rather-long-host-name.example.com : ok=12   changed=0    unreachable=0    failed=0    skipped=0    rescued=1    ignored=0',
  ]);
});
