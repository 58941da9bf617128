// What goes wrong in real fleets: hosts that do not answer, refuse us, go down or drop the connection mid-write.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { UnreachableError } from '../../engine/connection/connection.ts';
import { SshConnection } from '../../engine/connection/ssh.ts';
import { generateKey, run, sleep } from '../lab/net.ts';
import { connect, labFleet, sshCli, sshOptions } from './fixture.ts';

async function openError(options: Parameters<typeof SshConnection.open>[0]): Promise<UnreachableError> {
  const error = await SshConnection.open(options).catch((e: unknown) => e);
  if (!(error instanceof UnreachableError)) throw new Error(`expected an UnreachableError, got ${String(error)}`);
  return error;
}

/** Wait until a temp file of a put in progress shows in `dir` (seen from outside the host) with some bytes in it. */
async function waitForTempFile(dir: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const temps = (await readdir(dir)).filter((f) => f.includes('.kplay-'));
    if (temps.length && (await readFile(join(dir, temps[0]))).length > 0) return;
    await sleep(5);
  }
  throw new Error(`no temp file appeared in ${dir}`);
}

t.test('over a fleet of 3 hosts', async (t) => {
  const fleet = await labFleet(t, 3, 'sshfault');
  if (!fleet) return;
  const [one, two, three] = fleet.hosts;

  t.test('an address where nothing answers is unreachable within the connect timeout', async (t) => {
    const start = Date.now();
    const ghost = one.address.replace(/\.\d+$/, '.200'); // in the fleet's subnet, but no host there
    const error = await openError(sshOptions(fleet, { ...one, name: 'ghost', address: ghost }, { connectTimeoutMs: 800 }));
    t.ok(Date.now() - start < 2000, `failed after ${Date.now() - start} ms`);
    t.equal(error.hostName, 'ghost');
    t.match(error.message, `${ghost}:22`);
  });

  t.test('a closed port is reported as refused', async (t) => {
    const error = await openError(sshOptions(fleet, one, { port: 2222 }));
    t.match(error.message, `connection refused by ${one.address}:2222`);
  });

  t.test('a key the host does not accept', async (t) => {
    const dir = t.testdir({});
    await generateKey(join(dir, 'stranger'), 'stranger');
    const error = await openError(sshOptions(fleet, one, { privateKeyFiles: [join(dir, 'stranger'), join(dir, 'missing')] }));
    t.match(error.message, /refused every key offered/);
    t.match(error.message, join(dir, 'stranger'));
    t.match(error.message, `${join(dir, 'missing')}: ENOENT`);
  });

  t.test('a host that goes down mid-session is unreachable; the others go on', async (t) => {
    const down = await connect(t, fleet, two);
    const fine = await connect(t, fleet, three);
    const start = Date.now();
    const hanging = t.rejects(down.exec('sleep 30'), UnreachableError, 'the command in flight');
    await sleep(200);
    await fleet.stopHost(two.name);
    await hanging;
    t.ok(Date.now() - start < 1500, 'noticed at once');
    await t.rejects(down.exec('true'), UnreachableError, 'and every later call');
    await t.rejects(down.put('/srv/x', 'x'), UnreachableError);
    t.equal((await fine.exec('hostname')).stdout, `${three.name}\n`, 'another host is not affected');
  });

  t.test('a host whose network goes silent is found out by keepalives', async (t) => {
    const c = await connect(t, fleet, three, { keepaliveIntervalMs: 200 });
    const start = Date.now();
    const hanging = t.rejects(c.exec('sleep 30'), UnreachableError, 'the command in flight');
    await run('ip', ['link', 'set', `kpsshfault-3`, 'down']); // the bridge side of its veth: packets vanish, no reset
    await hanging;
    t.ok(Date.now() - start < 3000, `noticed after ${Date.now() - start} ms`);
  });

  t.test('a put whose connection drops mid-transfer leaves the old file', async (t) => {
    const big = Buffer.alloc(256 * 1024 * 1024, 'new content ');
    // Large files and files with an owner go through the shell on the host, which cleans up a short temp file.
    for (const [label, options] of [
      ['large file', {}],
      ['with owner', { owner: 'root' }],
    ] as const) {
      await sshCli(fleet, one, 'echo old > /srv/data');
      const c = await SshConnection.open(sshOptions(fleet, one));
      const put = c.put('/srv/data', big, options);
      put.catch(() => undefined);
      await waitForTempFile(join(one.root, 'srv'));
      await fleet.dropConnections(one.name);
      await t.rejects(put, UnreachableError, `${label}: the put fails as unreachable`);
      await sleep(300);
      t.equal(await sshCli(fleet, one, 'cat /srv/data'), 'old\n', `${label}: the old content is intact`);
      const temps = (await readdir(join(one.root, 'srv'))).filter((f) => f.includes('.kplay-'));
      t.same(temps, [], `${label}: the short temp file was removed, not renamed`);
    }
  });
});
