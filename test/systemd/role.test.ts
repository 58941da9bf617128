// Issue 4 through the real CLI on real systemd hosts: a role templates a notify service's unit, reloads systemd,
// enables and starts it; --check on fresh hosts predicts the run exactly and changes nothing; a second run changes
// nothing; one changed flag restarts the service exactly once.

import t from 'tap';
import { join } from 'node:path';
import { kplay, REPO } from '../helpers/kplay.ts';
import { sshRun, startControllers, type Lab } from '../lab/nspawn.ts';

const FIXTURE = join(REPO, 'test/systemd/fixtures');

async function onHost(lab: Lab, host: string, command: string): Promise<string> {
  const r = await sshRun(lab, host, command);
  if (r.rc !== 0 && r.rc !== 3) throw new Error(`${host}: ${command}: ${r.stderr}`);
  return r.stdout.trim();
}

/** What a host looks like: its files where tasks write, and the state of every unit. */
const SNAPSHOT =
  'find /etc /usr/local /opt -xdev \\( -type f -o -type l -o -type d \\) -printf "%p %m %s %l\\n" 2>/dev/null | sort | sha256sum; ' +
  'systemctl list-unit-files --no-legend --no-pager | sort; systemctl list-units --all --no-legend --no-pager --plain | awk \'{print $1, $3}\' | sort';

t.test('a systemd service role on real systemd hosts', async (t) => {
  const lab = await startControllers({ count: 3, replace: true });
  t.teardown(() => lab.stop());
  const hosts = lab.hosts.map((h) => h.name);
  const run = (...args: string[]) =>
    kplay(['run', join(FIXTURE, 'site.yml'), '-i', lab.inventoryPath, '--output', 'json', ...args], { cwd: t.testdir({}) });
  const changed = (recap: Awaited<ReturnType<typeof run>>['recap']) => Object.fromEntries(hosts.map((h) => [h, recap?.[h]?.changed]));
  const failed = (recap: Awaited<ReturnType<typeof run>>['recap']) => hosts.reduce((n, h) => n + (recap?.[h]?.failed ?? 1), 0);

  const before = await Promise.all(hosts.map((h) => onHost(lab, h, SNAPSHOT)));
  const check = await run('--check');
  t.equal(check.code, 0, check.stderr + check.stdout.slice(-1500));
  t.equal(failed(check.recap), 0, 'no task failed in --check');
  const after = await Promise.all(hosts.map((h) => onHost(lab, h, SNAPSHOT)));
  t.same(after, before, '--check left every host as it was: files and unit states');

  const first = await run();
  t.equal(first.code, 0, first.stderr + first.stdout.slice(-1500));
  t.same(changed(first.recap), changed(check.recap), '--check predicted the changed count of the real run on every host');
  t.same(changed(first.recap), Object.fromEntries(hosts.map((h) => [h, 4])), 'program, unit, start, and the handler');
  for (const h of hosts) {
    t.equal(await onHost(lab, h, 'systemctl is-active kplay-demo'), 'active', `${h}: active`);
    t.equal(await onHost(lab, h, 'systemctl is-enabled kplay-demo'), 'enabled', `${h}: enabled`);
    t.equal(await onHost(lab, h, 'systemctl show kplay-demo -p StatusText --value'), 'serving --greeting=hello --port=8080');
  }

  const second = await run();
  t.equal(second.code, 0, second.stderr);
  t.same(changed(second.recap), Object.fromEntries(hosts.map((h) => [h, 0])), 'the second run changes nothing');

  const startedAt = await Promise.all(hosts.map((h) => onHost(lab, h, 'systemctl show kplay-demo -p ExecMainStartTimestampMonotonic --value')));
  const starts = await Promise.all(hosts.map((h) => onHost(lab, h, 'journalctl -u kplay-demo --no-pager -o cat | grep -c "^Started"')));
  const third = await run('-e', 'demo_port=9090');
  t.equal(third.code, 0, third.stderr);
  // The unit file, the daemon-reload systemd then needs (the systemd task reports it), and the handler's restart.
  t.same(changed(third.recap), Object.fromEntries(hosts.map((h) => [h, 3])), 'one flag: the unit, its reload and one restart, nothing else');
  const changedTasks = third.events.flatMap((e) => (e.type === 'result' && e.status === 'changed' && e.host === hosts[0] ? [e.task.name] : []));
  t.same(changedTasks, ['Its unit', 'Enabled and running', 'restart demo']);
  const restarts = third.events.filter((e) => e.type === 'result' && e.task.handler && e.status === 'changed');
  t.same(restarts.map((e) => (e.type === 'result' ? e.host : '')).sort(), [...hosts].sort(), 'the handler ran once per host');
  for (const [i, h] of hosts.entries()) {
    const now = await onHost(lab, h, 'systemctl show kplay-demo -p ExecMainStartTimestampMonotonic --value');
    t.ok(Number(now) > Number(startedAt[i]), `${h}: the service was restarted (start time moved)`);
    const startsNow = await onHost(lab, h, 'journalctl -u kplay-demo --no-pager -o cat | grep -c "^Started"');
    t.equal(Number(startsNow), Number(starts[i]) + 1, `${h}: started exactly once more`);
    t.equal(await onHost(lab, h, 'systemctl show kplay-demo -p StatusText --value'), 'serving --greeting=hello --port=9090');
  }
});
