// Issue 13: when every host of a play is unreachable, a real run under a pseudo-terminal draws the end once: one
// block naming each host with its task and reason, one recap, the cursor shown.

import t from 'tap';
import { runInPty } from './pty.ts';
import { HeadlessTerminal } from './xterm.ts';

t.test('every host unreachable: the failed hosts block and the recap, once each', async (t) => {
  const cwd = t.testdir({
    // Nothing listens on port 1: the connection is refused at once.
    'inventory.yml': 'all:\n  hosts:\n    dead1: { ansible_host: 127.0.0.1, ansible_port: 1 }\n    dead2: { ansible_host: 127.0.0.1, ansible_port: 1 }\n',
    'play.yml': "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n",
  });
  const run = await runInPty(['run', 'play.yml', '-i', 'inventory.yml'], { cols: 100, rows: 30, cwd });
  t.equal(run.code, 4, 'exit code 4: unreachable');
  const term = new HeadlessTerminal(100, 30);
  await term.write(run.output);
  const text = term.allLines().join('\n');
  t.notOk(term.screen().cursorHidden, 'the cursor is shown');
  term.dispose();
  const count = (re: RegExp): number => text.match(re)?.length ?? 0;
  t.equal(count(/2 UNREACHABLE \(of 2 hosts\) \*+/g), 1, 'the block once');
  t.equal(count(/^dead1: unreachable at TASK \[command\] play\.yml:4$/gm), 1, 'dead1 once, with its task and line');
  t.equal(count(/^dead2: unreachable at TASK \[command\] play\.yml:4$/gm), 1, 'dead2 once');
  t.equal(count(/PLAY RECAP \*+/g), 1, 'the recap once');
  t.equal(count(/^dead1 +: ok=0 +changed=0 +unreachable=1/gm), 1);
});
