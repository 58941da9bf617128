// Issue 13: what the command line says when it is used wrongly. The source line with a caret under the column; the
// YAML "nested mappings" case says to quote; did-you-mean for play keywords, subcommands (`kplay site.yml` without
// `run`) and options; with --output json a load error is one JSON error event on stdout; a playbook named kplay.yml
// is run as a playbook, not read as the project file.

import t from 'tap';
import { kplay } from '../helpers/kplay.ts';

const PLAY = '- hosts: localhost\n  gather_facts: false\n';

t.test('a bad playbook: file:line:col, the line, a caret under the column, a hint', async (t) => {
  const cwd = t.testdir({
    'nested.yml': `${PLAY}  tasks:\n    - debug:\n        msg: port: 80\n`,
    'keyword.yml': `${PLAY}  taks:\n    - debug: msg=hi\n`,
  });
  const nested = await kplay(['run', 'nested.yml'], { cwd });
  t.equal(nested.code, 1);
  t.equal(
    nested.stderr,
    [
      'nested.yml:5:14: YAML syntax error: Nested mappings are not allowed in compact mappings',
      '5 |         msg: port: 80',
      '  |              ^',
      'hint: a value that holds ": " must be quoted, e.g. msg: "port: 80"',
      '',
    ].join('\n'),
  );
  const keyword = await kplay(['run', 'keyword.yml'], { cwd });
  t.equal(keyword.code, 1);
  t.equal(keyword.stderr, 'keyword.yml:3:3: unknown play keyword "taks" (did you mean "tasks"?)\n3 |   taks:\n  |   ^\n');
  t.equal(keyword.stdout, '', 'nothing ran');
});

t.test('--output json: a load error is one JSON error event on stdout', async (t) => {
  const cwd = t.testdir({ 'keyword.yml': `${PLAY}  taks:\n    - debug: msg=hi\n` });
  const r = await kplay(['run', 'keyword.yml', '--output', 'json'], { cwd });
  t.equal(r.code, 1);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, 1, 'one line');
  const event = JSON.parse(lines[0]) as Record<string, unknown>;
  t.match(event, { type: 'error', file: 'keyword.yml', line: 3, col: 3, message: /unknown play keyword "taks" \(did you mean "tasks"\?\)/ });
  t.match(event.time, /^\d{4}-\d\d-\d\dT/);
  t.match(r.stderr, /^keyword\.yml:3:3: unknown play keyword "taks"/, 'and for a person, on stderr');
});

t.test('did you mean: subcommands and options', async (t) => {
  const cwd = t.testdir({ 'site.yml': `${PLAY}  tasks:\n    - debug: msg=hi\n` });
  const noRun = await kplay(['site.yml'], { cwd });
  t.equal(noRun.code, 1);
  t.match(noRun.stderr, 'kplay: "site.yml" is a playbook, not a command: did you mean "kplay run site.yml"?');
  const typo = await kplay(['rnu', 'site.yml'], { cwd });
  t.match(typo.stderr, 'kplay: unknown command "rnu" (did you mean "run"?)');
  const option = await kplay(['run', 'site.yml', '--chek'], { cwd });
  t.equal(option.code, 1);
  t.match(option.stderr, 'kplay: unknown option --chek (did you mean "--check"?)');
  const progress = await kplay(['run', 'site.yml', '--progress', 'fancy'], { cwd });
  t.equal(progress.code, 1);
  t.match(progress.stderr, 'kplay: --progress is live, plain, none (got "fancy")');
});

t.test('a playbook named kplay.yml given on the command line is a playbook', async (t) => {
  const cwd = t.testdir({ 'kplay.yml': `${PLAY}  tasks:\n    - debug: msg=from-kplay-yml\n` });
  const direct = await kplay(['run', 'kplay.yml'], { cwd });
  t.equal(direct.code, 0, direct.stderr);
  t.match(direct.stdout, '"msg": "from-kplay-yml"');
});

t.test('--progress none: only the end', async (t) => {
  const cwd = t.testdir({ 'site.yml': `${PLAY}  tasks:\n    - debug: msg=hi\n    - fail:\n        msg: broken on purpose\n` });
  const r = await kplay(['run', 'site.yml', '--progress', 'none'], { cwd });
  t.equal(r.code, 2);
  t.notMatch(r.stdout, /^(TASK|PLAY) \[.*\*{3}$/m, 'no task or play banners');
  t.notMatch(r.stdout, /^ok: /m, 'no result lines');
  t.match(r.stdout, /1 FAILED \(of 1 hosts\) \*+\nlocalhost: failed at TASK \[fail\] site\.yml:5\n {4}broken on purpose\n\nPLAY RECAP/);
  const env = await kplay(['run', 'site.yml'], { cwd, env: { KPLAY_PROGRESS: 'none' } });
  t.equal(env.stdout, r.stdout, 'KPLAY_PROGRESS does the same');
});

t.test('--limit or hosts: that leave no host: an error naming them; a play the limit leaves empty: a warning naming the limit', async (t) => {
  const cwd = t.testdir({
    'inventory.yml': 'all:\n  hosts:\n    web1:\n      ansible_connection: local\n    db1:\n      ansible_connection: local\n  children:\n    db:\n      hosts:\n        db1:\n',
    'site.yml': '- hosts: web1\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n',
    'two.yml': '- hosts: web1\n  gather_facts: false\n  tasks:\n    - debug: msg=web\n- hosts: db\n  gather_facts: false\n  tasks:\n    - debug: msg=db\n',
    'web9.yml': '- hosts: web9\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n',
  });
  const none = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '--limit', 'nosuchhost'], { cwd });
  t.equal(none.code, 1, 'a limit that matches no host is an error');
  t.match(none.stderr, 'kplay: --limit nosuchhost matches no host of the inventory');
  const other = await kplay(['run', 'site.yml', '-i', 'inventory.yml', '--limit', 'db'], { cwd });
  t.equal(other.code, 1, 'a limit that leaves no play a host is an error');
  t.match(other.stderr, 'kplay: --limit db leaves no host to run on');
  const two = await kplay(['run', 'two.yml', '-i', 'inventory.yml', '--limit', 'db'], { cwd });
  t.equal(two.code, 0, 'the other play runs');
  t.match(two.stdout + two.stderr, '[WARNING]: play "web1": --limit db leaves none of the 1 hosts of "web1"');
  const pattern = await kplay(['run', 'web9.yml', '-i', 'inventory.yml'], { cwd });
  t.equal(pattern.code, 1, 'a play whose hosts: names nothing the inventory knows is an error');
  t.match(pattern.stdout + pattern.stderr, /web9\.yml:1:\d+: .*web9/, 'it names the pattern at its place');
});
