// The systemd module against real systemd hosts (nspawn lab): plans read the unit, apply changes only what differs,
// and an independent `ssh ... systemctl` confirms what the host really runs.

import t from 'tap';
import type { Connection } from '../../engine/connection/connection.ts';
import { PlannedConnection } from '../../engine/connection/planned.ts';
import copy from '../../engine/modules/copy.ts';
import systemd from '../../engine/modules/systemd.ts';
import { openSsh, sshRun, startControllers, type Lab } from '../lab/nspawn.ts';
import { makeContext, runModule, type Outcome } from '../modules/context.ts';

/** One task as the runner runs it (args checked and coerced, plan, apply unless --check). */
const converge = (conn: Connection, args: Record<string, unknown>, check = false): Promise<Outcome> =>
  runModule(systemd, args, makeContext({ conn, check, diff: false }));

// A Type=notify service that tells systemd it is ready, then idles.
const SCRIPT = '#!/bin/sh\nsystemd-notify --ready --status="serving"\nexec sleep infinity\n';
const unit = (description: string): string =>
  `[Unit]\nDescription=${description}\n\n[Service]\nType=notify\nExecStart=/usr/local/bin/kplay-demo\n\n[Install]\nWantedBy=multi-user.target\n`;

async function writeUnit(lab: Lab, host: string, description: string): Promise<void> {
  const r = await sshRun(
    lab,
    host,
    `printf '%s' '${SCRIPT}' > /usr/local/bin/kplay-demo && chmod 755 /usr/local/bin/kplay-demo && ` +
      `printf '%s' '${unit(description)}' > /etc/systemd/system/kplay-demo.service`,
  );
  if (r.rc !== 0) throw new Error(r.stderr);
}

const onHost = async (lab: Lab, host: string, command: string): Promise<string> => (await sshRun(lab, host, command)).stdout.trim();

t.test('systemd module on real systemd hosts', async (t) => {
  const lab = await startControllers({ count: 2, replace: true });
  t.teardown(() => lab.stop());
  const hosts = lab.hosts.map((h) => h.name);
  const conns = new Map(await Promise.all(hosts.map(async (h) => [h, await openSsh(lab, h)] as const)));
  t.teardown(() => Promise.all([...conns.values()].map((c) => c.close())));
  const conn = conns.get('controller-0')!;

  await t.test('daemon_reload + enable + start a new notify service, on every host', async (t) => {
    await Promise.all(hosts.map((h) => writeUnit(lab, h, 'kplay demo')));
    const plans = await Promise.all(
      hosts.map((h) => converge(conns.get(h)!, { name: 'kplay-demo', daemon_reload: true, enabled: true, state: 'started' })),
    );
    for (const [i, outcome] of plans.entries()) {
      t.equal(outcome.changed, true, `${hosts[i]} changed`);
      t.match(outcome.plan.msg, /enable kplay-demo, start kplay-demo/);
      t.equal(await onHost(lab, hosts[i], 'systemctl is-active kplay-demo'), 'active');
      t.equal(await onHost(lab, hosts[i], 'systemctl is-enabled kplay-demo'), 'enabled');
      t.equal(await onHost(lab, hosts[i], 'systemctl show kplay-demo -p StatusText --value'), 'serving');
    }
  });

  await t.test('the same task again changes nothing', async (t) => {
    const again = await converge(conn, { name: 'kplay-demo', daemon_reload: true, enabled: true, state: 'started' });
    t.equal(again.changed, false);
    t.match(again.result, { name: 'kplay-demo', state: 'started', enabled: true, status: { ActiveState: 'active', SubState: 'running' } });
  });

  await t.test('an edited unit file is reloaded only when systemd says it needs it', async (t) => {
    await writeUnit(lab, 'controller-0', 'kplay demo, edited');
    const reload = await converge(conn, { name: 'kplay-demo', daemon_reload: true, state: 'started' });
    t.equal(reload.changed, true);
    t.equal(reload.plan.msg, 'daemon-reload');
    t.equal(await onHost(lab, 'controller-0', 'systemctl show kplay-demo -p Description --value'), 'kplay demo, edited');
    t.equal((await converge(conn, { name: 'kplay-demo', daemon_reload: true, state: 'started' })).changed, false);
  });

  await t.test('restarted always changes and gives a new main process', async (t) => {
    const before = await onHost(lab, 'controller-0', 'systemctl show kplay-demo -p MainPID --value');
    const restart = await converge(conn, { name: 'kplay-demo', state: 'restarted' });
    t.equal(restart.changed, true);
    t.equal(restart.plan.msg, 'restart kplay-demo');
    const after = await onHost(lab, 'controller-0', 'systemctl show kplay-demo -p MainPID --value');
    t.not(after, before);
    t.not(after, '0');
  });

  await t.test('stopped, then disabled', async (t) => {
    t.equal((await converge(conn, { name: 'kplay-demo', state: 'stopped' })).changed, true);
    t.equal(await onHost(lab, 'controller-0', 'systemctl is-active kplay-demo'), 'inactive');
    t.equal((await converge(conn, { name: 'kplay-demo', state: 'stopped' })).changed, false);
    const disable = await converge(conn, { name: 'kplay-demo', enabled: false });
    t.equal(disable.plan.msg, 'disable kplay-demo');
    t.equal(await onHost(lab, 'controller-0', 'systemctl is-enabled kplay-demo'), 'disabled');
    // The other host was not touched.
    t.equal(await onHost(lab, 'controller-1', 'systemctl is-active kplay-demo'), 'active');
  });

  await t.test('masked units cannot start; unmask restores them', async (t) => {
    // A vendor unit (etcd's, in /lib): systemd cannot mask a unit whose own file is in /etc.
    t.equal((await converge(conn, { name: 'etcd', masked: true })).changed, true);
    t.equal(await onHost(lab, 'controller-0', 'systemctl is-enabled etcd'), 'masked');
    t.not((await sshRun(lab, 'controller-0', 'systemctl start etcd')).rc, 0);
    t.equal((await converge(conn, { name: 'etcd', masked: true })).changed, false);
    const unmask = await converge(conn, { name: 'etcd', masked: false, enabled: false });
    t.equal(unmask.plan.msg, 'unmask etcd');
    t.equal(await onHost(lab, 'controller-0', 'systemctl is-enabled etcd'), 'disabled');
  });

  await t.test('check mode plans a unit that an earlier task would write, and touches nothing', async (t) => {
    // The runner's --check overlay: the copy task's planned file is what the systemd task then sees.
    const planned = new PlannedConnection(conn);
    const write = await runModule(copy, { content: unit('kplay later'), dest: '/etc/systemd/system/kplay-later.service' }, makeContext({ conn: planned, check: true }));
    t.equal(write.changed, true);
    planned.record(write.plan.effects);
    const wanted = { name: 'kplay-later', daemon_reload: true, enabled: true, state: 'started' };
    const later = await converge(planned, wanted, true);
    t.equal(later.changed, true);
    t.equal(later.plan.msg, 'daemon-reload, enable kplay-later, start kplay-later');
    t.match(later.result, { name: 'kplay-later', state: 'started', enabled: true });
    t.equal(await onHost(lab, 'controller-0', 'systemctl show kplay-later -p LoadState --value'), 'not-found');
    t.equal((await sshRun(lab, 'controller-0', 'test -e /etc/systemd/system/kplay-later.service')).rc, 1, 'no unit file written');
    // An existing unit whose file a template would change: the real run would need daemon-reload, so --check says so.
    const edit = await runModule(copy, { content: unit('kplay demo, planned'), dest: '/etc/systemd/system/kplay-demo.service' }, makeContext({ conn: planned, check: true }));
    planned.record(edit.plan.effects);
    const reload = await converge(planned, { name: 'kplay-demo', daemon_reload: true, state: 'stopped' }, true);
    t.equal(reload.plan.msg, 'daemon-reload');
    t.equal((await converge(conn, { name: 'kplay-demo', daemon_reload: true, state: 'stopped' }, true)).changed, false);
    // Without the earlier task, the same check fails as a real run would.
    await t.rejects(converge(conn, wanted, true), { message: 'Could not find the requested service kplay-later' });
  });

  await t.test('a unit that exists nowhere fails as in Ansible', async (t) => {
    await t.rejects(converge(conn, { name: 'no-such-unit', state: 'started' }), { message: 'Could not find the requested service no-such-unit' });
  });

  await t.test('real units of the base: nginx runs, etcd is installed but stopped', async (t) => {
    t.equal((await converge(conn, { name: 'nginx', state: 'started', enabled: true })).changed, false);
    const etcd = await converge(conn, { name: 'etcd', state: 'started' }, true);
    t.equal(etcd.changed, true);
    t.equal(etcd.plan.msg, 'start etcd');
    t.equal(await onHost(lab, 'controller-0', 'systemctl is-active etcd'), 'inactive', '--check started nothing');
  });
});
