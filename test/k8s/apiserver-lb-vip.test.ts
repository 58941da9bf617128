// Issue 14, the HA front's virtual address on three real systemd hosts: playbooks/master.yml with the front on each
// controller and kube_apiserver_lb_vip, so roles/apiserver-lb runs keepalived (Debian's) over unicast VRRP. --check
// --diff on fresh hosts predicts the first run and never shows VRRP's password; the address is on exactly one host, in
// the API server certificate and the admin kubeconfig; kubectl through it answers; it moves when the holder's front
// fails (nginx stopped: the track script fails) and when the holder's keepalived stops, and kubectl keeps answering;
// it comes back to the first host once that one is healthy again; a second run changes nothing; a changed setting
// rewrites keepalived.conf and reloads keepalived.

import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { kplay, REPO, type KplayResult } from '../helpers/kplay.ts';
import { debsForBase, installDebs } from '../lab/apt-repo.ts';
import { addressInSubnet } from '../lab/net.ts';
import { run } from '../lab/nspawn.ts';
import { loadFlagTable } from '../../roles/kube-common/lib/flag-table.ts';
import { changedBy, failedIn, startControlPlaneLab, type ControlPlaneLab } from './control-plane-lab.ts';

const NEWEST = `${loadFlagTable().newest}.0`;
const WANT = 'clusterrole.rbac.authorization.k8s.io/system:kube-apiserver-to-kubelet';

/** The changed tasks of a run on one host, in order (to show where --check and a run part). */
const changedTasks = (r: KplayResult, host: string): string[] =>
  r.events.flatMap((e) => (e.type === 'result' && e.host === host && e.status === 'changed' ? [e.task.name] : []));

/** The hosts holding the virtual address now. */
async function holders(cpl: ControlPlaneLab, vip: string): Promise<string[]> {
  const held = await Promise.all(cpl.hosts.map((h) => cpl.onHost(h, `ip -o -4 addr show to ${vip}/32`)));
  return cpl.hosts.filter((_h, i) => held[i] !== '');
}

/** What to look at when the address does not answer: each host's addresses, neighbours and keepalived's last words. */
async function vipState(cpl: ControlPlaneLab, vip: string): Promise<string> {
  const machine = await run('ip', ['neigh', 'show', vip]);
  const hosts = await Promise.all(
    cpl.hosts.map((h) => cpl.onHost(h, `ip -br addr show host0; ip -br link show host0; ip neigh show ${vip}; journalctl -u keepalived -n 12 --no-pager -o short-precise`)),
  );
  return [`machine: ${machine.stdout}`, ...hosts.map((text, i) => `${cpl.hosts[i]}:\n${text}`)].join('\n');
}

/**
 * Runs `action` on `from` and measures, on `to`, the seconds until the address is there (both clocks are the
 * machine's: the hosts are containers). Polls on the host itself, 50 ms apart, 400 times at most.
 */
async function moveTime(cpl: ControlPlaneLab, vip: string, from: string, action: string, to: string): Promise<number> {
  const watch = cpl.onHost(
    to,
    `for i in $(seq 400); do ip -o -4 addr show to ${vip}/32 | grep -q . && break; sleep 0.05; done; date +%s.%N`,
  );
  const started = Number(await cpl.onHost(from, `date +%s.%N; ${action}`));
  return Number(await watch) - started;
}

t.test('the front behind a virtual address kept by keepalived', async (t) => {
  // A lab of its own: the machine's default lab is one for every helper and test.
  const cpl = await startControlPlaneLab({ count: 3, versions: [NEWEST], dir: t.testdir({}), binaries: 'mirror', example: join(REPO, 'inventory/three-masters.yml'), name: 'vip' });
  t.teardown(() => cpl.stop());
  const { hosts } = cpl;
  const address = (i: number) => addressInSubnet(cpl.lab.subnet, i);
  const VIP = address(100);
  const FRONT = `https://${VIP}:8443`;
  const debs = [...(await debsForBase('nginx-stream', ['libnginx-mod-stream'])), ...(await debsForBase('keepalived', ['keepalived']))];
  await Promise.all(hosts.map((h) => installDebs(cpl.lab, h, debs)));
  await cpl.setVars({ kube_apiserver_lb_enabled: true, kube_apiserver_lb_vip: VIP });
  const kubectl = () => run('kubectl', ['--kubeconfig', join(cpl.pkiDir, 'admin.kubeconfig'), '--request-timeout=10s', 'get', 'clusterrole', 'system:kube-apiserver-to-kubelet', '-o', 'name']);

  const check = await cpl.run('--check', '--diff');
  t.equal(check.code, 0, check.stderr + check.stdout.slice(-2000));
  t.equal(failedIn(hosts, check), 0, 'no task failed in --check');
  const pass = (await readFile(join(cpl.pkiDir, 'apiserver-lb-vrrp-pass'), 'utf8')).trim();
  t.match(pass, /^[A-Za-z0-9]{8}$/, "VRRP's password was made once on the controller");
  t.equal((await stat(join(cpl.pkiDir, 'apiserver-lb-vrrp-pass'))).mode & 0o777, 0o600, 'and only root reads it');
  t.notOk(check.stdout.includes(pass), '--diff never shows the password');
  t.match(check.stdout, `unicast_src_ip ${address(11)}`, "--diff shows keepalived's configuration");
  const first = await cpl.run();
  t.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));
  t.same(changedBy(hosts, first), changedBy(hosts, check), '--check on fresh hosts predicted the changed count exactly');
  t.same(changedTasks(first, hosts[1]), changedTasks(check, hosts[1]), '--check predicted the changed tasks, in order');
  t.notOk(first.stdout.includes(pass), 'the run never shows the password');

  const conf = await cpl.onHost(hosts[1], 'cat /etc/keepalived/keepalived.conf');
  t.match(conf, /priority 149\n/, 'priorities fall by host order');
  t.match(conf, `unicast_peer {\n        ${address(10)}\n        ${address(12)}\n    }`, 'the other two front hosts are the peers');
  t.match(conf, `${VIP}/32 dev host0`, 'the address goes on the interface holding the host address');
  t.equal(await cpl.onHost(hosts[1], 'stat -c %a /etc/keepalived/kplay-vrrp-auth.conf'), '600', 'the password file is 0600');
  t.match(await cpl.onHost(hosts[1], 'cat /etc/keepalived/kplay-vrrp-auth.conf'), `auth_pass ${pass}\n`);

  t.same(await holders(cpl, VIP), [hosts[0]], 'the address is on exactly one host: the first');
  const server = (parse(await readFile(join(cpl.pkiDir, 'admin.kubeconfig'), 'utf8')) as { clusters: { cluster: { server: string } }[] }).clusters[0].cluster.server;
  t.equal(server, FRONT, 'the admin kubeconfig points at the virtual address');
  const sans = await run('openssl', ['x509', '-in', join(cpl.pkiDir, 'kubernetes.pem'), '-noout', '-ext', 'subjectAltName']);
  t.match(sans.stdout, `IP Address:${VIP}`, 'the API server certificate names the virtual address');
  const through = await kubectl();
  t.equal(through.stdout.trim(), WANT, `kubectl through the virtual address, certificate verified: ${through.stderr}`);

  // The holder's front fails: its track script fails twice and keepalived gives the address up.
  const byFront = await moveTime(cpl, VIP, hosts[0], 'systemctl stop nginx', hosts[1]);
  t.comment(`nginx stopped on ${hosts[0]}: the address was on ${hosts[1]} ${byFront.toFixed(2)} s later`);
  t.ok(byFront < 20, `the address moved to ${hosts[1]}`);
  t.same(await holders(cpl, VIP), [hosts[1]], `the address is on ${hosts[1]} only`);
  for (let i = 0; i < 3; i++) {
    const r = await kubectl();
    t.equal(r.stdout.trim(), WANT, `kubectl ${i + 1} through the address with ${hosts[0]}'s front down: ${r.stderr}`);
  }

  // The new holder's keepalived stops: it says so (priority 0) and the last host takes the address.
  const byKeepalived = await moveTime(cpl, VIP, hosts[1], 'systemctl stop keepalived', hosts[2]);
  t.comment(`keepalived stopped on ${hosts[1]}: the address was on ${hosts[2]} ${byKeepalived.toFixed(2)} s later`);
  t.ok(byKeepalived < 20, `the address moved to ${hosts[2]}`);
  t.same(await holders(cpl, VIP), [hosts[2]], `the address is on ${hosts[2]} only`);
  const last = await kubectl();
  t.equal(last.stdout.trim(), WANT, `kubectl through the address held by ${hosts[2]}: ${last.stderr}`);

  // Healthy again, the first host takes the address back (it has the highest priority).
  const back = await moveTime(cpl, VIP, hosts[0], 'systemctl start nginx', hosts[0]);
  t.comment(`nginx started on ${hosts[0]}: the address was back ${back.toFixed(2)} s later`);
  await cpl.onHost(hosts[1], 'systemctl start keepalived');
  t.same(await holders(cpl, VIP), [hosts[0]], `the address is back on ${hosts[0]} only`);

  const second = await cpl.run();
  t.equal(second.code, 0, second.code === 0 ? 'the second run passes' : `${second.stdout.slice(-1500)}\n${await vipState(cpl, VIP)}`);
  t.same(changedBy(hosts, second), Object.fromEntries(hosts.map((h) => [h, 0])), 'a second run changes nothing');
  const after = await kubectl();
  t.equal(after.stdout.trim(), WANT, `kubectl through the address after the second run: ${after.stderr}`);

  // A setting changes: keepalived.conf is rewritten and keepalived reloaded, not restarted; the address stays put.
  const mainPid = () => Promise.all(hosts.map((h) => cpl.onHost(h, 'systemctl show -p MainPID --value keepalived')));
  const pids = await mainPid();
  await cpl.setVars({ kube_apiserver_lb_enabled: true, kube_apiserver_lb_vip: VIP, apiserver_lb_vip_check_fall: 3 });
  const change = await cpl.run();
  t.equal(change.code, 0, change.stderr + change.stdout.slice(-1500));
  for (const h of hosts) {
    t.same(changedTasks(change, h), [`keepalived's VRRP instance for ${VIP}`, "reload keepalived's configuration"], `${h}: the file, then a reload`);
    t.match(await cpl.onHost(h, 'cat /etc/keepalived/keepalived.conf'), /\n\s+fall 3\n/, `${h}: the new setting is in the file`);
  }
  t.same(await mainPid(), pids, 'the same keepalived processes: reloaded, not restarted');
  t.same(await holders(cpl, VIP), [hosts[0]], `the address stayed on ${hosts[0]}`);
});

// Computed only (kube-common's checks on a local host, as test/k8s/flags.test.ts does): no lab needed.
// The fixture's one controller is 10.240.0.10.
const LOCAL_VIP = '10.240.0.100';
t.test('a bad virtual address is refused by the first role, before any host is changed', async (t) => {
  const fixtures = join(REPO, 'test/k8s/fixtures');
  const check = async (vars: Record<string, unknown>) => {
    const out = join(t.testdir({}), 'flags.json');
    const r = await kplay(['run', join(fixtures, 'flags.yml'), '-i', join(fixtures, 'local-controller.yml'), '-e', `out=${out}`, '-e', JSON.stringify(vars)], { cwd: REPO });
    return { ...r, wrote: existsSync(out) };
  };
  const alone = await check({ kube_apiserver_lb_vip: LOCAL_VIP });
  t.equal(alone.code, 2, alone.stderr);
  t.match(alone.stdout, `kube_apiserver_lb_vip ${LOCAL_VIP} needs kube_apiserver_lb_enabled: true`);
  t.notOk(alone.wrote, 'no later task ran');
  const own = await check({ kube_apiserver_lb_enabled: true, kube_apiserver_lb_vip: '10.240.0.10' });
  t.equal(own.code, 2, "a front host's own address is refused");
  t.match(own.stdout, "must not be a front host's own address (10.240.0.10)");
  const name = await check({ kube_apiserver_lb_enabled: true, kube_apiserver_lb_vip: 'api.example.com' });
  t.equal(name.code, 2, 'a name is refused');
  const ok = await check({ kube_apiserver_lb_enabled: true, kube_apiserver_lb_vip: LOCAL_VIP });
  t.equal(ok.code, 0, ok.code === 0 ? 'a good address passes the check' : ok.stderr + ok.stdout.slice(-1000));
  t.ok(ok.wrote, 'a good address passes');
});
