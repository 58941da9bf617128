import { createHash } from 'node:crypto';
import t from 'tap';
import { execSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import copy from '../../engine/modules/copy.ts';
import { ModuleError } from '../../engine/modules/contract.ts';
import { CountingConnection, makeContext, runModule, snapshot } from './context.ts';

const mode = (p: string): number => statSync(p).mode & 0o7777;

t.test('content: changed once, then not; content and mode on disk', async (t) => {
  const dir = t.testdir({});
  const dest = `${dir}/app.conf`;
  const first = await runModule(copy, { content: 'port=80\n', dest, mode: '0640' }, makeContext());
  t.equal(first.changed, true);
  t.equal(readFileSync(dest, 'utf8'), 'port=80\n');
  t.equal(mode(dest), 0o640);
  t.equal(first.result.mode, '0640');
  t.equal(first.result.checksum, execSync(`sha256sum ${dest}`).toString().split(' ')[0]);
  t.equal(first.result.size, 8);
  t.same(first.plan.diff, [{ path: dest, before: '', after: 'port=80\n' }]);
  const second = await runModule(copy, { content: 'port=80\n', dest, mode: '0640' }, makeContext());
  t.equal(second.changed, false);
  t.equal(second.result.checksum, first.result.checksum);
});

t.test('warm run is one round trip; cold is stat + put', async (t) => {
  const dir = t.testdir({});
  const cold = new CountingConnection();
  await runModule(copy, { content: 'x\n', dest: `${dir}/f`, mode: 0o600 }, makeContext({ conn: cold, diff: false }));
  t.same(cold.calls, ['stat', 'put']);
  const warm = new CountingConnection();
  await runModule(copy, { content: 'x\n', dest: `${dir}/f`, mode: 0o600 }, makeContext({ conn: warm, diff: true }));
  t.same(warm.calls, ['stat']);
});

t.test('--check: plans the same change, leaves the folder untouched, diff shows old and new', async (t) => {
  const dir = t.testdir({ 'app.conf': 'port=80\n' });
  const before = snapshot(dir);
  const out = await runModule(copy, { content: 'port=81\n', dest: `${dir}/app.conf` }, makeContext({ check: true }));
  t.equal(out.changed, true);
  t.same(out.plan.diff, [{ path: `${dir}/app.conf`, before: 'port=80\n', after: 'port=81\n' }]);
  t.same(out.plan.effects?.[0], { path: `${dir}/app.conf`, state: 'file', content: Buffer.from('port=81\n'), mode: 0o644, owner: 'root', group: 'root' });
  t.equal(snapshot(dir), before);
  const real = await runModule(copy, { content: 'port=81\n', dest: `${dir}/app.conf` }, makeContext());
  t.equal(real.changed, true);
  t.equal(readFileSync(`${dir}/app.conf`, 'utf8'), 'port=81\n');
});

t.test('only the mode differs: changed, content kept', async (t) => {
  const dir = t.testdir({ f: 'same\n' });
  const out = await runModule(copy, { content: 'same\n', dest: `${dir}/f`, mode: '0600' }, makeContext());
  t.equal(out.changed, true);
  t.match(out.plan.msg, /mode 0644→0600/);
  t.equal(mode(`${dir}/f`), 0o600);
  t.equal((await runModule(copy, { content: 'same\n', dest: `${dir}/f`, mode: '0600' }, makeContext())).changed, false);
});

t.test('owner and group are set and compared', async (t) => {
  const dir = t.testdir({});
  const dest = `${dir}/owned`;
  const out = await runModule(copy, { content: 'a\n', dest, owner: 'nobody', group: 'nogroup' }, makeContext());
  t.equal(out.changed, true);
  t.equal(statSync(dest).uid, 65534);
  t.equal((await runModule(copy, { content: 'a\n', dest, owner: 'nobody', group: 'nogroup' }, makeContext())).changed, false);
  // Replacing the content keeps the owner the file had.
  await runModule(copy, { content: 'b\n', dest }, makeContext());
  t.equal(statSync(dest).uid, 65534);
  t.equal(readFileSync(dest, 'utf8'), 'b\n');
});

t.test('src from files/, dest a directory takes the basename', async (t) => {
  const dir = t.testdir({ role: { files: { 'motd.txt': 'hello\n' } }, out: {} });
  const ctx = makeContext({ root: `${dir}/role` });
  const out = await runModule(copy, { src: 'motd.txt', dest: `${dir}/out` }, ctx);
  t.equal(out.changed, true);
  t.equal(out.result.dest, `${dir}/out/motd.txt`);
  t.equal(readFileSync(`${dir}/out/motd.txt`, 'utf8'), 'hello\n');
  const slash = await runModule(copy, { src: 'motd.txt', dest: `${dir}/out/` }, ctx);
  t.equal(slash.changed, false);
  await t.rejects(runModule(copy, { content: 'x', dest: `${dir}/out` }, ctx), ModuleError);
});

t.test('backup keeps the old file; force=false leaves an existing file alone', async (t) => {
  const dir = t.testdir({ f: 'old\n' });
  const out = await runModule(copy, { content: 'new\n', dest: `${dir}/f`, backup: true }, makeContext());
  const backup = out.result.backup_file as string;
  t.match(backup, /\/f\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/);
  t.equal(readFileSync(backup, 'utf8'), 'old\n');
  t.equal(readFileSync(`${dir}/f`, 'utf8'), 'new\n');
  const kept = await runModule(copy, { content: 'other\n', dest: `${dir}/f`, force: false }, makeContext());
  t.equal(kept.changed, false);
  t.equal(readFileSync(`${dir}/f`, 'utf8'), 'new\n');
  t.equal(readdirSync(dir).length, 2);
});

t.test('diff hides private keys and binary content', async (t) => {
  const dir = t.testdir({});
  const key = '-----BEGIN EC PRIVATE KEY-----\nMHc...\n-----END EC PRIVATE KEY-----\n';
  const secret = await runModule(copy, { content: key, dest: `${dir}/key.pem`, mode: '0600' }, makeContext({ check: true }));
  const digest = createHash('sha256').update(key).digest('hex');
  t.same(secret.plan.diff, [{ path: `${dir}/key.pem`, before: '', after: `(secret content hidden: ${key.length} bytes, sha256:${digest})\n` }]);
  writeFileSync(`${dir}/blob`, Buffer.from([0, 1, 2]));
  const binary = await runModule(copy, { content: 'text\n', dest: `${dir}/blob` }, makeContext({ check: true }));
  t.same(binary.plan.diff, [{ path: `${dir}/blob`, before: '<binary>', after: 'text\n' }]);
});

t.test('a missing parent folder fails the task with the path', async (t) => {
  const dir = t.testdir({});
  await t.rejects(runModule(copy, { content: 'x', dest: `${dir}/no/such/f` }, makeContext()), { name: 'ModuleError', message: /cannot write .*no\/such\/f/ });
});

t.test('validate: a file the check refuses never replaces dest', async (t) => {
  const dir = t.testdir({ 'conf.json': '{"ok":true}\n' });
  const dest = `${dir}/conf.json`;
  const check = `grep -q '^{' %s`;
  await t.rejects(runModule(copy, { content: 'not json\n', dest, validate: check }, makeContext()), { name: 'ModuleError', message: /failed to validate/ });
  t.equal(readFileSync(dest, 'utf8'), '{"ok":true}\n');
  t.same(readdirSync(dir), ['conf.json'], 'the rejected temp file is gone');
  const ok = await runModule(copy, { content: '{"ok":false}\n', dest, validate: check, mode: '0600' }, makeContext());
  t.equal(ok.changed, true);
  t.equal(readFileSync(dest, 'utf8'), '{"ok":false}\n');
  t.equal(mode(dest), 0o600);
  await t.rejects(runModule(copy, { content: 'x', dest, validate: 'true' }, makeContext()), { message: /validate must contain %s/ });
});

t.test('content given as a map is written as JSON as json.dumps writes it (as Ansible copy does); an empty argument means not given', async (t) => {
  const dir = t.testdir({});
  await runModule(copy, { content: { a: [1, 2] }, dest: `${dir}/j`, mode: null, owner: null }, makeContext());
  t.equal(readFileSync(`${dir}/j`, 'utf8'), '{"a": [1, 2]}');
  t.equal(mode(`${dir}/j`), 0o644);
});

t.test('remote_src copies a file on the host: changed once, mode set, --check and diff see the content', async (t) => {
  const dir = t.testdir({ 'built.bin': 'v1\n', out: {} });
  const args = { src: `${dir}/built.bin`, dest: `${dir}/out/`, remote_src: true, mode: '0755' };
  const before = snapshot(dir);
  const check = await runModule(copy, args, makeContext({ check: true }));
  t.equal(check.changed, true);
  t.same(check.plan.diff, [{ path: `${dir}/out/built.bin`, before: '', after: 'v1\n' }]);
  t.match(check.plan.effects?.[0], { state: 'file', content: Buffer.from('v1\n'), mode: 0o755 });
  t.equal(snapshot(dir), before);
  const cold = new CountingConnection();
  const first = await runModule(copy, args, makeContext({ conn: cold, diff: false }));
  t.same(cold.calls, ['stat', 'stat', 'exec'], 'stat src, stat dest, one exec to install');
  t.equal(first.changed, true);
  t.equal(readFileSync(`${dir}/out/built.bin`, 'utf8'), 'v1\n');
  t.equal(mode(`${dir}/out/built.bin`), 0o755);
  t.same(readdirSync(`${dir}/out`), ['built.bin']);
  t.equal((await runModule(copy, args, makeContext())).changed, false);
  await t.rejects(runModule(copy, { ...args, src: `${dir}/none` }, makeContext()), { message: /Source .* not found/ });
});
