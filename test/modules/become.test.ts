import t from 'tap';
import { chownSync, statSync } from 'node:fs';
import command from '../../engine/modules/command.ts';
import copy from '../../engine/modules/copy.ts';
import file from '../../engine/modules/file.ts';
import { makeContext, runModule } from './context.ts';

// become goes through sudo to another user: every file and command call of a module must carry it.
t.test('modules act as the become user', async (t) => {
  const dir = t.testdir({ home: {} });
  chownSync(`${dir}/home`, 65534, 65534);
  const ctx = { ...makeContext(), become: { user: 'nobody' } };
  const who = await runModule(command, { cmd: 'id -un' }, ctx);
  t.equal(who.result.stdout, 'nobody');
  const first = await runModule(copy, { content: 'mine\n', dest: `${dir}/home/f`, mode: '0600' }, ctx);
  t.equal(first.changed, true);
  t.equal(statSync(`${dir}/home/f`).uid, 65534, 'written by nobody');
  t.equal((await runModule(copy, { content: 'mine\n', dest: `${dir}/home/f`, mode: '0600' }, ctx)).changed, false, 'read back through sudo');
  t.equal((await runModule(file, { path: `${dir}/home/sub`, state: 'directory' }, ctx)).changed, true);
  t.equal(statSync(`${dir}/home/sub`).uid, 65534);
});
