// apt, apt_repository and package against Ansible (the oracle) on real systemd hosts with real apt and dpkg: the same
// playbooks run through kplay on one fresh lab host and through Debian's ansible-playbook on another; the hosts must
// end with the same packages (dpkg-query -W), the same source files and the same recap counts. Before each real run,
// kplay --check predicts its changed count exactly and leaves the host as it was; a second run changes nothing.

import t from 'tap';
import { join } from 'node:path';
import { kplay, REPO } from '../helpers/kplay.ts';
import { sshRun, startControllers, type Lab } from '../lab/nspawn.ts';
import { ansibleAptDebs, bridgeAddress, installDebs, isolateApt, startAptRepo } from '../lab/apt-repo.ts';
import { ansiblePlaybook } from './ansible.ts';

const FIXTURES = join(REPO, 'test/packages/fixtures');

async function onHost(lab: Lab, host: string, command: string): Promise<string> {
  const r = await sshRun(lab, host, command);
  if (r.rc !== 0) throw new Error(`${host}: ${command}: ${r.stderr}`);
  return r.stdout;
}

/** What the modules change: every package with its version and state, and the apt sources. */
const PACKAGES = "dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\\n' | sort";
const SOURCES = 'cd /etc/apt && for f in sources.list sources.list.d/*; do [ -e "$f" ] && { stat -c "%n %a" "$f"; cat "$f"; }; done; true';
const KPLAY_PACKAGES = "dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\\n' 'kplay-*' 2>/dev/null; true";

t.test('apt, apt_repository and package: kplay and Ansible leave the same hosts', async (t) => {
  const lab = await startControllers({ name: 'pkg', count: 2, replace: true });
  t.teardown(() => lab.stop());
  const cwd = t.testdir({});
  const repo = await startAptRepo(join(cwd, 'repo'), bridgeAddress(lab));
  t.teardown(() => repo.stop());
  const [mine, theirs] = lab.hosts.map((h) => h.name);
  // Both hosts alike: only the test repository, and python3-apt (Ansible's apt module needs it; kplay does not).
  const debs = await ansibleAptDebs();
  for (const h of [mine, theirs]) {
    await isolateApt(lab, h);
    await installDebs(lab, h, debs);
  }
  const vars = ['-e', `repo_url=${repo.url}`];
  const run = (playbook: string, ...args: string[]) =>
    kplay(['run', join(FIXTURES, playbook), '-i', lab.inventoryPath, '-l', mine, '--output', 'json', ...vars, ...args], { cwd });
  const oracle = (playbook: string) => ansiblePlaybook([join(FIXTURES, playbook), '-i', lab.inventoryPath, '-l', theirs, '--diff', ...vars], cwd);
  const state = async (h: string) => ({ packages: await onHost(lab, h, PACKAGES), sources: await onHost(lab, h, SOURCES) });

  const phases: [string, Record<string, number>, string][] = [
    ['site.yml', { changed: 6, ok: 7 }, 'kplay-conf 1.0 ii,kplay-dep 1.0 ii,kplay-extra  un,kplay-hello 1.0 ii,kplay-lib 2.0 ii,kplay-old 1.0 ii,kplay-rec 1.0 ii'],
    ['upgrade.yml', { changed: 2, ok: 4 }, 'kplay-conf 1.0 ii,kplay-dep 1.0 ii,kplay-extra  un,kplay-hello 1.1 ii,kplay-lib 2.0 ii,kplay-old 2.0 ii,kplay-rec 1.0 ii'],
    ['remove.yml', { changed: 6, ok: 6 }, 'kplay-hello 1.1 ii,kplay-old 2.0 ii'],
  ];
  const kplayPackagesOn = async (h: string) =>
    (await onHost(lab, h, KPLAY_PACKAGES)).split('\n').map((l) => l.trim()).filter((l) => l !== '').sort().join(',');
  for (const [playbook, counts, kplayPackages] of phases) {
    await t.test(playbook, async (t) => {
      const before = await state(mine);
      const check = await run(playbook, '--check');
      t.equal(check.code, 0, check.stderr + check.stdout.slice(-2000));
      t.same(await state(mine), before, '--check left packages and sources as they were');

      const first = await run(playbook);
      t.equal(first.code, 0, first.stderr + first.stdout.slice(-2000));
      t.equal(first.recap?.[mine]?.changed, check.recap?.[mine]?.changed, '--check predicted the changed count exactly');
      t.match(first.recap?.[mine], counts, 'changed and ok counts');
      t.equal(await kplayPackagesOn(mine), kplayPackages, 'the test packages installed, upgraded and removed on the host');

      const ansible = await oracle(playbook);
      t.equal(ansible.code, 0, ansible.stdout.slice(-3000) + ansible.stderr);
      const recap = (r: { ok: number; changed: number; failed: number; skipped: number; unreachable: number } | undefined) =>
        r && { ok: r.ok, changed: r.changed, failed: r.failed, skipped: r.skipped, unreachable: r.unreachable };
      t.same(recap(ansible.recap[theirs]), recap(first.recap?.[mine]), 'the same recap as Ansible');
      t.ok(ansible.recap[theirs], 'Ansible ran');
      // --diff of each apt task: apt-get's "prepared" text, as Ansible shows it from its real run.
      const aptTasks = new Set(first.events.flatMap((e) => (e.type === 'result' && e.task.module === 'apt' ? [e.task.name] : [])));
      const prepared = (d: unknown): string => (d && typeof d === 'object' && 'prepared' in d ? String((d as { prepared: unknown }).prepared) : '');
      const theirDiffs = ansible.tasks.filter((x) => aptTasks.has(x.task.name)).map((x) => [x.task.name, prepared(x.hosts[theirs]?.diff)]);
      const myDiffs = first.events.flatMap((e) =>
        e.type === 'result' && e.task.module === 'apt' ? [[e.task.name, prepared((e.result as { diff?: unknown } | undefined)?.diff)]] : [],
      );
      t.same(myDiffs, theirDiffs, "each apt task's --diff is Ansible's prepared text");
      const [a, b] = [await state(mine), await state(theirs)];
      t.equal(a.packages, b.packages, 'the same packages, versions and states as after Ansible (dpkg-query -W)');
      t.equal(a.sources, b.sources, 'the same apt sources as after Ansible');

      const second = await run(playbook);
      t.equal(second.code, 0, second.stderr);
      t.equal(second.recap?.[mine]?.changed, 0, 'a second run changes nothing');
      const again = await oracle(playbook);
      t.equal(again.recap[theirs]?.changed, 0, 'nor does Ansible');
    });
  }

  await t.test('package_facts: the same facts as Ansible (but origin)', async (t) => {
    const mineFacts = await run('facts.yml');
    t.equal(mineFacts.code, 0, mineFacts.stderr);
    const event = mineFacts.events.find((e) => e.type === 'result' && e.host === mine);
    const result = (event && 'result' in event ? event.result : {}) as { ansible_facts?: { packages?: Record<string, Record<string, unknown>[]> } };
    const ours = result.ansible_facts?.packages ?? {};
    const json = await ansiblePlaybook([join(FIXTURES, 'facts.yml'), '-i', lab.inventoryPath, '-l', theirs], cwd);
    t.equal(json.code, 0, json.stderr);
    const theirsFacts = (json.tasks[0]?.hosts[theirs]?.ansible_facts?.packages ?? {}) as Record<string, Record<string, unknown>[]>;
    const strip = (facts: Record<string, Record<string, unknown>[]>) =>
      Object.fromEntries(Object.entries(facts).map(([name, list]) => [name, list.map(({ origin: _origin, ...rest }) => rest)]));
    t.ok(Object.keys(ours).length > 100, 'every installed package');
    t.same(strip(ours), strip(theirsFacts), 'name, version, arch, category and source of every package');
    t.same(ours['kplay-hello'], [{ name: 'kplay-hello', version: '1.1', arch: 'all', category: 'misc', source: 'apt' }]);
  });

  await t.test('files the packages put on the host', async (t) => {
    t.equal(await onHost(lab, mine, 'cat /usr/share/kplay-hello/version'), '1.1\n');
    t.equal(await onHost(lab, mine, 'test -e /etc/kplay-conf.conf && echo kept || echo purged'), 'purged\n');
    t.match(await onHost(lab, mine, 'apt-cache policy kplay-hello'), /Installed: 1\.1/);
  });
});
