import { execFileSync, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { createReporter } from '../../engine/report/create.ts';
import type { RunEvent } from '../../engine/core/events.ts';
import { CaptureStream, fleetRun, forbiddenTexts, scriptedRun, secrets } from './scripted-run.ts';
import { finalScreen } from './screen.ts';

async function runLive(events: RunEvent[], size: { columns: number; rows: number }, color = false, pace = 3) {
  const stream = new CaptureStream(size);
  const errStream = new CaptureStream();
  const options = { output: 'text', tty: true, color, verbosity: 0, diff: true, secrets: secrets() } as const;
  const reporter = await createReporter({ ...options, stream, errStream });
  for (const event of events) {
    reporter.event(event);
    // Paced, so listr2 draws frames between events as in a real run.
    await sleep(pace);
  }
  await reporter.close();
  return stream.text + errStream.text;
}

const stars = (title: string) => `${title} ${'*'.repeat(79 - title.length)}`;

const recapLines = [
  stars('PLAY RECAP'),
  'web1                       : ok=3    changed=3    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0',
  'web2                       : ok=1    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0',
  'web3                       : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0',
  'db1                        : ok=3    changed=2    unreachable=0    failed=0    skipped=0    rescued=0    ignored=1',
];

/** The screen the scripted run leaves: changes and failures above each play's rows, then the recap. */
const expectedScreen = [
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
  '',
  stars('TASK [install packages]'),
  'changed: [web1] => (item=curl)',
  'failed: [web2] (item=curl) => no package curl',
  '',
  stars('TASK [set db password]'),
  'changed: [web1] => the output has been hidden due to no_log: true',
  '⚠ PLAY [web servers]',
  '  ✔ web1  ok=3 changed=3 skipped=1',
  '  ✖ web2  ok=1 changed=0 failed=1',
  '  ✖ web3  ok=0 changed=0 unreachable=1',
  '',
  stars('PLAY [database]'),
  '',
  stars('TASK [generate CA key]'),
  'changed: [db1]',
  '',
  stars('TASK [show endpoint]'),
  'ok: [db1] => {',
  '    "msg": "https://db1:2379 token ********"',
  '}',
  '',
  stars('TASK [check service]'),
  'fatal: [db1]: FAILED! => db is not running (token ********)',
  '  rc: 3',
  '  stderr: auth ******** refused',
  '...ignoring',
  '[WARNING]: db1: the password ******** is in plain text',
  '',
  stars('RUNNING HANDLER [restart db]'),
  'changed: [db1 -> web1]',
  '✔ PLAY [database]',
  '  ✔ db1  ok=3 changed=2',
  '',
  ...recapLines,
];

t.test('on a terminal: a row per host, changes and failures kept above, the recap at the end', async (t) => {
  const raw = await runLive(scriptedRun(), { columns: 120, rows: 40 }, false, 150);
  t.match(raw, '\u001b[2K\u001b[1A', 'frames are redrawn in place');
  t.match(raw, /❯ PLAY \[web servers\] {2}TASK \[install packages\]\n(?: {2}. web\d.*\n)* {2}. web\d {2}ok=\d changed=\d {2}→ install packages\n/, 'a row shows its host\'s task');
  t.equal(finalScreen(raw).trimEnd(), expectedScreen.join('\n'));
  for (const text of forbiddenTexts()) t.notOk(raw.includes(text), `no ${text.slice(0, 20)}`);
});

t.test('colours the kept lines and the rows when asked', async (t) => {
  const raw = await runLive(scriptedRun(), { columns: 120, rows: 40 }, true);
  t.match(raw, '\u001b[33mchanged: [web1]\u001b[39m');
  t.match(raw, '\u001b[32mok=3\u001b[39m');
  t.equal(finalScreen(raw).trimEnd(), expectedScreen.join('\n'));
});

t.test('hosts that would not fit the terminal share one row', async (t) => {
  const raw = await runLive(fleetRun(50), { columns: 120, rows: 24 });
  const screen = finalScreen(raw);
  t.match(raw, /50 hosts {2}ok=\d+ changed=\d+ {2}working: node\d\d/, 'the row names hosts still working');
  t.match(screen, '⚠ PLAY [fleet]\n  ✖ 50 hosts  ok=99 changed=5 failed=1\n');
  t.match(screen, 'fatal: [node07]: FAILED! => disk full');
  t.notMatch(screen, /^ {2}. node\d\d/m, 'no row per host');
  t.match(screen, /node50 {21}: ok=2 {4}changed=0/);
});

t.test('a terminal that reports no width gets plain lines', async (t) => {
  const raw = await runLive(scriptedRun(), { columns: 0, rows: 0 });
  t.notOk(raw.includes('\u001b'));
  t.match(raw, 'ok: [web2]\n');
});

t.test('under a real pseudo-terminal (tmux)', async (t) => {
  const socket = `kplay-report-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  t.teardown(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
  });
  const replay = new URL('./replay.ts', import.meta.url).pathname;
  const command = `npx tsx ${replay}; tmux -L ${socket} wait-for -S replayed; sleep 60`;
  tmux('new-session', '-d', '-x', '130', '-y', '60', '-c', process.cwd(), command);
  const done = spawnSync('tmux', ['-L', socket, 'wait-for', 'replayed'], { timeout: 60_000 });
  t.equal(done.status, 0, 'the replay finished');
  const screen = tmux('capture-pane', '-p', '-S', '-200').trimEnd();
  t.equal(screen.slice(screen.indexOf(stars('PLAY [web servers]'))), expectedScreen.slice(1).join('\n'));
  for (const text of forbiddenTexts()) t.notOk(screen.includes(text), `no ${text.slice(0, 20)}`);
});
