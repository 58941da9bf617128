// A real run under a pseudo-terminal: a slow get_url shows its bytes as they come (curl's meter on the host,
// streamed back) and a wait_for counts down, as the operator's terminal shows them.

import t from 'tap';
import { writeFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import { freePort, startServer } from '../k8s-modules/http-server.ts';
import { runInPty } from './pty.ts';
import { HeadlessTerminal } from './xterm.ts';

const FRAME_END = '\u001b[?2026l';
const BODY = Buffer.alloc(3_000_000, 7);

t.test('live progress: a download\'s bytes and a wait\'s countdown', async (t) => {
  // 3 MB in 20 pieces 250 ms apart: about 5 s, so curl's meter (once a second) is seen several times.
  const server = await startServer({ '/big.bin': () => ({ status: 200, body: BODY, drip: 250 }) });
  t.teardown(() => server.close());
  const port = await freePort();
  const cwd = t.testdir({});
  writeFileSync(`${cwd}/inventory.yml`, 'all:\n  hosts:\n    a:\n      ansible_connection: local\n    b:\n      ansible_connection: local\n');
  writeFileSync(
    `${cwd}/play.yml`,
    [
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      '    - name: fetch the release',
      `      get_url: { url: "${server.url}/big.bin", dest: "${cwd}/{{ inventory_hostname }}.bin" }`,
      '    - name: wait for the API',
      `      wait_for: { host: 127.0.0.1, port: ${port}, timeout: 4 }`,
      '      ignore_errors: true',
    ].join('\n'),
  );
  const run = await runInPty(['run', 'play.yml', '-i', 'inventory.yml'], { cols: 120, rows: 30, cwd });
  t.equal(run.code, 0, run.output.slice(-2000));
  const term = new HeadlessTerminal(120, 30);
  const frames: string[][] = [];
  const parts = run.output.split(FRAME_END);
  for (const [i, part] of parts.entries()) {
    await term.write(part);
    if (i < parts.length - 1) frames.push(term.screen().lines);
  }
  term.dispose();
  const seen = frames.flat();
  const bytes = seen.flatMap((l) => /fetch the release \d+:\d\d (\d+\.\d)\/3\.0 MB$/.exec(l)?.[1] ?? []).map(Number);
  t.ok(bytes.some((b) => b > 0 && b < 3), `part of the download shown as it came (${[...new Set(bytes)].join(', ')} of 3.0 MB)`);
  const left = seen.flatMap((l) => /wait for the API \d+:\d\d (\d)s left$/.exec(l)?.[1] ?? []).map(Number);
  t.ok(new Set(left).size >= 2, `the wait counts down (${[...new Set(left)].join(', ')} s left)`);
  t.ok(left.every((s) => s <= 4), 'from its timeout');
  t.ok(
    seen.some((l) => /PLAY \[all\] {2}task 2\/2 \[wait for the API\] 0:0\d {2}run 0:\d\d$/.test(l)),
    'the header: task N of M, the time on the task and on the whole run',
  );
});

t.test('--progress and KPLAY_PROGRESS choose the view, in a terminal or not; the option wins', async (t) => {
  const cwd = t.testdir({
    'inventory.yml': 'all:\n  hosts:\n    a:\n      ansible_connection: local\n',
    'play.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: nap\n      command: sleep 0.5\n',
  });
  const args = ['run', 'play.yml', '-i', 'inventory.yml'];
  const frames = (output: string): number => output.split(FRAME_END).length - 1;
  const pty = { cols: 100, rows: 30, cwd };
  const live = await runInPty(args, pty);
  t.ok(frames(live.output) > 0, 'a terminal: the live view by default');
  t.notMatch(live.output, /^changed: \[a\]/m);
  for (const [what, run] of [
    ['--progress plain', await runInPty([...args, '--progress', 'plain'], pty)],
    ['KPLAY_PROGRESS=plain', await runInPty(args, { ...pty, env: { KPLAY_PROGRESS: 'plain' } })],
    ['the option over the variable', await runInPty([...args, '--progress', 'plain'], { ...pty, env: { KPLAY_PROGRESS: 'live' } })],
  ] as const) {
    t.equal(frames(run.output), 0, `${what}: no live frames in a terminal`);
    t.match(stripVTControlCharacters(run.output), /^changed: \[a\]\r?$/m, `${what}: Ansible-like lines`);
  }
  for (const [what, run] of [
    ['--progress live', await runInPty([...args, '--progress', 'live'], { ...pty, piped: true })],
    ['KPLAY_PROGRESS=live', await runInPty(args, { ...pty, piped: true, env: { KPLAY_PROGRESS: 'live' } })],
  ] as const) {
    t.ok(frames(run.output) > 0, `${what}: the live view although piped`);
  }
  const piped = await runInPty(args, { ...pty, piped: true });
  t.equal(frames(piped.output), 0, 'piped: plain lines by default');
});
