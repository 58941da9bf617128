// Round trips to a far host, counted by the bench's delay proxy (a turn: kplay sends after the host has answered).
// A warm copy's stat and checksum, a cold write and a command each cost a fixed number of turns; the reads that coming
// tasks announce cost one batch whatever their number; a warm run's turns do not grow with its tasks; and a file
// changed behind kplay's back (by a command, or through the controller) between two tasks is seen.

import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDelayProxy, type DelayProxy } from '../../bench/delay-proxy.ts';
import { SshConnection } from '../../engine/connection/ssh.ts';
import { kplay } from '../helpers/kplay.ts';
import type { Fleet, FleetHost } from '../lab/fleet.ts';
import { knownHostsLine, run } from '../lab/net.ts';
import { labFleet, sshOptions } from './fixture.ts';

const RTT_MS = 40;
const DIR = '/srv/kplay-rt';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** A proxy in front of the host, and an inventory and known_hosts that reach the host through it. */
async function farHost(t: Test, fleet: Fleet, host: FleetHost): Promise<{ proxy: DelayProxy; inventory: string; knownHosts: string }> {
  const proxy = await startDelayProxy({ host: host.address, port: 22 }, RTT_MS);
  t.teardown(() => proxy.close());
  const dir = t.testdir({});
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${knownHostsLine('127.0.0.1', proxy.port, host.hostPublicKey)}\n`);
  const inventory = join(dir, 'inventory.yml');
  const vars = { ansible_host: '127.0.0.1', ansible_port: proxy.port, ansible_user: 'root', ansible_ssh_private_key_file: fleet.keyFile };
  writeFileSync(inventory, stringify({ all: { hosts: { [host.name]: vars }, vars: { kplay_known_hosts_file: knownHosts } } }));
  return { proxy, inventory, knownHosts };
}

/** A one-play playbook of `tasks` for every host, written to `cwd/name`. */
function writePlay(cwd: string, name: string, tasks: unknown[]): string {
  const file = join(cwd, name);
  writeFileSync(file, stringify([{ hosts: 'all', gather_facts: false, tasks }]));
  return file;
}

/** Turns `action` costs. */
async function turnsOf(proxy: DelayProxy, action: () => Promise<unknown>): Promise<number> {
  proxy.resetTurns();
  await action();
  return proxy.turns();
}

t.test('round trips to a far host', async (t) => {
  const fleet = await labFleet(t, 1, 'rtrip');
  if (!fleet) return;
  const host = fleet.hosts[0];
  const ssh = (command: string) =>
    run('ssh', ['-i', fleet.keyFile, '-o', `UserKnownHostsFile=${fleet.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${host.address}`, command]);
  await ssh(`mkdir -p ${DIR} && cd ${DIR} && for i in 1 2 3 4 5 6; do printf 'file %s' $i > f$i; done`);
  const { proxy, inventory, knownHosts } = await farHost(t, fleet, host);

  t.test('per call, on the connection', async (t) => {
    const conn = await SshConnection.open(sshOptions(fleet, host, { address: '127.0.0.1', port: proxy.port, knownHostsFile: knownHosts }));
    t.teardown(() => conn.close());
    await conn.stat('/etc/hostname'); // the sftp session and the owner names, read once
    await new Promise((r) => setTimeout(r, 3 * RTT_MS)); // the channel opened ahead is ready

    let st = await conn.stat(`${DIR}/f1`, { checksum: true });
    t.equal(st.sha256, sha('file 1'), 'checksum read over sftp');
    t.equal(await turnsOf(proxy, () => conn.stat(`${DIR}/f2`, { checksum: true })), 2, 'a warm copy: lstat and open, then read and close');

    conn.prefetch([3, 4, 5, 6].map((i) => ({ path: `${DIR}/f${i}`, checksum: true })));
    const four = await turnsOf(proxy, async () => {
      for (const i of [3, 4, 5, 6]) t.equal((await conn.stat(`${DIR}/f${i}`, { checksum: true })).sha256, sha(`file ${i}`), `f${i} read ahead`);
    });
    t.equal(four, 2, 'four announced stats with checksums: one batch of two round trips');

    // A turn is counted when kplay sends after the host has sent; closing a finished channel is one that nobody
    // waits for, so k operations in a row cost at most k + 1 turns.
    const writes = await turnsOf(proxy, async () => {
      for (const i of [1, 2, 3]) await conn.put(`${DIR}/new${i}`, `new ${i}`, { mode: 0o640 });
    });
    t.ok(writes <= 4, `three cold writes, one pipelined command each: ${writes} turns`);
    t.equal(await ssh(`stat -c %a ${DIR}/new3 && cat ${DIR}/new3`), '640\nnew 3', 'written with its mode');
    const commands = await turnsOf(proxy, async () => {
      for (const i of [1, 2, 3]) await conn.exec(`true ${i}`);
    });
    t.ok(commands <= 4, `three commands, one round trip each on a channel opened ahead: ${commands} turns`);

    // Read ahead, then changed by a command: the next stat sees the change.
    conn.prefetch([{ path: `${DIR}/f1`, checksum: true }]);
    st = await conn.stat(`${DIR}/f1`, { checksum: true });
    t.equal(st.sha256, sha('file 1'));
    await conn.exec(`printf changed > ${DIR}/f1`);
    t.equal((await conn.stat(`${DIR}/f1`, { checksum: true })).sha256, sha('changed'), 'a command drops what was read ahead');
    // A write drops its own path only.
    conn.prefetch([{ path: `${DIR}/f2`, checksum: true }, { path: `${DIR}/f3`, checksum: true }]);
    await conn.stat(`${DIR}/f2`, { checksum: true });
    await conn.put(`${DIR}/f2`, 'rewritten');
    t.equal((await conn.stat(`${DIR}/f2`, { checksum: true })).sha256, sha('rewritten'), 'a write drops its path');
  });

  t.test('a warm run: round trips do not grow with tasks', async (t) => {
    const cwd = t.testdir({});
    const playbook = (count: number) =>
      writePlay(
        cwd,
        `copies-${count}.yml`,
        Array.from({ length: count }, (_, i) => ({ name: `copy ${i}`, copy: { dest: `${DIR}/c${count}-${i}`, content: `copy ${i}\n`, mode: '0644' } })),
      );
    const turns: Record<number, number> = {};
    for (const count of [5, 20]) {
      const file = playbook(count);
      const cold = await kplay(['run', file, '-i', inventory, '--output', 'json'], { cwd });
      t.equal(cold.recap?.[host.name]?.changed, count, `cold: ${count} changed`);
      proxy.resetTurns();
      const warm = await kplay(['run', file, '-i', inventory, '--output', 'json'], { cwd });
      turns[count] = proxy.turns();
      t.equal(warm.recap?.[host.name]?.changed, 0, `warm: nothing changed (${count} tasks)`);
    }
    t.ok(turns[20] - turns[5] <= 2, `warm turns for 20 copies (${turns[20]}) within 2 of those for 5 (${turns[5]})`);
  });

  t.test('creates and removes after a command: checked in its round trip, and right', async (t) => {
    const cwd = t.testdir({});
    const command = (name: string, cmd: string, check: Record<string, string>) => ({ name, command: { cmd, ...check } });
    const file = writePlay(cwd, 'checks.yml', [
      { name: 'make', shell: `rm -rf ${DIR}/checks && mkdir ${DIR}/checks && touch ${DIR}/checks/made && ln -s /nowhere ${DIR}/checks/link` },
      command('creates, made by the command before', `touch ${DIR}/checks/second`, { creates: `${DIR}/checks/made` }),
      command('removes, never there', `touch ${DIR}/checks/third`, { removes: `${DIR}/checks/absent` }),
      command('creates, a dangling link', `touch ${DIR}/checks/fourth`, { creates: `${DIR}/checks/link` }),
      { name: 'remove', shell: `rm ${DIR}/checks/made` },
      command('creates, removed by the command before', `touch ${DIR}/checks/made`, { creates: `${DIR}/checks/made` }),
      command('removes, made by the command before', `rm ${DIR}/checks/made`, { removes: `${DIR}/checks/made` }),
      command('in a missing folder', `touch ${DIR}/checks/eighth`, { creates: `${DIR}/checks/none/x` }),
    ]);
    const result = await kplay(['run', file, '-i', inventory, '--output', 'json'], { cwd });
    t.equal(result.code, 0, result.stderr);
    const statuses = result.events.flatMap((e) => (e.type === 'result' ? [`${e.task.name}: ${e.status}`] : []));
    t.same(statuses, [
      'make: changed',
      'creates, made by the command before: ok',
      'removes, never there: ok',
      'creates, a dangling link: ok',
      'remove: changed',
      'creates, removed by the command before: changed',
      'removes, made by the command before: changed',
      'in a missing folder: changed',
    ]);
    t.equal(await ssh(`cd ${DIR}/checks && ls | sort | tr '\\n' ' '`), 'eighth link ', 'what ran made and removed what it should');

    // Each command with `creates` after another: its check rode on the command before, so one turn each.
    const playbook = (count: number) =>
      writePlay(
        cwd,
        `commands-${count}.yml`,
        Array.from({ length: count }, (_, i) => command(`command ${i}`, `touch ${DIR}/k${count}-${i}`, { creates: `${DIR}/k${count}-${i}` })),
      );
    const turns: Record<number, number> = {};
    for (const count of [4, 10]) {
      proxy.resetTurns();
      const cold = await kplay(['run', playbook(count), '-i', inventory, '--output', 'json'], { cwd });
      turns[count] = proxy.turns();
      t.equal(cold.recap?.[host.name]?.changed, count, `cold: ${count} commands ran`);
    }
    t.ok(turns[10] - turns[4] <= 7, `6 more commands cost ${turns[10] - turns[4]} turns (at most one each, and one)`);
  });

  t.test('a file changed behind kplay between two tasks is seen', async (t) => {
    const cwd = t.testdir({});
    const copy = (name: string) => ({ name, copy: { dest: `${DIR}/behind`, content: 'kplay\n', mode: '0644' } });
    const file = writePlay(cwd, 'behind.yml', [
      copy('first copy'),
      { name: 'changed by a command', shell: `printf other > ${DIR}/behind` },
      copy('second copy'),
      // Through the controller: the host's files as this machine sees them (a shared folder, say).
      { name: 'changed through the controller', shell: `printf third > ${join(host.root, DIR, 'behind')}`, delegate_to: 'localhost' },
      copy('third copy'),
    ]);
    const result = await kplay(['run', file, '-i', inventory, '--output', 'json'], { cwd });
    t.equal(result.code, 0, result.stderr);
    const statuses = result.events.flatMap((e) => (e.type === 'result' ? [`${e.task.name}: ${e.status}`] : []));
    t.same(statuses, ['first copy: changed', 'changed by a command: changed', 'second copy: changed', 'changed through the controller: changed', 'third copy: changed']);
    t.equal(await ssh(`cat ${DIR}/behind`), 'kplay\n', 'the file holds what the last copy wrote');
  });
});
