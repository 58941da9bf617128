// getent, service_facts, include_vars, pause, modprobe and reboot on a real systemd host through the real CLI: the
// facts and variables they give later tasks, the files modprobe keeps for boot, a clear error where a container
// cannot load a kernel module, and a reboot the run waits for and goes on after, over a new connection.

import t from 'tap';
import { join } from 'node:path';
import { kplayRun, onHost, startSysLab } from './lab.ts';

const PLAYBOOK = join(import.meta.dirname, 'fixtures/host.yml');
const HOST = 'controller-0';

t.test('host modules on a systemd host', async (t) => {
  const lab = await startSysLab('sysmod', 1);
  t.teardown(() => lab.stop());
  const cwd = t.testdir({});
  const SNAPSHOT = 'cat /proc/sys/kernel/random/boot_id; find /etc /root -xdev -printf "%p %m %s\\n" 2>/dev/null | sort | sha256sum';

  const fresh = await onHost(lab, HOST, SNAPSHOT);
  const check = await kplayRun(lab, PLAYBOOK, ['--check', '--diff'], cwd);
  t.equal(check.code, 0, 'kplay --check exits 0', { output: check.code === 0 ? '' : check.stderr + check.stdout.slice(-2000) });
  t.equal(await onHost(lab, HOST, SNAPSHOT), fresh, '--check wrote nothing and did not reboot the host');
  const diffs = check.events.flatMap((e) => (e.type === 'result' && e.diff ? e.diff.map((d) => d.path) : []));
  t.ok(diffs.includes('/etc/modules-load.d/dummy.conf') && diffs.includes('/etc/modprobe.d/dummy.conf'), "--diff shows modprobe's files");

  const first = await kplayRun(lab, PLAYBOOK, [], cwd);
  t.equal(first.code, 0, 'kplay exits 0', { output: first.code === 0 ? '' : first.stderr + first.stdout.slice(-3000) });
  t.equal(first.recap?.[HOST]?.changed, check.recap?.[HOST]?.changed, '--check predicted the changed count');
  t.same({ changed: first.recap?.[HOST]?.changed, ignored: first.recap?.[HOST]?.ignored }, { changed: 4, ignored: 1 }, 'modprobe files, facts file, reboot, reboot file; the load ignored');

  const facts = JSON.parse(await onHost(lab, HOST, 'cat /root/facts.json')) as Record<string, unknown>;
  t.same(facts, {
    root_home: '/root',
    root_shell: '/bin/bash',
    missing: null,
    ssh: 'running',
    ssh_status: 'enabled',
    nginx: 'systemd',
    port: 8080,
    users: ['alice', 'bob'],
    bundle: { app_port: 8080, app_users: ['alice', 'bob'], app_mode: 'production' },
    load: 'modprobe is not installed on the host (Debian: the kmod package), so the module cannot be loaded or unloaded',
  }, 'getent, service_facts and include_vars gave later tasks their values; modprobe failed clearly');
  t.equal(await onHost(lab, HOST, 'cat /etc/modules-load.d/dummy.conf /etc/modprobe.d/dummy.conf'), 'dummy\noptions dummy numdummies=2\n', 'the boot files');
  t.same(JSON.parse(await onHost(lab, HOST, 'cat /root/reboot.json')), { rebooted: true, elapsed: 'number', boot_changed: true }, 'rebooted, and the run went on after it');
  t.not((await onHost(lab, HOST, SNAPSHOT)).split('\n')[0], fresh.split('\n')[0], 'the host has a new boot id');

  const second = await kplayRun(lab, PLAYBOOK, [], cwd);
  t.equal(second.code, 0, 'the second run exits 0', { output: second.stderr });
  t.equal(second.recap?.[HOST]?.changed, 1, 'the second run changes nothing but the reboot (always a change, as in Ansible)');
});
