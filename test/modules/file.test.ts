import t from 'tap';
import { existsSync, lstatSync, readlinkSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import file from '../../engine/modules/file.ts';
import { CountingConnection, makeContext, runModule, snapshot } from './context.ts';

const mode = (p: string): number => statSync(p).mode & 0o7777;

t.test('directory: created with parents and mode, then unchanged; one stat and one exec', async (t) => {
  const dir = t.testdir({});
  const path = `${dir}/a/b`;
  const before = snapshot(dir);
  const check = await runModule(file, { path, state: 'directory', mode: '0750' }, makeContext({ check: true }));
  t.equal(check.changed, true);
  t.same(check.plan.effects, [{ path, state: 'directory', mode: 0o750, owner: undefined, group: undefined }]);
  t.equal(snapshot(dir), before, '--check wrote nothing');
  const conn = new CountingConnection();
  const first = await runModule(file, { path, state: 'directory', mode: '0750' }, makeContext({ conn }));
  t.same(conn.calls, ['stat', 'exec']);
  t.equal(first.changed, true);
  t.ok(statSync(path).isDirectory());
  t.equal(mode(path), 0o750);
  t.match(first.result, { path, state: 'directory', mode: '0750', owner: 'root', group: 'root' });
  const second = await runModule(file, { path, state: 'directory', mode: '0750' }, makeContext());
  t.equal(second.changed, false);
  t.equal(second.result.mode, '0750');
});

t.test('directory owner/group and recurse', async (t) => {
  const dir = t.testdir({ tree: { sub: { f: 'x' } } });
  const args = { path: `${dir}/tree`, state: 'directory', owner: 'nobody', group: 'nogroup', recurse: true };
  const first = await runModule(file, args, makeContext());
  t.equal(first.changed, true);
  t.equal(statSync(`${dir}/tree/sub/f`).uid, 65534);
  t.equal(statSync(`${dir}/tree/sub`).gid, 65534);
  t.equal((await runModule(file, args, makeContext())).changed, false);
  writeFileSync(`${dir}/tree/sub/new`, 'y');
  t.equal((await runModule(file, args, makeContext())).changed, true, 'a new root-owned file deep inside is found');
  t.equal(statSync(`${dir}/tree/sub/new`).uid, 65534);
});

t.test('state=file fails on a missing path; sets mode on an existing one', async (t) => {
  const dir = t.testdir({ f: 'x' });
  await t.rejects(runModule(file, { path: `${dir}/none`, state: 'file' }, makeContext()), { name: 'ModuleError', message: /is absent, cannot continue/ });
  await t.rejects(runModule(file, { path: `${dir}/none` }, makeContext()), { message: /is absent/ }, 'state defaults to file');
  const out = await runModule(file, { path: `${dir}/f`, mode: '0600' }, makeContext());
  t.equal(out.changed, true);
  t.same(out.plan.diff, [{ path: `${dir}/f`, before: 'state: file\nmode: 0644\nowner: root\ngroup: root\n', after: 'state: file\nmode: 0600\nowner: root\ngroup: root\n' }]);
  t.equal(mode(`${dir}/f`), 0o600);
  t.equal((await runModule(file, { path: `${dir}/f`, mode: '0600' }, makeContext())).changed, false);
});

t.test('touch creates an empty file and is changed every time', async (t) => {
  const dir = t.testdir({});
  const path = `${dir}/stamp`;
  const first = await runModule(file, { path, state: 'touch', mode: '0640' }, makeContext());
  t.equal(first.changed, true);
  t.equal(statSync(path).size, 0);
  t.equal(mode(path), 0o640);
  const old = statSync(path).mtimeMs;
  await new Promise((r) => setTimeout(r, 20));
  t.equal((await runModule(file, { path, state: 'touch' }, makeContext())).changed, true);
  t.ok(statSync(path).mtimeMs > old, 'the time moved');
  t.equal(mode(path), 0o640, 'the mode stays');
});

t.test('absent removes files and trees, then is unchanged', async (t) => {
  const dir = t.testdir({ tree: { a: { b: 'x' } }, f: 'y' });
  const check = await runModule(file, { path: `${dir}/tree`, state: 'absent' }, makeContext({ check: true }));
  t.equal(check.changed, true);
  t.same(check.plan.effects, [{ path: `${dir}/tree`, state: 'absent' }]);
  t.ok(existsSync(`${dir}/tree/a/b`));
  t.equal((await runModule(file, { path: `${dir}/tree`, state: 'absent' }, makeContext())).changed, true);
  t.notOk(existsSync(`${dir}/tree`));
  t.equal((await runModule(file, { path: `${dir}/tree`, state: 'absent' }, makeContext())).changed, false);
});

t.test('link: created, unchanged, retargeted; refuses a file without force; missing src needs force', async (t) => {
  const dir = t.testdir({ v1: 'one', v2: 'two', plain: 'p' });
  const path = `${dir}/current`;
  t.equal((await runModule(file, { path, src: `${dir}/v1`, state: 'link' }, makeContext())).changed, true);
  t.equal(readlinkSync(path), `${dir}/v1`);
  t.equal((await runModule(file, { path, src: `${dir}/v1`, state: 'link' }, makeContext())).changed, false);
  const check = await runModule(file, { path, src: 'v2', state: 'link' }, makeContext({ check: true }));
  t.same(check.plan.effects, [{ path, state: 'link', target: 'v2' }]);
  t.equal(readlinkSync(path), `${dir}/v1`);
  t.equal((await runModule(file, { path, src: 'v2', state: 'link' }, makeContext())).changed, true);
  t.equal(readlinkSync(path), 'v2', 'a relative src is kept as written');
  await t.rejects(runModule(file, { path: `${dir}/plain`, src: 'v1', state: 'link' }, makeContext()), { message: /refusing to convert from file to symlink/ });
  t.equal((await runModule(file, { path: `${dir}/plain`, src: 'v1', state: 'link', force: true }, makeContext())).changed, true);
  t.ok(lstatSync(`${dir}/plain`).isSymbolicLink());
  await t.rejects(runModule(file, { path: `${dir}/dangling`, src: 'nothing', state: 'link' }, makeContext()), { message: /src file does not exist/ });
  t.equal((await runModule(file, { path: `${dir}/dangling`, src: 'nothing', state: 'link', force: true }, makeContext())).changed, true);
});

t.test('hard link: created, then unchanged', async (t) => {
  const dir = t.testdir({ data: 'd' });
  const path = `${dir}/same`;
  t.equal((await runModule(file, { path, src: `${dir}/data`, state: 'hard' }, makeContext())).changed, true);
  t.equal(statSync(path).ino, statSync(`${dir}/data`).ino);
  t.equal((await runModule(file, { path, src: `${dir}/data`, state: 'hard' }, makeContext())).changed, false);
  mkdirSync(`${dir}/d`);
  await t.rejects(runModule(file, { path: `${dir}/x`, src: `${dir}/nope`, state: 'hard' }, makeContext()), { message: /src does not exist/ });
});

t.test('argument mistakes', async (t) => {
  const dir = t.testdir({});
  await t.rejects(runModule(file, { path: dir, src: '/x' }, makeContext()), { message: /src option requires state/ });
  await t.rejects(runModule(file, { path: dir, state: 'link' }, makeContext()), { name: 'InputError', message: /requires src/ });
  await t.rejects(runModule(file, { path: `${dir}`, state: 'file', recurse: true }, makeContext()), { message: /recurse option requires/ });
});
