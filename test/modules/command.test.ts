import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import command from '../../engine/modules/command.ts';
import shell from '../../engine/modules/shell.ts';
import { ModuleError } from '../../engine/modules/contract.ts';
import { splitShellWords } from '../../engine/core/shell.ts';
import { makeContext, runModule, snapshot } from './context.ts';

t.test('shell words: quotes and backslashes as sh reads them', async (t) => {
  t.same(splitShellWords(`echo  'a b' "c \\"d\\" \\x" e\\ f '' g"h"i`), ['echo', 'a b', 'c "d" \\x', 'e f', '', 'ghi']);
  t.throws(() => splitShellWords(`echo 'open`), /unterminated single quote/);
});

t.test('command runs without a shell: metacharacters are plain arguments', async (t) => {
  const dir = t.testdir({});
  const out = await runModule(command, { cmd: `printf '%s|' 'a b' '$HOME' '*' ';' 'x>y'`, chdir: dir }, makeContext());
  t.equal(out.changed, true);
  t.equal(out.result.stdout, 'a b|$HOME|*|;|x>y|');
  t.equal(out.result.rc, 0);
  t.same(out.result.cmd, ['printf', '%s|', 'a b', '$HOME', '*', ';', 'x>y']);
  t.notOk(existsSync(`${dir}/y`), 'no redirection happened');
  t.match(out.result, { start: /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/, delta: /^0:00:\d\d\.\d{6}$/ });
  const argv = await runModule(command, { argv: ['echo', 'one two'] }, makeContext());
  t.same(argv.result.stdout_lines, ['one two']);
});

t.test('shell: pipes, variables, stdin, chdir, stdout_lines and stderr', async (t) => {
  const dir = t.testdir({ 'in.txt': 'b\na\n' });
  const out = await runModule(shell, { cmd: 'sort in.txt | tr a-z A-Z; echo warn >&2; echo "$0"', chdir: dir }, makeContext());
  t.same(out.result.stdout_lines, ['A', 'B', '/bin/sh']);
  t.equal(out.result.stderr, 'warn');
  const stdin = await runModule(shell, { cmd: 'cat; cat', stdin: 'typed' }, makeContext());
  t.equal(stdin.result.stdout, 'typed');
  const bash = await runModule(shell, { cmd: 'echo ${BASH_VERSION:+bash}', executable: '/bin/bash' }, makeContext());
  t.equal(bash.result.stdout, 'bash');
});

t.test('creates / removes decide without running, even in --check', async (t) => {
  const dir = t.testdir({ 'done.flag': '' });
  const ctx = makeContext();
  const skipped = await runModule(shell, { cmd: 'touch ran', chdir: dir, creates: 'done.flag' }, ctx);
  t.equal(skipped.changed, false);
  t.equal(skipped.plan.msg, 'skipped, since done.flag exists');
  t.notOk(existsSync(`${dir}/ran`));
  const globbed = await runModule(shell, { cmd: 'touch ran', chdir: dir, creates: `${dir}/*.flag` }, ctx);
  t.equal(globbed.changed, false, 'creates takes a glob');
  const removes = await runModule(command, { cmd: 'touch ran', chdir: dir, removes: `${dir}/absent` }, ctx);
  t.equal(removes.changed, false);
  t.equal(removes.plan.msg, `skipped, since ${dir}/absent does not exist`);
  const runs = await runModule(command, { cmd: 'touch ran', chdir: dir, creates: `${dir}/ran` }, ctx);
  t.equal(runs.changed, true);
  t.ok(existsSync(`${dir}/ran`));
  t.equal((await runModule(command, { cmd: 'touch ran', chdir: dir, creates: `${dir}/ran` }, ctx)).changed, false);
});

t.test('--check: the command is unpredictable and does not run', async (t) => {
  const dir = t.testdir({});
  const before = snapshot(dir);
  const out = await runModule(shell, { cmd: 'echo hi > out', chdir: dir }, makeContext({ check: true }));
  t.equal(out.changed, true);
  t.equal(out.plan.unpredictable, 'command would run');
  t.equal(snapshot(dir), before);
  // check_mode: false makes the runner call apply in --check.
  await out.plan.apply?.();
  t.equal(readFileSync(`${dir}/out`, 'utf8'), 'hi\n');
});

t.test('a non-zero return code fails with the full result', async (t) => {
  const err = await runModule(shell, { cmd: 'echo partial; echo bad >&2; exit 3' }, makeContext()).catch((e: unknown) => e);
  t.type(err, ModuleError);
  t.equal((err as ModuleError).message, 'non-zero return code');
  t.match((err as ModuleError).result, { rc: 3, stdout: 'partial', stderr: 'bad', msg: 'non-zero return code' });
  const missing = await runModule(command, { cmd: '/no/such/program' }, makeContext()).catch((e: unknown) => e);
  t.match((missing as ModuleError).result, { rc: 127 });
});
