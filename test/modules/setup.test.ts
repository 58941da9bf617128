import t from 'tap';
import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import setup, { FACTS_SCRIPT, parseFacts } from '../../engine/modules/setup.ts';
import { CountingConnection, makeContext, runModule } from './context.ts';

const sh = (command: string): string => execSync(command, { shell: '/bin/sh' }).toString().trim();

t.test('setup gathers this machine facts in one exec', async (t) => {
  const conn = new CountingConnection();
  const out = await runModule(setup, {}, makeContext({ conn }));
  t.same(conn.calls, ['exec']);
  t.equal(out.changed, false);
  const facts = out.plan.facts as Record<string, unknown>;
  const f = facts.ansible_facts as Record<string, unknown>;
  t.equal(f.hostname, sh('hostname -s'));
  t.equal(facts.ansible_hostname, f.hostname);
  t.equal(f.fqdn, sh('hostname -f'));
  t.equal(f.architecture, sh('uname -m'));
  t.equal(f.kernel, sh('uname -r'));
  t.equal(f.os_family, 'Debian');
  t.equal(f.distribution, 'Debian');
  t.equal(f.distribution_major_version, sh('. /etc/os-release; echo $VERSION_ID'));
  t.equal(f.distribution_release, sh('. /etc/os-release; echo $VERSION_CODENAME'));
  t.equal(f.processor_vcpus, cpus().length);
  t.equal(f.memtotal_mb, Math.floor(totalmem() / 1024 / 1024));
  t.equal(f.service_mgr, sh('cat /proc/1/comm') === 'systemd' ? 'systemd' : 'sysvinit');
  t.equal(f.user_id, 'root');
  t.ok(Math.abs(Number((f.date_time as Record<string, string>).epoch) - Date.now() / 1000) < 60);
  const [, , gateway, , iface] = sh('ip -4 route show default').split(/\s+/);
  const address = sh(`ip -o -4 addr show dev ${iface}`).split(/\s+/)[3].split('/')[0];
  t.match(f.default_ipv4, { interface: iface, gateway, address });
  t.ok((f.all_ipv4_addresses as string[]).includes(address));
  t.ok((f.interfaces as string[]).includes(iface));
  t.same(facts.ansible_default_ipv4, f.default_ipv4);
});

t.test('without iproute2 the network facts come from /proc', async (t) => {
  const withIp = parseFacts(sh(FACTS_SCRIPT));
  // A shell function that fails shadows the ip command, as on a host without iproute2.
  const withoutIp = parseFacts(sh(`ip() { return 127; }\n${FACTS_SCRIPT}`));
  t.same(withoutIp.default_ipv4, withIp.default_ipv4);
  const sorted = (list: unknown): string[] => [...(list as string[])].sort();
  t.same(sorted(withoutIp.all_ipv4_addresses), sorted(withIp.all_ipv4_addresses), 'the same addresses (interface order may differ)');
});

t.test('filter keeps matching facts only', async (t) => {
  const out = await runModule(setup, { filter: ['ansible_*_mb'] }, makeContext());
  t.same(Object.keys((out.plan.facts as Record<string, Record<string, unknown>>).ansible_facts).sort(), ['memfree_mb', 'memtotal_mb', 'swapfree_mb', 'swaptotal_mb']);
});
