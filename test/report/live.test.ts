// The live view on a scripted run, read back through a headless terminal (xterm.js): what stays on screen (failures,
// diffs, debug messages, one line per task), the failed hosts' block and one recap; rows per host or, when they do
// not fit, a compact view naming the failed hosts; no secret anywhere. The fleet under a real pseudo-terminal is
// live-fleet.test.ts.

import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { createReporter } from '../../engine/report/create.ts';
import type { RunEvent } from '../../engine/core/events.ts';
import { CaptureStream, fleetRun, forbiddenTexts, scriptedRun, secrets } from './scripted-run.ts';
import { HeadlessTerminal } from './xterm.ts';

async function runLive(events: RunEvent[], size: { columns: number; rows: number }, color = false, pace = 3) {
  const stream = new CaptureStream(size);
  const errStream = new CaptureStream();
  const options = { output: 'text', tty: true, color, verbosity: 0, diff: true, secrets: secrets() } as const;
  const reporter = await createReporter({ ...options, stream, errStream });
  for (const event of events) {
    // A frame of the last state before the recap closes the view, however slowly this machine draws the others.
    if (event.type === 'recap') await sleep(300);
    reporter.event(event);
    // Paced, so frames are drawn between events as in a real run.
    await sleep(pace);
  }
  await reporter.close();
  return stream.text + errStream.text;
}

/** Every line the terminal shows after `raw`, and the frames seen on the way (each ends synchronized output). */
async function screenOf(raw: string, columns: number, rows: number): Promise<{ lines: string[]; frames: string[][]; hidden: boolean }> {
  const term = new HeadlessTerminal(columns, rows);
  const frames: string[][] = [];
  const parts = raw.split('\u001b[?2026l');
  for (const [i, part] of parts.entries()) {
    await term.write(part);
    if (i < parts.length - 1) frames.push(term.screen().lines);
  }
  const result = { lines: term.allLines(), frames, hidden: term.screen().cursorHidden };
  term.dispose();
  while (result.lines.length > 0 && result.lines.at(-1) === '') result.lines.pop();
  return result;
}

const stars = (title: string) => `${title} ${'*'.repeat(79 - title.length)}`;

t.test('on a terminal: what stays above the live area, then the failed hosts and the recap, once', async (t) => {
  const raw = await runLive(scriptedRun(), { columns: 120, rows: 40 }, false, 150);
  const { lines, frames, hidden } = await screenOf(raw, 120, 40);
  t.ok(frames.length > 0, 'frames were drawn');
  t.ok(frames.some((f) => f.some((l) => /PLAY \[web servers\] {2}task 2\/\d+ \[install packages\]/.test(l))), 'the header names the task, N of M');
  t.ok(frames.some((f) => f.some((l) => /^ {2}✖ web3 +ok=0 changed=0 unreachable=1 +unreachable at \[write config\]/.test(l))), 'an unreachable row stops');
  t.notOk(hidden, 'the cursor is shown at the end');
  const text = lines.join('\n').replace(/ \d+\.\ds/g, ' T');
  t.equal(text, [
    '',
    stars('PLAY [web servers]'),
    '',
    stars('TASK [write config]'),
    '--- before: /etc/app.conf',
    '+++ after: /etc/app.conf',
    '@@ -1,2 +1,3 @@',
    '-port=80',
    '+port=8080',
    ' user=app',
    '+password=********',
    'changed: [web1]',
    'fatal: [web3]: UNREACHABLE! => ssh web3:22: authentication failed for become password ********',
    '✖ TASK [write config] T  changed=1 ok=1 unreachable=1',
    '',
    stars('TASK [install packages]'),
    'failed: [web2] (item=curl) => no package curl',
    '✖ TASK [install packages] T  changed=1 ok=2 failed=1',
    '✔ TASK [set db password] T  changed=1',
    '✔ TASK [only on db] T  skipped=1',
    '✖ PLAY [web servers]: 3 hosts, T, 1 failed, 1 unreachable',
    '',
    stars('PLAY [database]'),
    '✔ TASK [generate CA key] T  changed=1',
    '',
    stars('TASK [show endpoint]'),
    'ok: [db1] => {',
    '    "msg": "https://db1:2379 token ********"',
    '}',
    '✔ TASK [show endpoint] T  ok=1',
    '',
    stars('TASK [check service]'),
    'fatal: [db1]: FAILED! => db is not running (token ********)',
    '  rc: 3',
    '  stderr: auth ******** refused',
    '...ignoring',
    '[WARNING]: db1: the password ******** is in plain text',
    '✔ TASK [check service] T  ignored=1',
    '✔ HANDLER [restart db] T  changed=1',
    '✔ PLAY [database]: 1 host, T',
    '',
    stars('1 FAILED, 1 UNREACHABLE (of 4 hosts)'),
    'web2: failed at TASK [install packages] (item=curl) site.yml:12',
    '    no package curl',
    'web3: unreachable at TASK [write config] site.yml:5',
    '    ssh web3:22: authentication failed for become password ********',
    '',
    stars('PLAY RECAP'),
    'web1                       : ok=3    changed=3    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0',
    'web2                       : ok=1    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0',
    'web3                       : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0',
    'db1                        : ok=4    changed=2    unreachable=0    failed=0    skipped=0    rescued=0    ignored=1',
  ].join('\n'));
  for (const secret of forbiddenTexts()) t.notOk(raw.includes(secret), `no ${secret.slice(0, 20)}`);
});

t.test('colours when asked', async (t) => {
  const raw = await runLive(scriptedRun(), { columns: 120, rows: 40 }, true);
  t.match(raw, '\u001b[91mfatal: [web3]: UNREACHABLE!');
  t.match(raw, '\u001b[32mok=3\u001b[39m');
});

t.test('hosts that would not fit the terminal: a compact view that names the failed hosts', async (t) => {
  const raw = await runLive(fleetRun(50), { columns: 100, rows: 24 }, false, 2);
  const { lines, frames } = await screenOf(raw, 100, 24);
  t.ok(frames.length > 0);
  t.ok(frames.every((f) => !f.some((l) => /^ {2}. node\d\d /.test(l))), 'no row per host');
  t.ok(frames.some((f) => f.some((l) => /^ {2}50 hosts: .*working/.test(l))), 'how many hosts work');
  t.ok(frames.some((f) => f.some((l) => /^ {2}failed: node07 at \[write motd\]/.test(l))), 'the failed host by name');
  t.ok(frames.some((f) => f.some((l) => /^ {2}slowest: node\d\d \d:\d\d/.test(l))), 'the slowest hosts by name');
  t.ok(lines.includes('node07: failed at TASK [write motd] site.yml:6'), 'in the block at the end');
  t.equal(lines.filter((l) => l.startsWith('PLAY RECAP')).length, 1, 'one recap');
});

t.test('a terminal that reports no width gets plain lines', async (t) => {
  const raw = await runLive(scriptedRun(), { columns: 0, rows: 0 });
  t.notOk(raw.includes('\u001b'));
  t.match(raw, 'ok: [web2]\n');
});

t.test('a long task shows its progress: a wait counts down, a download its bytes', async (t) => {
  const wait = { name: 'wait for the API', module: 'wait_for', file: 'site.yml', line: 3 };
  const events: RunEvent[] = [
    { type: 'start', playbook: 'site.yml', check: false, diff: false },
    { type: 'play', name: 'slow', hosts: ['a', 'b'], tasks: 2 },
    { type: 'task', task: wait, hosts: ['a', 'b'] },
    { type: 'host_task', host: 'a', task: wait },
    { type: 'host_task', host: 'b', task: wait },
    { type: 'progress', host: 'a', task: wait, progress: { until: Date.now() + 30_000 } },
    { type: 'progress', host: 'b', task: wait, progress: { bytes: { done: 12_000_000, total: 40_000_000 } } },
  ];
  const stream = new CaptureStream({ columns: 120, rows: 40 });
  const reporter = await createReporter({ output: 'text', tty: true, color: false, verbosity: 0, diff: false, secrets: secrets(), stream });
  for (const event of events) reporter.event(event);
  await sleep(300);
  reporter.event({ type: 'recap', hosts: {} });
  await reporter.close();
  const { frames } = await screenOf(stream.text, 120, 40);
  const seen = frames.flat();
  t.ok(seen.some((l) => /› a +ok=0 changed=0 +wait for the API 0:00 (30|29)s left$/.test(l)), 'the wait counts down');
  t.ok(seen.some((l) => /› b +ok=0 changed=0 +wait for the API 0:00 12\.0\/40\.0 MB$/.test(l)), 'the bytes of a download');
  t.ok(seen.some((l) => /PLAY \[slow\] {2}task 1\/2 \[wait for the API\] 0:00/.test(l)), 'task 1 of 2');
});
