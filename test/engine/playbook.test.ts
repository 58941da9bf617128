// Issue 2, acceptance 2 and 4: a playbook using every keyword and module, run locally into a temp folder.

import t, { type Test } from 'tap';
import { cpSync, existsSync, lstatSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { kplay, REPO } from '../helpers/kplay.ts';

const FIXTURE = join(REPO, 'test/engine/fixtures/full');
/** Tasks of the fixture that change something on a fresh folder (handlers included); counted by hand. */
const CHANGING_TASKS = 21;

function setup(t: Test): { dir: string; out: string } {
  const dir = t.testdir({});
  cpSync(FIXTURE, dir, { recursive: true });
  return { dir, out: join(dir, 'out') };
}

const mode = (path: string): number => statSync(path).mode & 0o7777;

t.test('first run changes every changing task, the second nothing', async (t) => {
  const { dir, out } = setup(t);
  const first = await kplay(['run', 'playbook.yml', '-i', 'inventory.yml', '-e', `out=${out}`, '--output', 'json'], { cwd: dir });
  t.equal(first.code, 0, first.stderr);
  // ok counts the ignored failure and the include_tasks too, as Ansible's recap does.
  t.same(first.recap?.localhost, { ok: 33, changed: CHANGING_TASKS, failed: 0, skipped: 1, unreachable: 0, rescued: 1, ignored: 1 });

  t.equal(readFileSync(join(out, 'one.txt'), 'utf8'), 'hello one\n');
  t.equal(mode(join(out, 'one.txt')), 0o644);
  t.equal(mode(out), 0o755);
  t.equal(mode(join(out, 'base')), 0o750, 'the role dependency ran');
  t.equal(
    readFileSync(join(out, 'webapp/app.conf'), 'utf8'),
    '# demo on localhost\nport = 8080\nfile = one\nfile = two\nfile = three\n',
    'template rendered with role defaults, role params and play vars',
  );
  t.equal(mode(join(out, 'webapp/app.conf')), 0o640, 'mode from vars_files');
  t.equal(readFileSync(join(out, 'webapp/static.txt'), 'utf8'), 'static content\n', 'copy src from the role files/');
  t.equal(readFileSync(join(out, 'webapp/restarted'), 'utf8'), 'restarted demo\n', 'the role handler ran');
  t.equal(readFileSync(join(out, 'handled.txt'), 'utf8'), 'handled');
  t.equal(readFileSync(join(out, 'shell.txt'), 'utf8').trim(), readFileSync('/etc/hostname', 'utf8').trim(), 'registered stdout used');
  t.ok(existsSync(join(out, 'block.txt')) && existsSync(join(out, 'rescued.txt')) && existsSync(join(out, 'always.txt')));
  t.notOk(existsSync(join(out, 'never.txt')), 'the task after a failure in a block did not run');
  t.equal(readFileSync(join(out, 'included.txt'), 'utf8'), 'included x\n');
  t.equal(readFileSync(join(out, 'webapp/extra.txt'), 'utf8'), 'extra included\n', 'include_role with tasks_from and vars');
  t.ok(statSync(join(out, 'imported')).isDirectory());
  t.ok(lstatSync(join(out, 'link')).isSymbolicLink());
  t.equal(readlinkSync(join(out, 'link')), join(out, 'one.txt'));
  t.equal(mode(join(out, 'post.txt')), 0o600);

  const handlerRuns = (events: typeof first.events, name: string): number =>
    events.filter((e) => e.type === 'result' && e.task.handler && e.task.name === name).length;
  t.equal(handlerRuns(first.events, 'files written'), 1, 'notified by three loop items, the handler ran once');
  t.equal(handlerRuns(first.events, 'restart webapp'), 1, 'a changed template notified its handler once');
  t.notMatch(first.stdout, /s3cr3t/, 'no_log values never reach the output');
  const debug = first.events.find((e) => e.type === 'result' && e.task.name === 'Show it');
  t.match(debug, { result: { msg: 'computed=6 on ' } });

  const second = await kplay(['run', 'playbook.yml', '-i', 'inventory.yml', '-e', `out=${out}`, '--output', 'json'], { cwd: dir });
  t.equal(second.code, 0, second.stderr);
  t.equal(second.recap?.localhost.changed, 0, 'second run changes nothing');
  t.equal(handlerRuns(second.events, 'restart webapp'), 0, 'an unchanged template notifies nothing');
  t.equal(handlerRuns(second.events, 'files written'), 0);
});

t.test('--check on a fresh folder predicts the first run and touches nothing; --diff shows the content', async (t) => {
  const { dir, out } = setup(t);
  const check = await kplay(['run', 'playbook.yml', '-i', 'inventory.yml', '-e', `out=${out}`, '--check', '--output', 'json'], { cwd: dir });
  t.equal(check.code, 0, check.stderr);
  t.equal(check.recap?.localhost.changed, CHANGING_TASKS, 'same changed count as the real first run');
  t.equal(check.recap?.localhost.failed, 0);
  t.notOk(existsSync(out), 'nothing was written');

  const diff = await kplay(['run', 'playbook.yml', '-i', 'inventory.yml', '-e', `out=${out}`, '--check', '--diff'], { cwd: dir });
  t.equal(diff.code, 0, diff.stderr);
  t.match(diff.stdout, `+++ after: ${out}/one.txt`);
  t.match(diff.stdout, '+hello one');
  t.match(diff.stdout, '+port = 8080');
  t.match(diff.stdout, /PLAY RECAP[\s\S]*localhost\s+: ok=\d+\s+changed=21/);
  t.notOk(existsSync(out), 'nothing was written');
});

t.test('--tags and --skip-tags select tasks', async (t) => {
  const { dir, out } = setup(t);
  await kplay(['run', 'playbook.yml', '-i', 'inventory.yml', '-e', `out=${out}`], { cwd: dir });
  rmSync(join(out, 'one.txt'));
  rmSync(join(out, 'post.txt'));
  const r = await kplay(['run', 'playbook.yml', '-i', 'inventory.yml', '-e', `out=${out}`, '--tags', 'files', '--output', 'json'], { cwd: dir });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.recap?.localhost.changed, 1, 'only the tagged task (its handler finds nothing to change)');
  t.ok(existsSync(join(out, 'one.txt')));
  t.notOk(existsSync(join(out, 'post.txt')));
  const names = new Set(r.events.flatMap((e) => (e.type === 'result' ? [e.task.name] : [])));
  t.ok(names.has('One file per name') && names.has('files written') && names.has('Gathering Facts'));
  t.notOk(names.has('Post file') || names.has('Imported folder'), 'untagged tasks did not run');
  const skip = await kplay(['run', 'playbook.yml', '-i', 'inventory.yml', '-e', `out=${out}`, '--skip-tags', 'imported', '--list-tasks'], { cwd: dir });
  t.equal(skip.code, 0, skip.stderr);
  t.notMatch(skip.stdout, 'Imported folder');
  t.match(skip.stdout, 'Post file');
});
