// roles/flannel's etcd_key module against a real etcd on loopback, through etcd's v3 API (flannel 0.17 on) and its
// v2 API (older flannel): --check predicts, a run writes what flanneld reads, a second run (even with the JSON keys
// in another order) changes nothing, and an etcd that cannot be reached fails a real run but not --check.

import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { kplay, REPO } from '../helpers/kplay.ts';

const PLAYBOOK = join(REPO, 'test/k8s/fixtures/etcd-key.yml');
const VALUE = '{"Network":"10.200.0.0/16","Backend":{"Type":"vxlan"}}';
const REORDERED = '{"Backend":{"Type":"vxlan"},"Network":"10.200.0.0/16"}';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startEtcd(t: Test, dir: string): Promise<string> {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const etcd = spawn('etcd', [
    '--name', 'test', '--data-dir', join(dir, 'data'), '--enable-v2=true',
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `test=http://127.0.0.1:${peer}`,
  ], { stdio: 'ignore' });
  t.teardown(() => {
    etcd.kill();
  });
  for (let i = 0; i < 100 && spawnSync('etcdctl', ['--endpoints', url, 'endpoint', 'health']).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  return url;
}

const read = (api: string, url: string): string =>
  api === 'v3'
    ? spawnSync('etcdctl', ['--endpoints', url, 'get', '--print-value-only', '/coreos.com/network/config'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } }).stdout.trim()
    : spawnSync('etcdctl', ['--endpoints', url, 'get', '/coreos.com/network/config'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '2' } }).stdout.trim();

for (const api of ['v3', 'v2']) {
  t.test(`etcd_key through the ${api} API`, async (t) => {
    const dir = t.testdir({ cwd: {} });
    const url = await startEtcd(t, dir);
    const run = (value: string, ...args: string[]) =>
      kplay(['run', PLAYBOOK, '--output', 'json', '-e', JSON.stringify({ value, api, endpoints: url }), ...args], { cwd: join(dir, 'cwd') });
    const check = await run(VALUE, '--check');
    t.equal(check.code, 0, check.stderr + check.stdout);
    t.equal(check.recap?.localhost?.changed, 1, '--check: it would be set');
    t.equal(read(api, url), '', '--check wrote nothing');
    const first = await run(VALUE);
    t.equal(first.recap?.localhost?.changed, 1, first.stderr);
    t.same(JSON.parse(read(api, url)), JSON.parse(VALUE), `set, readable through the ${api} API`);
    t.equal((await run(REORDERED)).recap?.localhost?.changed, 0, 'the same JSON in another key order is no change');
    const other = await run(VALUE.replace('vxlan', 'host-gw'));
    t.equal(other.recap?.localhost?.changed, 1, 'a new value is set');
    t.equal(JSON.parse(read(api, url)).Backend.Type, 'host-gw');
  });
}

t.test('an etcd not reachable: --check predicts the write, a real run fails', async (t) => {
  const endpoints = `http://127.0.0.1:${await freePort()}`;
  const args = ['run', PLAYBOOK, '--output', 'json', '-e', JSON.stringify({ value: VALUE, api: 'v3', endpoints })];
  const cwd = t.testdir({});
  const check = await kplay([...args, '--check'], { cwd });
  t.equal(check.code, 0, check.stderr);
  t.equal(check.recap?.localhost?.changed, 1);
  const real = await kplay(args, { cwd });
  t.equal(real.code, 2);
  t.match(real.stdout, /cannot read \/coreos\.com\/network\/config from etcd/);
});
