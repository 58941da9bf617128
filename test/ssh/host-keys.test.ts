// Host key checking against known_hosts, cross-checked with OpenSSH's own tools (ssh-keygen, ssh).

import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { UnreachableError } from '../../engine/connection/connection.ts';
import { KnownHosts } from '../../engine/connection/known-hosts.ts';
import { SshConnection } from '../../engine/connection/ssh.ts';
import { run } from '../lab/net.ts';
import { connect, labFleet, sshOptions } from './fixture.ts';

/** The fingerprint as `ssh-keygen -l` computes it. */
async function fingerprint(publicKeyLine: string, dir: string): Promise<string> {
  const file = join(dir, `k${Math.random().toString(36).slice(2)}.pub`);
  await writeFile(file, `${publicKeyLine}\n`);
  return (await run('ssh-keygen', ['-l', '-f', file])).split(' ')[1];
}

t.test('over a fleet of 2 hosts', async (t) => {
  const fleet = await labFleet(t, 2, 'sshkeys');
  if (!fleet) return;
  const [one, two] = fleet.hosts;

  t.test('an unknown host key fails the host with the key, the file and how to accept it', async (t) => {
    const knownHostsFile = join(t.testdir({ known_hosts: '' }), 'known_hosts');
    const error = await SshConnection.open(sshOptions(fleet, one, { knownHostsFile })).catch((e: unknown) => e);
    t.type(error, UnreachableError);
    const message = (error as Error).message;
    t.match(message, 'ssh-ed25519 ' + (await fingerprint(one.hostPublicKey, t.testdirName)));
    t.match(message, knownHostsFile);
    t.match(message, '--accept-new-host-keys');
    t.match(message, 'accept_new_host_keys: true');
    t.equal(await readFile(knownHostsFile, 'utf8'), '', 'nothing recorded');
  });

  t.test('a changed host key is refused, even with accept-new, and the file is left alone', async (t) => {
    // The file says host one has host two's key: what a man in the middle (or a reinstall) looks like.
    const [keyType, key] = two.hostPublicKey.split(' ');
    const content = `# comment\n${one.address} ${keyType} ${key}\n`;
    const knownHostsFile = join(t.testdir({ known_hosts: content }), 'known_hosts');
    for (const acceptNewHostKeys of [false, true]) {
      const error = await SshConnection.open(sshOptions(fleet, one, { knownHostsFile, acceptNewHostKeys })).catch((e: unknown) => e);
      t.type(error, UnreachableError);
      t.match((error as Error).message, `HOST KEY CHANGED for ${one.address}:`);
      t.match((error as Error).message, `${knownHostsFile} line 2`);
      t.match((error as Error).message, await fingerprint(one.hostPublicKey, t.testdirName));
    }
    t.equal(await readFile(knownHostsFile, 'utf8'), content);
  });

  t.test('accept-new records the key in a form OpenSSH reads', async (t) => {
    const knownHostsFile = join(t.testdir({}), 'new', 'known_hosts'); // neither file nor folder exist yet
    const c = await connect(t, fleet, two, { knownHostsFile, acceptNewHostKeys: true });
    t.equal((await c.exec('hostname')).stdout, `${two.name}\n`);
    t.equal((await stat(knownHostsFile)).mode & 0o777, 0o600);
    const [keyType, key] = two.hostPublicKey.split(' ');
    t.equal(await readFile(knownHostsFile, 'utf8'), `${two.address} ${keyType} ${key}\n`);
    // OpenSSH itself trusts the recorded line with strict checking.
    const out = await run('ssh', ['-i', fleet.keyFile, '-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${two.address}`, 'hostname']);
    t.equal(out, `${two.name}\n`);
    // Now known: a second connection without accept-new works and adds nothing.
    await connect(t, fleet, two, { knownHostsFile });
    t.equal((await readFile(knownHostsFile, 'utf8')).split('\n').length, 2);
  });

  t.test('hashed names (ssh-keygen -H) and @revoked are understood', async (t) => {
    const dir = t.testdir({});
    const knownHostsFile = join(dir, 'known_hosts');
    await writeFile(knownHostsFile, await readFile(fleet.knownHostsFile));
    await run('ssh-keygen', ['-H', '-f', knownHostsFile]);
    t.match(await readFile(knownHostsFile, 'utf8'), /^\|1\|/, 'names are hashed');
    t.equal((await (await connect(t, fleet, one, { knownHostsFile })).exec('hostname')).stdout, `${one.name}\n`);
    await writeFile(knownHostsFile, `@revoked * ${one.hostPublicKey}\n`, { flag: 'a' });
    const error = await SshConnection.open(sshOptions(fleet, one, { knownHostsFile })).catch((e: unknown) => e);
    t.type(error, UnreachableError);
    t.match((error as Error).message, /@revoked/);
  });

  t.test('lookups agree with ssh-keygen -F for ports, wildcards and negation', async (t) => {
    const dir = t.testdir({});
    const file = join(dir, 'known_hosts');
    const key = (n: number) => (n === 1 ? one : two).hostPublicKey.split(' ').slice(0, 2).join(' ');
    await writeFile(
      file,
      [
        `[10.9.0.1]:2222 ${key(1)}`,
        `10.9.0.1 ${key(2)}`,
        `*.example.org,!bad.example.org ${key(1)}`,
        `@cert-authority *.example.org ${key(2)}`,
        '',
      ].join('\n'),
    );
    const knownHosts = await KnownHosts.load(file);
    const blobOf = (n: number) => Buffer.from(key(n).split(' ')[1], 'base64');
    for (const [host, port] of [
      ['10.9.0.1', 2222],
      ['10.9.0.1', 22],
      ['web.example.org', 22],
      ['bad.example.org', 22],
      ['10.9.0.2', 22],
    ] as const) {
      const name = port === 22 ? host : `[${host}]:${port}`;
      const openssh = await run('ssh-keygen', ['-F', name, '-f', file], { okCodes: [0, 1] });
      const opensshKeys = openssh
        .split('\n')
        .filter((l) => l && !l.startsWith('#') && !l.startsWith('@'))
        .map((l) => l.split(' ').slice(1, 3).join(' '));
      const ours = [1, 2].filter((n) => knownHosts.check(host, port, blobOf(n)).status === 'known').map(key);
      t.same(ours, opensshKeys, `${name}: same keys as ssh-keygen -F`);
    }
  });
});
