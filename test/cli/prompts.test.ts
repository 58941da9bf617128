// Typed secrets: `pause` with `echo: false` reads from the terminal without echo, and what was typed is a secret of
// the run (a debug of the registered user_input shows ********); with echo on, the input is shown and kept as typed.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { runInPty } from '../report/pty.ts';

const PLAYBOOK = (echo: boolean) => `- hosts: localhost
  gather_facts: false
  tasks:
    - pause:
        prompt: Token please
        echo: ${echo}
      register: typed
    - debug: var=typed.user_input
    - copy: content="{{ typed.user_input }}" dest={{ playbook_dir }}/typed.txt
`;

t.test('pause echo: false hides what is typed, in the terminal and in every later output', async (t) => {
  const cwd = t.testdir({ 'hidden.yml': PLAYBOOK(false), 'shown.yml': PLAYBOOK(true) });
  const token = `Tok-${Math.random().toString(36).slice(2, 10)}`;
  const answer = { when: (out: string) => out.includes('Token please:'), text: `${token}\r` };
  const hidden = await runInPty(['run', 'hidden.yml', '--progress', 'plain', '-v'], { cols: 160, rows: 40, cwd, answer });
  t.equal(hidden.code, 0, 'the run succeeds');
  if (hidden.code !== 0) t.comment(hidden.output);
  t.notMatch(hidden.output, token, 'not echoed, not printed');
  t.match(hidden.output, /"typed\.user_input": "\*{8}"/);
  t.equal(readFileSync(`${cwd}/typed.txt`, 'utf8'), token, 'the task got what was typed');
  const shown = await runInPty(['run', 'shown.yml', '--progress', 'plain', '-v'], { cols: 160, rows: 40, cwd, answer });
  t.equal(shown.code, 0);
  t.match(shown.output, new RegExp(`"typed\\.user_input": "${token}"`), 'with echo, the input is no secret');
});
