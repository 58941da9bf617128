import t from 'tap';
import { execSync } from 'node:child_process';
import { symlinkSync, chmodSync } from 'node:fs';
import stat from '../../engine/modules/stat.ts';
import { makeContext, runModule } from './context.ts';

t.test('stat of a file, a directory, a link and nothing', async (t) => {
  const dir = t.testdir({ f: 'hello\n', d: {} });
  chmodSync(`${dir}/f`, 0o640);
  symlinkSync('f', `${dir}/l`);
  const file = await runModule(stat, { path: `${dir}/f` }, makeContext());
  t.equal(file.changed, false);
  t.match(file.result.stat, {
    exists: true, path: `${dir}/f`, isreg: true, isdir: false, islnk: false, mode: '0640', uid: 0, gid: 0,
    pw_name: 'root', gr_name: 'root', size: 6, checksum: execSync(`sha256sum ${dir}/f`).toString().split(' ')[0],
  });
  t.match((await runModule(stat, { path: `${dir}/d` }, makeContext())).result.stat, { isdir: true, isreg: false });
  t.match((await runModule(stat, { path: `${dir}/l` }, makeContext())).result.stat, { islnk: true, lnk_target: 'f' });
  t.match((await runModule(stat, { path: `${dir}/l`, follow: true }, makeContext())).result.stat, { islnk: false, isreg: true, size: 6 });
  t.notOk('checksum' in ((await runModule(stat, { path: `${dir}/f`, get_checksum: false }, makeContext())).result.stat as object));
  t.same((await runModule(stat, { path: `${dir}/none` }, makeContext())).result, { stat: { exists: false } });
});
