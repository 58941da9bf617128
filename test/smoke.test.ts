import t from 'tap';
import { LocalConnection } from '../engine/connection/local.ts';

t.test('local connection writes atomically with mode', async (t) => {
  const dir = t.testdir({});
  const conn = new LocalConnection();
  await conn.put(`${dir}/a.txt`, 'hello\n', { mode: 0o640 });
  const st = await conn.stat(`${dir}/a.txt`, { checksum: true });
  t.equal(st.mode, 0o640);
  t.equal(st.type, 'file');
  t.equal(st.sha256, '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
  const r = await conn.exec('cat a.txt', { cwd: dir });
  t.equal(r.stdout, 'hello\n');
});
