// The fleet itself: many hosts up in seconds, each its own name, address and folders, and nothing left after stop.

import { readdir, readFile } from 'node:fs/promises';
import t from 'tap';
import { parse } from 'yaml';
import { SshConnection } from '../../engine/connection/ssh.ts';
import { startFleet } from '../lab/fleet.ts';
import { listLinks, listNamespaces, macForAddress, run } from '../lab/net.ts';
import { labFleet, sshCli, sshOptions } from './fixture.ts';

for (const count of [10, 50]) {
  t.test(`a fleet of ${count} hosts`, async (t) => {
    const start = Date.now();
    const fleet = await labFleet(t, count, `fleet${count}`);
    if (!fleet) return;
    t.comment(`fleet of ${count} up in ${Date.now() - start} ms`);

    const inventory = parse(await readFile(fleet.inventoryFile, 'utf8')) as {
      all: { children: { fleet: { hosts: Record<string, { ansible_host: string; ansible_user: string; ansible_ssh_private_key_file: string }> } } };
    };
    const hosts = inventory.all.children.fleet.hosts;
    t.equal(Object.keys(hosts).length, count, 'every host is in the inventory');
    t.same(hosts[fleet.hosts[0].name], { ansible_host: fleet.hosts[0].address, ansible_user: 'root', ansible_ssh_private_key_file: fleet.keyFile });

    // One connection per host, all at once; each host writes its own /srv and /etc and has a clean home.
    const connections = await Promise.all(fleet.hosts.map((h) => SshConnection.open(sshOptions(fleet, h))));
    t.teardown(() => Promise.all(connections.map((c) => c.close())));
    const results = await Promise.all(
      connections.map((c) => c.exec('hostname; echo "$(hostname)" > /srv/who; mkdir -p /etc/kplay-test; ls -A ~; ls -A /tmp | wc -l')),
    );
    t.same(
      results.map((r) => r.stdout),
      fleet.hosts.map((h) => `${h.name}\n0\n`),
      'its own hostname, an empty home and an empty /tmp',
    );
    const whos = await Promise.all(fleet.hosts.map((h) => readFile(`${h.root}/srv/who`, 'utf8')));
    t.same(whos, fleet.hosts.map((h) => `${h.name}\n`), 'each host wrote its own /srv (seen from outside in host.root)');
    t.equal(await sshCli(fleet, fleet.hosts[count - 1], 'test -e /etc/kplay-test && cat /srv/who'), `${fleet.hosts[count - 1].name}\n`);

    // No ARP anywhere: each end of every link knows the other's MAC from the start (permanent entries, which the kernel
    // never resolves or expires and does not count against its machine-wide table limit), after a connection to each.
    // (Multicast entries, such as the bridge's own IGMP group, are not resolved either: NOARP, one per group.)
    const onBridge = (await run('ip', ['-4', '-o', 'neigh', 'show', 'dev', `kp-fleet${count}`, 'nud', 'all']))
      .trim()
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => !line.startsWith('224.'))
      .sort();
    t.same(onBridge, fleet.hosts.map((h) => `${h.address} lladdr ${macForAddress(h.address)} PERMANENT`).sort(), 'the bridge: one permanent entry per host, nothing resolved');
    const gateway = /inet (\S+)\//.exec(await run('ip', ['-o', '-4', 'addr', 'show', 'dev', `kp-fleet${count}`]))![1];
    for (const host of [fleet.hosts[0], fleet.hosts[count - 1]]) {
      t.equal(
        (await run('ip', ['-n', host.netns, '-o', 'neigh', 'show', 'nud', 'all'])).trim(),
        `${gateway} dev eth0 lladdr ${macForAddress(gateway)} PERMANENT`,
        `${host.name}: only the bridge, permanent`,
      );
      t.equal(await run('ip', ['-n', host.netns, '-6', '-o', 'addr', 'show', 'dev', 'eth0']), '', `${host.name}: no IPv6 address on eth0`);
    }

    const stopStart = Date.now();
    await fleet.stop();
    t.comment(`fleet of ${count} down in ${Date.now() - stopStart} ms`);
    t.same(await listNamespaces(`kp-fleet${count}-`), [], 'no namespace left');
    t.same(await listLinks(`kpfleet${count}`), [], 'no veth left');
    t.same(await listLinks(`kp-fleet${count}`), [], 'no bridge left');
    t.notMatch(await readFile('/proc/self/mounts', 'utf8'), `/run/kplay-lab/fleet-fleet${count}/`, 'no mount left');
    t.same(await processesMentioning(`/run/kplay-lab/fleet-fleet${count}/`), [], 'no sshd (or anything started from its folders) left');
    await fleet.stop(); // idempotent
  });
}

/** Command lines of running processes that contain `text`. */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    if (command.includes(text)) found.push(`${pid}: ${command}`);
  }
  return found;
}

t.test('a fleet left over by a crashed run is cleaned up by the next start', async (t) => {
  const first = await labFleet(t, 2, 'crash');
  if (!first) return;
  // No stop(): start again under the same name, as after a crash.
  const second = await startFleet({ count: 3, name: 'crash' });
  t.teardown(() => second.stop());
  t.same((await listNamespaces('kp-crash-')).sort(), ['kp-crash-1', 'kp-crash-2', 'kp-crash-3'], 'only the new hosts');
  t.equal(await sshCli(second, second.hosts[2], 'hostname'), 'crash-3\n');
});
