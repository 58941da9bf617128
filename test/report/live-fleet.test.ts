// Issue 13, acceptance 1-3: a 20-task playbook on a 25-host fleet under a real pseudo-terminal (160x45 and 80x24),
// read back through a headless terminal emulator. The live view stays within 8 frames a second and 200 KB, costs at
// most 1.5x the CPU of a piped run, every frame fits the screen without a wrapped line, failed hosts' rows stop at
// once; the end lists the three failed hosts with task, file:line and reason before a single recap; Ctrl-C leaves the
// cursor shown and the live area closed.

import t, { type Test } from 'tap';
import { join } from 'node:path';
import { REPO } from '../helpers/kplay.ts';
import { labFleet } from '../ssh/fixture.ts';
import { runInPty, type PtyResult } from './pty.ts';
import { HeadlessTerminal, type Screen } from './xterm.ts';

const PLAYBOOK = join(REPO, 'test/report/fixtures/fleet20.yml');
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
const FRAME_END = '\u001b[?2026l';
const BROKEN = ['term-3', 'term-11', 'term-20'];
const BREAK_LINE = 31; // the line of "Break three hosts" in fleet20.yml

interface Replay {
  /** The screen after each frame (each ends with the end of synchronized output). */
  frames: Screen[];
  final: Screen;
  all: string[];
}

/** Feeds the output to a terminal of the same size, stopping after each frame. */
async function replay(output: string, cols: number, rows: number): Promise<Replay> {
  const term = new HeadlessTerminal(cols, rows);
  const frames: Screen[] = [];
  const parts = output.split(FRAME_END);
  for (const [i, part] of parts.entries()) {
    await term.write(part + (i < parts.length - 1 ? FRAME_END : ''));
    if (i < parts.length - 1) frames.push(term.screen());
  }
  const result = { frames, final: term.screen(), all: term.allLines() };
  term.dispose();
  return result;
}

function checkEnd(t: Test, lines: string[], what: string): void {
  const text = lines.join('\n');
  t.equal(text.match(/PLAY RECAP \*+/g)?.length, 1, `${what}: the recap once`);
  const block = text.slice(text.indexOf('3 FAILED (of 25 hosts)'), text.indexOf('PLAY RECAP'));
  t.ok(text.includes('3 FAILED (of 25 hosts)'), `${what}: the failed hosts' block`);
  for (const host of BROKEN) {
    t.match(block, new RegExp(`${host}: failed at TASK \\[Break three hosts\\] .*fleet20\\.yml:${BREAK_LINE}`), `${what}: ${host}, its task and file:line`);
    t.match(block, new RegExp(`disk quota exceeded on ${host}`), `${what}: ${host}'s reason`);
  }
  t.equal(block.match(/: failed at /g)?.length, 3, `${what}: only the three failed hosts`);
}

t.test('the live view on a 25-host fleet', async (t) => {
  const fleet = await labFleet(t, 25, 'term');
  if (!fleet) return;
  const cwd = t.testdir({});
  const args = ['run', PLAYBOOK, '-i', fleet.inventoryFile];
  const first = await runInPty(args, { cols: 160, rows: 45, cwd, piped: true });
  t.equal(first.code, 2, 'three hosts fail: exit code 2');

  // The same run (nothing left to change) piped and live: the live view's cost is what it adds.
  const piped = await runInPty(args, { cols: 160, rows: 45, cwd, piped: true });
  t.equal(piped.code, 2);
  checkEnd(t, piped.output.split('\n'), 'piped');
  t.comment(`piped: ${(piped.wallMs / 1000).toFixed(1)} s, CPU ${piped.cpu.toFixed(2)} s, ${piped.output.length} bytes`);

  for (const [cols, rows] of [[160, 45], [80, 24]] as const) {
    await t.test(`${cols}x${rows}`, async (t) => {
      const live: PtyResult = await runInPty(args, { cols, rows, cwd });
      t.equal(live.code, 2, 'exit code 2');
      const bytes = Buffer.byteLength(live.output);
      const seconds = live.wallMs / 1000;
      const view = await replay(live.output, cols, rows);
      t.comment(`live ${cols}x${rows}: ${seconds.toFixed(1)} s, CPU ${live.cpu.toFixed(2)} s, ${bytes} bytes, ${view.frames.length} frames`);
      t.ok(view.frames.length > 5, 'frames were drawn');
      t.ok(view.frames.length <= 8 * seconds + 1, `at most 8 frames a second (${(view.frames.length / seconds).toFixed(1)})`);
      t.ok(bytes < 200_000, `under 200 KB (${bytes})`);
      t.ok(live.cpu <= 1.5 * piped.cpu + 0.1, `CPU ${live.cpu.toFixed(2)} s within 1.5x of piped ${piped.cpu.toFixed(2)} s`);

      let misfits = 0;
      const failedSeen = new Set<string>();
      let spunAfterFailing = 0;
      let compactNamed = false;
      let behind = 0;
      let inStep = 0;
      for (const screen of view.frames) {
        // The frame: from its header (the line with the spinner) down to the cursor, parked on the line below it.
        let header = -1;
        for (let y = screen.cursorY - 1; y >= 0 && header < 0; y--) if (SPINNER.test(screen.lines[y])) header = y;
        const area = screen.lines.slice(header, screen.cursorY);
        if (header < 0 || screen.cursorY >= rows || screen.wrapped.slice(header + 1, screen.cursorY + 1).some(Boolean)) misfits++;
        for (const line of area) {
          const failed = /✖ (term-\d+) /.exec(line)?.[1];
          if (failed) failedSeen.add(failed);
          const working = /› (term-\d+) /.exec(line)?.[1];
          if (working && failedSeen.has(working)) spunAfterFailing++;
          if (BROKEN.every((h) => line.includes(h)) && /failed: /.test(line)) compactNamed = true;
        }
        // Rows in step with the header: in a linear play a working host works on the header's task, never an old one.
        const current = header < 0 ? undefined : / task \d+\/\d+ \[(.+?)\] \d+:\d\d/.exec(screen.lines[header])?.[1];
        for (const line of area.slice(1)) {
          const task = /› term-\d+ +(?:[a-z]+=\d+ )*[a-z]+=\d+ {2,}(\S.*?) \d+:\d\d/.exec(line)?.[1];
          if (task === undefined || current === undefined) continue;
          if (task === current) inStep++;
          else {
            behind++;
            if (behind <= 3) t.comment(`behind the header [${current}]: ${line}`);
          }
        }
      }
      t.equal(behind, 0, `every working row shows the header's task (${inStep} rows seen in step)`);
      t.equal(misfits, 0, 'every frame fits the screen, no line wrapped');
      if (rows >= 45) {
        t.same([...failedSeen].sort(), [...BROKEN].sort(), 'the failed hosts\' rows show ✖');
        t.equal(spunAfterFailing, 0, 'a failed row never works (spins) again');
      } else {
        t.ok(compactNamed, 'the compact view names the failed hosts');
      }
      t.notOk(view.final.cursorHidden, 'the cursor is shown at the end');
      checkEnd(t, view.all, `live ${cols}x${rows}`);
    });
  }

  await t.test('Ctrl-C mid-run', async (t) => {
    const live = await runInPty(args, {
      cols: 160,
      rows: 45,
      cwd,
      interruptWhen: (output) => output.includes('[Slow on a few hosts]'),
    });
    const view = await replay(live.output, 160, 45);
    t.notOk(view.final.cursorHidden, 'the cursor is shown');
    const end = view.all.findIndex((line) => line.includes('Interrupted (SIGINT)'));
    t.ok(end >= 0, 'the interruption is said');
    t.notOk(view.all.slice(end).some((line) => SPINNER.test(line) || /task \d+\/\d+/.test(line)), 'no live area after it');
    t.ok(view.all.slice(end).some((line) => line.startsWith('PLAY RECAP')), 'the recap so far', { lines: view.all.slice(end - 3, end + 6) });
    t.notOk(view.all.some((line) => line.includes('Wait a little')), 'the run did not go on');
  });
});
