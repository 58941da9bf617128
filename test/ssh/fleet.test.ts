// The fleet itself: many hosts up in seconds, each its own name, address and folders, and nothing left after stop.

import { readFile } from 'node:fs/promises';
import t from 'tap';
import { parse } from 'yaml';
import { SshConnection } from '../../engine/connection/ssh.ts';
import { startFleet } from '../lab/fleet.ts';
import { listLinks, listNamespaces } from '../lab/net.ts';
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

    const stopStart = Date.now();
    await fleet.stop();
    t.comment(`fleet of ${count} down in ${Date.now() - stopStart} ms`);
    t.same(await listNamespaces(`kp-fleet${count}-`), [], 'no namespace left');
    t.same(await listLinks(`kpfleet${count}`), [], 'no veth left');
    t.same(await listLinks(`kp-fleet${count}`), [], 'no bridge left');
    t.notMatch(await readFile('/proc/self/mounts', 'utf8'), `/run/kplay-lab/fleet-fleet${count}/`, 'no mount left');
    await fleet.stop(); // idempotent
  });
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
