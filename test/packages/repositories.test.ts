// deb822_repository, apt's update_cache/cache_valid_time and deb, package_facts, and package's error for a manager
// kplay has no module for, on real systemd hosts with real apt and dpkg (Debian's Ansible 2.14 has no
// deb822_repository, so this file checks kplay against the hosts alone): --check on a fresh host predicts the first
// run's changed count exactly and leaves the host as it was, the first run changes what it should, a second run
// changes nothing, and --diff shows the sources and the packages.

import t from 'tap';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay, REPO } from '../helpers/kplay.ts';
import { sshRun, startControllers, type Lab } from '../lab/nspawn.ts';
import { bridgeAddress, buildDeb, isolateApt, startAptRepo } from '../lab/apt-repo.ts';

const FIXTURES = join(REPO, 'test/packages/fixtures');

async function onHost(lab: Lab, host: string, command: string): Promise<string> {
  const r = await sshRun(lab, host, command);
  if (r.rc !== 0) throw new Error(`${host}: ${command}: ${r.stderr}`);
  return r.stdout;
}

// Not a real key: the repository it signs is disabled; the test checks where the key lands and how it is named.
const KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEgcmVhbCBrZXkgZWl0aGVy\n-----END PGP PUBLIC KEY BLOCK-----\n';

const SNAPSHOT =
  "dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\\n' | sort; " +
  'cd /etc/apt && for f in sources.list sources.list.d/* keyrings/*; do [ -e "$f" ] && { stat -c "%n %a" "$f"; cat "$f"; }; done; ' +
  'ls /var/lib/apt/lists; stat -c %Y /var/lib/apt/lists';

t.test('deb822 sources, cache refresh, debs and package facts on real hosts', async (t) => {
  const lab = await startControllers({ name: 'pkgrepo', count: 2, replace: true });
  t.teardown(() => lab.stop());
  const cwd = t.testdir({});
  const repo = await startAptRepo(join(cwd, 'repo'), bridgeAddress(lab));
  t.teardown(() => repo.stop());
  // A package that is in no repository, as a file beside the playbook (files/), and one .deb already on the hosts.
  const local = await buildDeb({ name: 'kplay-local', version: '1.0', files: { '/usr/share/kplay-local/x': 'x\n' } }, join(cwd, 'local'));
  mkdirSync(join(cwd, 'files'));
  copyFileSync(local, join(cwd, 'files', 'kplay-local_1.0_all.deb'));
  writeFileSync(join(cwd, 'repo', 'key.asc'), KEY);
  for (const name of ['repos.yml', 'repos-absent.yml', 'other-manager.yml']) copyFileSync(join(FIXTURES, name), join(cwd, name));
  const hosts = lab.hosts.map((h) => h.name);
  for (const h of hosts) {
    await isolateApt(lab, h);
    // An update hook, as Ubuntu's notifiers have: a real `apt-get update` runs it, a --check plan must not.
    await onHost(lab, h, `echo 'APT::Update::Post-Invoke-Success {"touch /root/update-hook-ran";};' > /etc/apt/apt.conf.d/99kplay-hook`);
  }
  await Promise.all(hosts.map((h) => copyToHost(lab, h, repo.debPath('kplay-hello', '1.0'), '/root/kplay-hello_1.0_all.deb')));
  const [first, second] = hosts;
  const run = (playbook: string, host: string, ...args: string[]) =>
    kplay(['run', playbook, '-i', lab.inventoryPath, '-l', host, '-e', `repo_url=${repo.url}`, ...args], { cwd });

  await t.test('repos.yml: check, run, run again', async (t) => {
    const before = await onHost(lab, first, SNAPSHOT);
    const check = await run('repos.yml', first, '--check', '--output', 'json');
    t.equal(check.code, 0, check.stdout.slice(-2000) + check.stderr);
    t.equal(await onHost(lab, first, SNAPSHOT), before, '--check changed nothing on the host: packages, sources, lists');
    t.equal(await onHost(lab, first, 'test -e /root/update-hook-ran && echo ran || echo no'), 'no\n', 'the scratch update ran no hook');
    const real = await run('repos.yml', first, '--output', 'json');
    t.equal(real.code, 0, real.stdout.slice(-2000) + real.stderr);
    t.equal(await onHost(lab, first, 'test -e /root/update-hook-ran && echo ran || echo no'), 'ran\n', 'the real update ran the hook');
    t.equal(real.recap?.[first]?.changed, 6, 'three sources, a refresh with a package, two debs');
    t.equal(check.recap?.[first]?.changed, real.recap?.[first]?.changed, '--check predicted the changed count exactly');
    t.equal(real.recap?.[first]?.ok, 11, 'eight tasks, facts, package and its assert');
    t.equal(await onHost(lab, first, 'stat -c %a /etc/apt/keyrings/kplay-keyed.asc; cat /etc/apt/keyrings/kplay-keyed.asc'), `644\n${KEY}`, 'the key fetched from its URL');
    t.match(await onHost(lab, first, 'cat /etc/apt/sources.list.d/kplay-keyed.sources'), /^Signed-By: \/etc\/apt\/keyrings\/kplay-keyed\.asc$/m);

    const pkgs = await onHost(lab, first, "dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\\n' 'kplay-*' | sort");
    t.match(pkgs, /^kplay-extra 1\.0 ii $/m, 'the recommended package came along (the default)');
    t.match(pkgs, /^kplay-hello 1\.0 ii $/m, 'the deb on the host');
    t.match(pkgs, /^kplay-local 1\.0 ii $/m, 'the deb from the controller');
    t.match(pkgs, /^kplay-rec 1\.0 ii $/m, 'the package from the deb822 repository');
    t.equal(
      await onHost(lab, first, 'stat -c %a /etc/apt/sources.list.d/kplay-tests.sources; cat /etc/apt/sources.list.d/kplay-tests.sources'),
      `644\nX-Repolib-Name: kplay tests\nArchitectures: amd64\nComponents: main\nSuites: kplay\nTrusted: yes\nTypes: deb\nURIs: ${repo.url}\n`,
    );
    t.equal(
      await onHost(lab, first, 'stat -c %a /etc/apt/sources.list.d/kplay-disabled.sources; cat /etc/apt/sources.list.d/kplay-disabled.sources'),
      '600\nX-Repolib-Name: kplay_disabled\nComponents: main extra\nEnabled: no\n' +
        'Signed-By: -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n bm90IGEgcmVhbCBrZXk=\n -----END PGP PUBLIC KEY BLOCK-----\n' +
        `Suites: nowhere\nTypes: deb\nURIs: ${repo.url}nowhere/\n`,
    );
    t.match(await onHost(lab, first, 'apt-cache policy kplay-rec'), new RegExp(`500 ${repo.url.replace(/\/$/, '').replace(/\./g, '\\.')} kplay/main amd64 Packages`));
    t.notOk(repo.requests.some((r) => r.startsWith('/nowhere')), 'apt never asked for the disabled repository');

    const again = await run('repos.yml', first, '--output', 'json');
    t.equal(again.code, 0, again.stderr);
    t.equal(again.recap?.[first]?.changed, 0, 'a second run changes nothing (the cache is younger than cache_valid_time)');
  });

  await t.test('--diff shows the sources files and the packages', async (t) => {
    const before = await onHost(lab, second, SNAPSHOT);
    const diff = await run('repos.yml', second, '--check', '--diff');
    t.equal(diff.code, 0, diff.stdout + diff.stderr);
    t.equal(await onHost(lab, second, SNAPSHOT), before);
    t.match(diff.stdout, '+++ after: /etc/apt/sources.list.d/kplay-tests.sources');
    t.match(diff.stdout, `+URIs: ${repo.url}`);
    t.match(diff.stdout, '+Enabled: no');
    // apt's diff as Ansible prepares it: apt-get's own words, from "Reading state information..." on.
    t.match(diff.stdout, /The following NEW packages will be installed:\n\s+kplay-extra kplay-rec\n/);
    t.match(diff.stdout, /The following NEW packages will be installed:\n\s+kplay-local\n/);
  });

  await t.test('repos-absent.yml: removing a source and a package installed from a deb', async (t) => {
    const before = await onHost(lab, first, SNAPSHOT);
    const check = await run('repos-absent.yml', first, '--check', '--output', 'json');
    t.equal(check.code, 0, check.stdout.slice(-2000));
    t.equal(await onHost(lab, first, SNAPSHOT), before, '--check changed nothing');
    const real = await run('repos-absent.yml', first, '--output', 'json');
    t.equal(real.code, 0, real.stdout.slice(-2000));
    t.equal(real.recap?.[first]?.changed, 2);
    t.equal(check.recap?.[first]?.changed, 2, '--check predicted it');
    t.equal(await onHost(lab, first, 'ls /etc/apt/sources.list.d'), 'kplay-keyed.sources\nkplay-tests.sources\n');
    t.notMatch(await onHost(lab, first, "dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' 'kplay-*'"), /^kplay-local ii/m, 'kplay-local is gone');
    const again = await run('repos-absent.yml', first, '--output', 'json');
    t.equal(again.recap?.[first]?.changed, 0, 'a second run changes nothing');
  });

  await t.test('package names the manager kplay has no module for', async (t) => {
    const r = await run('other-manager.yml', first, '--output', 'json');
    t.equal(r.code, 2);
    const failed = r.events.find((e) => e.type === 'result' && e.status === 'failed');
    t.match(failed && 'msg' in failed ? failed.msg : '', /package manager is dnf, and kplay has no module for it/);
  });
});

/** Put a file from this machine on a lab host (test setup). */
async function copyToHost(lab: Lab, host: string, from: string, to: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const data = (await readFile(from)).toString('base64');
  const r = await sshRun(lab, host, `echo ${data} | base64 -d > ${to}`);
  if (r.rc !== 0) throw new Error(`${host}: copy ${from}: ${r.stderr}`);
}
