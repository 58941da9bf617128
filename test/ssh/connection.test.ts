// SshConnection against real sshd hosts: commands, files (checked with OpenSSH's own client), concurrency, timeouts.

import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { run } from '../lab/net.ts';
import { connect, labFleet, sshCli } from './fixture.ts';

t.test('over a fleet of 3 hosts', async (t) => {
  const fleet = await labFleet(t, 3, 'sshconn');
  if (!fleet) return;
  const [one, two, three] = fleet.hosts;

  t.test('exec runs with /bin/sh on the right host, with cwd, env and stdin', async (t) => {
    const c = await connect(t, fleet, two);
    const r = await c.exec('echo "$0 $(hostname)"; pwd; echo "$GREETING"; cat; echo oops >&2; exit 3', {
      cwd: '/srv',
      env: { GREETING: "it's a 'quoted' $value" },
      stdin: 'from stdin\n',
    });
    t.same(r, { rc: 3, stdout: `/bin/sh ${two.name}\n/srv\nit's a 'quoted' $value\nfrom stdin\n`, stderr: 'oops\n' });
    const missing = await c.exec('true', { cwd: '/no/such/dir' });
    t.not(missing.rc, 0, 'a missing cwd fails the command instead of running it elsewhere');
  });

  t.test('plain commands run one after another in one resident shell, with the results a session of their own gives', async (t) => {
    const c = await connect(t, fleet, one);
    const parent = async () => (await c.exec('echo $PPID')).stdout;
    const first = await parent();
    t.equal(await parent(), first, 'the second command is a child of the same shell as the first');
    t.equal((await c.exec('ps -o comm= -p $PPID')).stdout, 'sh\n', 'that shell is a sh, not sshd');
    t.same(await c.exec('echo "$0"; pwd; echo "$X"', { cwd: '/srv', env: { X: "a 'b' $c" } }), { rc: 0, stdout: "/bin/sh\n/srv\na 'b' $c\n", stderr: '' });
    t.same(await c.exec("printf 'no newline'; printf 'a\\000b' >&2; exit 7"), { rc: 7, stdout: 'no newline', stderr: 'a\0b' }, 'output as printed, exit status');
    t.equal((await c.exec('kill -9 $$')).rc, 137, 'killed by a signal: 128 + its number');
    t.equal((await c.exec('cat; echo "[$?]"')).stdout, '[0]\n', 'its input is empty');
    const big = await c.exec("head -c 3000000 /dev/zero | tr '\\0' x; head -c 200000 /dev/zero | tr '\\0' y >&2");
    t.same([big.stdout.length, big.stdout.replaceAll('x', ''), big.stderr.length, big.stderr.replaceAll('y', '')], [3_000_000, '', 200_000, ''], 'large output on both streams');
    t.same(await c.exec('echo "kplay-end-0123 0"; echo "kplay-end-0123" >&2'), { rc: 0, stdout: 'kplay-end-0123 0\n', stderr: 'kplay-end-0123\n' }, 'what looks like an end marker is output');
    t.equal(await parent(), first, 'all in the same shell');
    // Each command leads a session and process group of its own, as in a session of sshd's: one that signals its
    // own process group (keepalived's config test does) ends itself, not the shell.
    const ids = (await c.exec('ps -o sid= -o pgid= -p $$; echo $$')).stdout.trim().split(/\s+/);
    t.same([ids[0], ids[1]], [ids[2], ids[2]], 'session id and process group id are its own pid');
    t.equal((await c.exec('kill -TERM 0; sleep 5')).rc, 143, 'a command that signals its process group ends with 143');
    t.equal(await parent(), first, 'the shell outlived it');
    // A process left behind that prints later: the shell is not used again, nothing of it shows in the next command.
    t.same(await c.exec('(sleep 0.3; echo late; echo late >&2) & echo now'), { rc: 0, stdout: 'now\n', stderr: '' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    t.same(await c.exec('echo next'), { rc: 0, stdout: 'next\n', stderr: '' });
    t.not(await parent(), first, 'a new shell after the old one saw stray output');
    // With input, or as another user, a command still gets a session of its own.
    t.not((await c.exec('cat >/dev/null; echo $PPID', { stdin: 'x' })).stdout, await parent(), 'input: a session of its own');
  });

  t.test('a host whose commands find no setsid: every command gets a session of its own, with the same results', async (t) => {
    // The login shell (bash, started by sshd) reads root's .bashrc: no folder of setsid left in the PATH.
    const bashrc = join(three.root, 'root/.bashrc');
    writeFileSync(bashrc, 'PATH=/nonexistent\n');
    t.teardown(() => rmSync(bashrc, { force: true }));
    const c = await connect(t, fleet, three);
    t.same(await c.exec('command -v setsid || echo "no setsid: $PATH"'), { rc: 0, stdout: 'no setsid: /nonexistent\n', stderr: '' }, 'the first command: its result, not the resident shell\'s end');
    // /bin/ps by its path: the PATH has no folder. A resident shell's command is the child of a sh, a session's of sshd.
    const parent = async () => (await c.exec('/bin/ps -o comm= -p $PPID')).stdout;
    t.same([await parent(), await parent()], ['sshd\n', 'sshd\n'], 'each command a session of its own, started by sshd');
    t.same(await c.exec("printf 'out'; printf 'err' >&2; exit 4"), { rc: 4, stdout: 'out', stderr: 'err' });
  });

  t.test('put writes content and mode atomically, each host its own copy', async (t) => {
    const connections = await Promise.all([one, two, three].map((h) => connect(t, fleet, h)));
    await Promise.all(connections.map((c, i) => c.put('/srv/app.conf', `host ${i}\n`, { mode: 0o640 })));
    for (const [i, h] of [one, two, three].entries()) {
      t.equal(await sshCli(fleet, h, 'stat -c %a:%U:%G /srv/app.conf; cat /srv/app.conf'), `640:root:root\nhost ${i}\n`);
    }
    // Overwrite with another mode; no temp file stays beside it.
    await connections[0].put('/srv/app.conf', Buffer.from('second\n'), { mode: 0o600 });
    t.equal(await sshCli(fleet, one, 'stat -c %a /srv/app.conf; cat /srv/app.conf; ls -A /srv'), '600\nsecond\napp.conf\n');
    // Owner by name goes through the shell path (chown), same atomic result.
    await connections[0].put('/srv/owned', 'x', { owner: 'nobody', group: 'nogroup', mode: 0o604 });
    t.equal(await sshCli(fleet, one, 'stat -c %a:%U:%G /srv/owned; ls -A /srv'), '604:nobody:nogroup\napp.conf\nowned\n');
    await t.rejects(connections[0].put('/no/such/dir/f', 'x'), /cannot write \/no\/such\/dir\/f/);
  });

  t.test('a large file goes through intact', async (t) => {
    const c = await connect(t, fleet, one);
    const big = Buffer.alloc(8 * 1024 * 1024 + 123, 'kplay ');
    await c.put('/opt/big.bin', big);
    t.equal((await sshCli(fleet, one, 'sha256sum < /opt/big.bin')).split(' ')[0], createHash('sha256').update(big).digest('hex'));
    t.ok((await c.get('/opt/big.bin'))?.equals(big), 'get returns the same bytes');
  });

  t.test('get and stat', async (t) => {
    const c = await connect(t, fleet, three);
    await sshCli(fleet, three, "mkdir -p /etc/kplay-test && printf 'abc' > /etc/kplay-test/f && chmod 751 /etc/kplay-test/f && ln -sfn f /etc/kplay-test/l");
    t.equal((await c.get('/etc/kplay-test/f'))?.toString(), 'abc');
    t.equal(await c.get('/etc/kplay-test/none'), null);
    const st = await c.stat('/etc/kplay-test/f', { checksum: true });
    t.match(st, { exists: true, type: 'file', mode: 0o751, owner: 'root', group: 'root', size: 3 });
    t.equal(st.sha256, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    t.match(await c.stat('/etc/kplay-test/l'), { type: 'link', target: 'f' });
    t.match(await c.stat('/etc/kplay-test/l', { follow: true }), { type: 'file' });
    t.same(await c.stat('/etc/kplay-test/none'), { exists: false });
    t.match(await c.stat('/etc/kplay-test'), { type: 'directory' });
  });

  t.test('stat agrees with stat(1), names included, also for a user created a moment ago', async (t) => {
    const c = await connect(t, fleet, three);
    await c.exec("useradd -M -p '*' kpuser && mkdir -p /srv/st && echo hi > /srv/st/f && chown kpuser:kpuser /srv/st/f && chmod 4750 /srv/st/f");
    const [mode, owner, group, uid, gid, size, mtime] = (await sshCli(fleet, three, "stat -c '%a %U %G %u %g %s %Y' /srv/st/f")).trim().split(' ');
    const expected = { exists: true, type: 'file', mode: parseInt(mode, 8), owner, group, uid: Number(uid), gid: Number(gid), size: Number(size), mtime: Number(mtime) };
    t.equal(owner, 'kpuser');
    t.same(await c.stat('/srv/st/f'), expected, 'the fast path (sftp)');
    t.same(await c.stat('/srv/st/f', { checksum: true }), { ...expected, sha256: createHash('sha256').update('hi\n').digest('hex') }, 'the command path');
    t.same(await c.stat('/srv/st/f/below'), { exists: false }, 'below a file');
  });

  t.test('50 commands at once on one connection', async (t) => {
    const c = await connect(t, fleet, one);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => c.exec(`echo ${i}`)));
    t.same(
      results.map((r) => r.stdout),
      Array.from({ length: 50 }, (_, i) => `${i}\n`),
    );
    // The connection and its host are fine afterwards: a round trip, timed for the report.
    const start = performance.now();
    await c.exec('true');
    t.comment(`one exec round trip: ${(performance.now() - start).toFixed(1)} ms`);
  });

  t.test('a command that hangs past its timeout fails, and is killed on the host', async (t) => {
    const c = await connect(t, fleet, two, { commandTimeoutMs: 20_000 });
    const start = Date.now();
    await t.rejects(c.exec('echo started > /tmp/hang; sleep 30; echo done > /tmp/hang', { timeoutMs: 400 }), /timed out after 400 ms/);
    t.ok(Date.now() - start < 2000, 'fails at the timeout');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    t.equal(await sshCli(fleet, two, 'cat /tmp/hang'), 'started\n', 'never finished');
    t.equal((await c.exec('echo alive')).stdout, 'alive\n', 'the connection lives on');
    // The connection's default timeout applies when the call gives none.
    const short = await connect(t, fleet, two, { commandTimeoutMs: 300 });
    await t.rejects(short.exec('sleep 5'), /timed out after 300 ms/);
  });

  t.test('logs in with a key held by ssh-agent', async (t) => {
    const socket = join(dirname(fleet.keyFile), 'agent.sock'); // short: a socket path has ~100 bytes at most
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(await run('ssh-agent', ['-a', socket]))?.[1]);
    t.teardown(() => process.kill(pid));
    await run('ssh-add', ['-q', fleet.keyFile], { env: { SSH_AUTH_SOCK: socket } });
    const c = await connect(t, fleet, two, { privateKeyFiles: [], agent: socket });
    t.equal((await c.exec('hostname')).stdout, `${two.name}\n`);
  });

  t.test('become through sudo', async (t) => {
    // Users and sudo rules live in host one's private /etc and /home only.
    await sshCli(
      fleet,
      one,
      [
        "useradd -m -s /bin/bash -p '*' deploy", // '*': no password, yet not locked (sshd refuses locked accounts)
        "echo 'deploy ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/deploy",
        'useradd -m -s /bin/bash alice',
        "echo 'alice:s3cret pass' | chpasswd",
        "echo 'alice ALL=(ALL) ALL' > /etc/sudoers.d/alice",
        'chmod 440 /etc/sudoers.d/*',
      ].join(' && '),
    );
    t.equal(await sshCli(fleet, two, 'id -u deploy 2>/dev/null || echo none'), 'none\n', 'other hosts do not have the user');

    const deploy = await connect(t, fleet, one, { user: 'deploy' });
    t.equal((await deploy.exec('id -un')).stdout, 'deploy\n');
    t.equal((await deploy.exec('id -un; cat', { become: { user: 'root' }, stdin: 'in\n' })).stdout, 'root\nin\n');
    t.equal((await deploy.exec('id -un', { become: { user: 'alice' } })).stdout, 'alice\n');
    await deploy.put('/etc/kplay-test-root.conf', 'secret\n', { mode: 0o600, become: { user: 'root' } });
    t.equal(await sshCli(fleet, one, 'stat -c %a:%U /etc/kplay-test-root.conf; cat /etc/kplay-test-root.conf'), '600:root\nsecret\n');
    t.equal((await deploy.get('/etc/kplay-test-root.conf', { become: { user: 'root' } }))?.toString(), 'secret\n');
    await t.rejects(deploy.get('/etc/kplay-test-root.conf'), /cannot read .*denied/i, 'without become the login user cannot');
    t.match(await deploy.stat('/etc/kplay-test-root.conf', { checksum: true, become: { user: 'root' } }), { mode: 0o600, owner: 'root', sha256: /^[0-9a-f]{64}$/ });

    const alice = await connect(t, fleet, one, { user: 'alice', becomePassword: 's3cret pass' });
    t.equal((await alice.exec('id -un; cat', { become: { user: 'root' }, stdin: 'after the password\n' })).stdout, 'root\nafter the password\n');
    const wrong = await alice.exec('id -un', { become: { user: 'root', password: 'wrong' } });
    t.not(wrong.rc, 0, 'a wrong password fails the command');
    // A sudo that does not ask (NOPASSWD) must not hand the password to the command as its input.
    const nopasswd = await connect(t, fleet, one, { user: 'deploy', becomePassword: 'never-needed' });
    t.equal((await nopasswd.exec('cat', { become: { user: 'root' }, stdin: 'only this\n' })).stdout, 'only this\n', 'the password is not the command input');
    t.notMatch(wrong.stdout, /root/);
  });
});
