// get_url and wait_for work ON THE HOST: over SSH to a lab host (its own network namespace and file system), the
// download lands there and is fetched from there, and what wait_for sees is the host's, not the controller's.

import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import getUrl from '../../engine/modules/get_url.ts';
import waitFor from '../../engine/modules/wait_for.ts';
import { makeContext, runModule } from '../modules/context.ts';
import { connect, labFleet, sshCli } from '../ssh/fixture.ts';
import { serve, startServer } from './http-server.ts';

const BODY = '#!/bin/sh\necho etcd v3.5\n';
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

t.test('on a lab host over SSH', async (t) => {
  const fleet = await labFleet(t, 1, 'k8smod');
  if (!fleet) return;
  const [host] = fleet.hosts;
  const conn = await connect(t, fleet, host);
  // The lab bridge takes the first address of the hosts' subnet: that is where the host reaches this machine.
  const bridge = host.address.replace(/\.\d+$/, '.1');
  const server = await startServer({ '/etcd': serve(BODY) }, undefined, bridge);
  t.teardown(() => server.close());
  const loopbackOnly = await startServer({ '/etcd': serve(BODY) });
  t.teardown(() => loopbackOnly.close());

  t.test('get_url downloads on the host into its file system', async (t) => {
    const args = { url: `${server.url}/etcd`, dest: '/usr/local/bin/etcd-test', checksum: `sha256:${sha(BODY)}`, mode: '0755' };
    const first = await runModule(getUrl, args, makeContext({ conn }));
    t.equal(first.changed, true);
    t.equal(await sshCli(fleet, host, 'stat -c %a /usr/local/bin/etcd-test; /usr/local/bin/etcd-test'), '755\netcd v3.5\n');
    t.notOk(existsSync('/usr/local/bin/etcd-test'), 'not on the controller');
    t.equal((await runModule(getUrl, args, makeContext({ conn }))).changed, false);
    // The host cannot reach this machine's loopback: the download really is the host's.
    const unreachable = { ...args, url: `${loopbackOnly.url}/etcd`, dest: '/usr/local/bin/other' };
    await t.rejects(runModule(getUrl, unreachable, makeContext({ conn })), { name: 'ModuleError', message: /cannot download/ });
    t.equal(loopbackOnly.hits.get('/etcd'), undefined);
  });

  t.test('get_url over SSH: its bytes stream back as it downloads; no checksum, headers and credentials work there too', async (t) => {
    const big = Buffer.alloc(2_000_000, 3);
    let auth: string | undefined;
    server.routes.set('/big', (req) => ((auth = req.headers.authorization), { status: 200, body: big, drip: 300 }));
    const seen: { done: number; total?: number }[] = [];
    const ctx = { ...makeContext({ conn }), progress: (p: { bytes?: { done: number; total?: number } }) => void (p.bytes && seen.push(p.bytes)) };
    const args = { url: `${server.url}/big`, dest: '/srv/big.bin', url_username: 'me', url_password: 'pw', headers: { 'X-A': 'b' } };
    const first = await runModule(getUrl, args, ctx);
    t.equal(first.changed, true);
    t.match(first.plan.warnings, [/not verified/]);
    t.equal(auth, `Basic ${Buffer.from('me:pw').toString('base64')}`, 'the credentials reached the server from the host');
    t.ok(seen.some((b) => b.done > 0 && b.done < big.length && b.total !== undefined), `bytes as they came: ${seen.map((b) => b.done).join(', ')}`);
    t.equal(await sshCli(fleet, host, 'wc -c < /srv/big.bin'), '2000000\n');
    t.equal((await runModule(getUrl, args, makeContext({ conn }))).changed, false, 'the same bytes: unchanged');
  });

  t.test("wait_for sees the host's files, ports and URLs", async (t) => {
    setTimeout(() => void sshCli(fleet, host, 'echo ready > /srv/flag'), 800);
    const file = await runModule(waitFor, { path: '/srv/flag', search_regex: '^ready$', timeout: 20, sleep: 0.2 }, makeContext({ conn }));
    t.ok((file.result.elapsed as number) >= 1);
    t.notOk(existsSync('/srv/flag'));
    t.equal((await runModule(waitFor, { host: host.address, port: 22, timeout: 5 }, makeContext({ conn }))).changed, false, "the host's own sshd");
    t.equal((await runModule(waitFor, { url: `${server.url}/etcd`, timeout: 5 }, makeContext({ conn }))).changed, false);
    await t.rejects(runModule(waitFor, { port: loopbackOnly.port, timeout: 1, sleep: 0.2 }, makeContext({ conn })), {
      message: `Timeout when waiting for 127.0.0.1:${loopbackOnly.port}`,
    });
  });
});
