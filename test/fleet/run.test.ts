// Issue 3, acceptance 1: a playbook over SSH on a fleet of 10 hosts; files checked over a separate SSH session; the
// second run changes nothing; a host whose sshd is stopped mid-run and a host whose key changed are reported
// unreachable while the others finish; `--limit @failed` then completes only those two.

import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay, REPO, type KplayResult } from '../helpers/kplay.ts';
import { generateKey, run, sleep } from '../lab/net.ts';
import { labFleet } from '../ssh/fixture.ts';

const SITE = join(REPO, 'test/fleet/fixtures/site.yml');
const ROOT = '/srv/kplay-fleet';

t.test('a playbook on a fleet of 10 hosts over SSH', async (t) => {
  const fleet = await labFleet(t, 10, 'run');
  if (!fleet) return;
  const names = fleet.hosts.map((h) => h.name);
  const cwd = t.testdir({});
  const play = (...args: string[]): Promise<KplayResult> =>
    kplay(['run', SITE, '-i', fleet.inventoryFile, '--output', 'json', ...args], { cwd });
  /** A separate SSH session with OpenSSH's client, strict host key checking on. */
  const ssh = (address: string, command: string): Promise<string> =>
    run('ssh', ['-i', fleet.keyFile, '-o', `UserKnownHostsFile=${fleet.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes', `root@${address}`, command]);
  const per = (r: KplayResult, key: 'changed' | 'unreachable' | 'failed'): Record<string, number | undefined> =>
    Object.fromEntries(Object.entries(r.recap ?? {}).map(([h, c]) => [h, c[key]]));
  const all = (value: number, hosts = names): Record<string, number> => Object.fromEntries(hosts.map((h) => [h, value]));

  const first = await play();
  t.equal(first.code, 0, first.stderr);
  t.same(per(first, 'changed'), all(5), 'folder, host.txt, config, done, marker on every host');
  for (const host of fleet.hosts) {
    const seen = await ssh(host.address, `cd ${ROOT} && stat -c '%n %a' . host.txt fleet.conf done && cat host.txt fleet.conf`);
    t.equal(
      seen,
      `. 750\nhost.txt 640\nfleet.conf 600\ndone 644\n${host.name} ${host.name}\n# ${host.name} of 10 hosts\n` +
        `peers = ${names.filter((n) => n !== host.name).join(',')}\n`,
      `${host.name}: contents and modes`,
    );
  }

  const second = await play();
  t.equal(second.code, 0, second.stderr);
  t.same(per(second, 'changed'), all(0), 'the second run changes nothing');

  // Faults: one host's key no longer matches known_hosts; another host's sshd stops in the middle of the run.
  const [stopped, rekeyed] = [fleet.hosts[3], fleet.hosts[7]];
  const knownHosts = readFileSync(fleet.knownHostsFile, 'utf8');
  const otherKey = (await generateKey(join(cwd, 'other_key'), 'other')).trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(
    fleet.knownHostsFile,
    knownHosts.split('\n').map((line) => (line.startsWith(`${rekeyed.address} `) ? `${rekeyed.address} ${otherKey}` : line)).join('\n'),
  );
  const faulty = play('-e', 'stamp=2', '-e', 'pause=3');
  const pausing = join(stopped.root, ROOT, 'pausing-2');
  for (let i = 0; i < 200 && !existsSync(pausing); i++) await sleep(50);
  t.ok(existsSync(pausing), `${stopped.name} reached the pause`);
  await run('kill', ['-STOP', String(stopped.sshdPid)]); // sshd stops: no new logins...
  await fleet.dropConnections(stopped.name); // ...and the running sessions are cut
  const third = await faulty;
  t.equal(third.code, 4, 'exit code 4: some hosts unreachable, none failed');
  const others = names.filter((n) => n !== stopped.name && n !== rekeyed.name);
  t.same(per(third, 'unreachable'), { ...all(0, others), [stopped.name]: 1, [rekeyed.name]: 1 });
  t.same(per(third, 'failed'), all(0), 'no host failed');
  t.same(
    Object.fromEntries(others.map((h) => [h, third.recap?.[h]?.changed])),
    all(1, others),
    'the other hosts finished (done changed)',
  );
  const message = (host: string): string =>
    third.events.flatMap((e) => (e.type === 'result' && e.host === host && e.status === 'unreachable' ? [e.msg ?? ''] : [])).join(' ');
  t.match(message(rekeyed.name), /key.*(changed|does not match)[\s\S]*known_hosts/i, 'the changed key is named');
  t.match(message(rekeyed.name), /SHA256:/);
  t.ok(message(stopped.name).length > 0, `${stopped.name} is reported unreachable: ${message(stopped.name)}`);
  t.equal(readFileSync(join(stopped.root, ROOT, 'done'), 'utf8'), 'done 1\n', 'the stopped host did not get the later task');
  t.equal(await ssh(fleet.hosts.find((h) => h.name === others[0])!.address, `cat ${ROOT}/done`), 'done 2\n');
  const leftovers = await run('find', [join(stopped.root, ROOT), '-name', '.*kplay*']);
  t.equal(leftovers, '', 'no half-written file on the stopped host');

  // The operator checks the new key and puts it back, and sshd comes back: rerun only what failed.
  writeFileSync(fleet.knownHostsFile, knownHosts);
  await run('kill', ['-CONT', String(stopped.sshdPid)]);
  const rerun = await play('--limit', '@failed', '-e', 'stamp=2');
  t.equal(rerun.code, 0, rerun.stderr);
  t.same(Object.keys(rerun.recap ?? {}).sort(), [stopped.name, rekeyed.name].sort(), 'only the two hosts that failed ran');
  t.same(per(rerun, 'changed'), { [stopped.name]: 1, [rekeyed.name]: 1 }, 'each completes its missing change');
  for (const host of [stopped, rekeyed]) t.equal(await ssh(host.address, `cat ${ROOT}/done`), 'done 2\n');
});
