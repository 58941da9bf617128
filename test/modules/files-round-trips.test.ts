// The round trips the file modules promise, counted on a real local connection: warm (nothing to change) and cold.

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lineinfile from '../../engine/modules/lineinfile.ts';
import blockinfile from '../../engine/modules/blockinfile.ts';
import iniFile from '../../engine/modules/ini_file.ts';
import replace from '../../engine/modules/replace.ts';
import find from '../../engine/modules/find.ts';
import unarchive from '../../engine/modules/unarchive.ts';
import assemble from '../../engine/modules/assemble.ts';
import slurp from '../../engine/modules/slurp.ts';
import copy from '../../engine/modules/copy.ts';
import type { Module } from '../../engine/modules/contract.ts';
import { LocalConnection } from '../../engine/connection/local.ts';
import { CountingConnection, makeContext, runModule } from './context.ts';

async function trips(module: Module, args: Record<string, unknown>): Promise<{ calls: string[]; changed: boolean }> {
  const conn = new CountingConnection();
  // The controller is this machine (not a round trip to the host): only the host's connection is counted.
  const out = await runModule(module, args, { ...makeContext({ conn, diff: false }), controller: new LocalConnection() });
  return { calls: conn.calls, changed: out.changed };
}

t.test('editing modules: cold is stat, get, put; warm is stat and get', async (t) => {
  const dir = t.testdir({ f: 'a\n', i: '[s]\nk = 1\n' });
  const cases: [Module, Record<string, unknown>][] = [
    [lineinfile, { path: `${dir}/f`, line: 'b' }],
    [blockinfile, { path: `${dir}/f`, block: 'c' }],
    [replace, { path: `${dir}/f`, regexp: '^a$', replace: 'A' }],
    [iniFile, { path: `${dir}/i`, section: 's', option: 'k', value: '2' }],
  ];
  for (const [module, args] of cases) {
    t.same(await trips(module, args), { calls: ['stat', 'get', 'put'], changed: true }, `${module.name} cold`);
    t.same(await trips(module, args), { calls: ['stat', 'get'], changed: false }, `${module.name} warm`);
  }
});

t.test('find, slurp: one round trip', async (t) => {
  const dir = t.testdir({ a: { 'x.conf': 'listen\n' } });
  t.same(await trips(find, { paths: dir, patterns: '*.conf', recurse: true, contains: 'listen' }), { calls: ['exec'], changed: false });
  t.same(await trips(slurp, { src: `${dir}/a/x.conf` }), { calls: ['get'], changed: false });
});

t.test('unarchive with remote_src: one exec to decide, one more to unpack', async (t) => {
  const dir = t.testdir({ src: { d: { f: 'x\n' } }, out: {} });
  execFileSync('tar', ['-czf', join(dir, 'a.tgz'), '-C', join(dir, 'src'), 'd']);
  const args = { src: `${dir}/a.tgz`, dest: `${dir}/out`, remote_src: true };
  t.same(await trips(unarchive, args), { calls: ['exec', 'exec'], changed: true });
  t.same(await trips(unarchive, args), { calls: ['exec'], changed: false });
});

t.test('assemble (stat of dest) and copy of a folder: warm is one exec', async (t) => {
  const dir = t.testdir({ frags: { a: '1\n', b: '2\n' }, files: { conf: { x: 'x\n', sub: { y: 'y\n' } } }, out: {} });
  const args = { src: `${dir}/frags`, dest: `${dir}/joined` };
  t.same(await trips(assemble, args), { calls: ['exec', 'stat', 'put'], changed: true });
  t.same(await trips(assemble, args), { calls: ['exec', 'stat'], changed: false });
  mkdirSync(join(dir, 'out/conf'));
  writeFileSync(join(dir, 'out/conf/x'), 'old\n');
  const copyArgs = { src: `${dir}/files/conf`, dest: `${dir}/out` };
  t.same(await trips(copy as Module, copyArgs), { calls: ['exec', 'exec', 'put', 'put'], changed: true }, 'cold: read, make folders, two files');
  t.same(await trips(copy as Module, copyArgs), { calls: ['exec'], changed: false }, 'warm: one exec');
});

t.test('validate: a rejected edit leaves the file as it was; backup keeps the old one under Ansible\'s name', async (t) => {
  const dir = t.testdir({ f: 'a\n' });
  await t.rejects(runModule(lineinfile, { path: `${dir}/f`, line: 'b', validate: 'grep -q nothing %s' }, makeContext()), { message: /failed to validate/ });
  t.equal(readFileSync(`${dir}/f`, 'utf8'), 'a\n');
  t.same(readdirSync(dir), ['f'], 'no temp file left behind');
  const out = await runModule(blockinfile, { path: `${dir}/f`, block: 'b', backup: true, validate: 'grep -q b %s' }, makeContext());
  t.match(out.result.backup_file, new RegExp(`^${dir}/f\\.\\d+\\.\\d{4}-\\d\\d-\\d\\d@\\d\\d:\\d\\d:\\d\\d~$`));
  t.equal(readFileSync(String(out.result.backup_file), 'utf8'), 'a\n');
  t.equal(readFileSync(`${dir}/f`, 'utf8'), 'a\n# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\n');
});
