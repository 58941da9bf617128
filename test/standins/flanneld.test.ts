// The flanneld stand-in against a real etcd over TLS: no network config, no start; with one, it takes a subnet
// lease under <prefix>/subnets/ and writes subnet.env as the real one does; each host keeps its own subnet.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makePki, runToExit, standins, start, startEtcd, tempDir, waitUntil, type Running } from './fixture.ts';

const dir = tempDir(t, 'flanneld');
const pki = makePki(dir);
const etcd = await startEtcd(t, pki, dir);
const bin = await standins(t, '1.30.2');
const prefix = '/kplay/network';
const flags = (subnetFile: string, publicIp = '127.0.0.1'): string[] => [
  `--etcd-endpoints=${etcd.endpoint}`, `--etcd-prefix=${prefix}`, `--etcd-cafile=${pki.ca}`,
  `--etcd-certfile=${pki.cert('etcd-client')}`, `--etcd-keyfile=${pki.key('etcd-client')}`,
  '--iface=lo', `--public-ip=${publicIp}`, '--ip-masq', `--subnet-file=${subnetFile}`,
];
const readEnv = (path: string): Record<string, string> =>
  Object.fromEntries(readFileSync(path, 'utf8').trim().split('\n').map((line) => line.split('=') as [string, string]));

async function untilLease(running: Running, file: string): Promise<Record<string, string>> {
  await waitUntil(running, () => running.output().includes('Lease acquired'), 'flanneld');
  return readEnv(file);
}

t.test('fails without a network config in etcd, and with an invalid one', async (t) => {
  const missing = runToExit(bin.flanneld, flags(join(dir, 'none.env')), { STANDIN_FLANNEL_CONFIG_WAIT: '1' });
  t.equal(missing.rc, 1);
  t.match(missing.output, `Couldn't fetch network config: key not found (${prefix}/config)`);
  etcd.etcdctl('put', `${prefix}/config`, '{"Backend":{"Type":"vxlan"}}');
  const invalid = runToExit(bin.flanneld, flags(join(dir, 'none.env')));
  t.equal(invalid.rc, 1);
  t.match(invalid.output, 'please define a correct Network parameter');
});

t.test('writes subnet.env from the etcd config and registers a lease per host', async (t) => {
  etcd.etcdctl('put', `${prefix}/config`, '{"Network":"10.200.0.0/16","Backend":{"Type":"vxlan"}}');
  const mtu = Number(readFileSync('/sys/class/net/lo/mtu', 'utf8'));
  const first = join(dir, 'first.env');
  const host1 = start(t, bin.flanneld, flags(first, '10.240.0.10'));
  t.same(await untilLease(host1, first), { FLANNEL_NETWORK: '10.200.0.0/16', FLANNEL_SUBNET: '10.200.1.1/24', FLANNEL_MTU: String(mtu - 50), FLANNEL_IPMASQ: 'true' });
  const second = join(dir, 'second.env');
  const host2 = start(t, bin.flanneld, flags(second, '10.240.0.11'));
  t.equal((await untilLease(host2, second)).FLANNEL_SUBNET, '10.200.2.1/24', 'another host gets another subnet');
  const leases = etcd.etcdctl('get', '--prefix', `${prefix}/subnets/`, '--keys-only').split('\n').filter(Boolean);
  t.same(leases, [`${prefix}/subnets/10.200.1.0-24`, `${prefix}/subnets/10.200.2.0-24`]);
  t.match(JSON.parse(etcd.etcdctl('get', `${prefix}/subnets/10.200.1.0-24`, '--print-value-only')), { PublicIP: '10.240.0.10', BackendType: 'vxlan' });

  const again = join(dir, 'again.env');
  const restarted = start(t, bin.flanneld, flags(again, '10.240.0.10'));
  t.equal((await untilLease(restarted, again)).FLANNEL_SUBNET, '10.200.1.1/24', 'a restarted host keeps its subnet');
});

t.test('flags as flanneld v0.2x reads them', async (t) => {
  const unknown = runToExit(bin.flanneld, ['--etcd-servers=https://127.0.0.1:2379']);
  t.equal(unknown.rc, 2, 'Go flag package: exit 2');
  t.match(unknown.output, 'flag provided but not defined: -etcd-servers');
  t.equal(runToExit(bin.flanneld, ['--version']).output.trim(), 'v0.25.1');
  const noIface = runToExit(bin.flanneld, ['--iface=nosuch0', `--etcd-endpoints=${etcd.endpoint}`]);
  t.equal(noIface.rc, 1);
  t.match(noIface.output, 'Failed to find any valid interface to use');
});
