// Issue 14, acceptance 1, on three real systemd hosts with the stand-ins served from a release mirror: master.yml with
// kube_control_plane_mode: static-pods runs kube-apiserver, kube-controller-manager and kube-scheduler as static pods
// of the (stand-in) kubelet. --check on fresh hosts predicts the first run exactly (counts and changed tasks), every
// component is healthy (its own health endpoint, kubectl, /healthz through nginx), a second run changes nothing, one
// apiserver setting rewrites one manifest per host and the kubelet restarts that pod once and nothing else; switching
// to systemd and back (with etcd as a static pod too) leaves the other form nowhere.

import t from 'tap';
import { join } from 'node:path';
import { REPO, type KplayResult } from '../helpers/kplay.ts';
import { loadFlagTable } from '../../roles/kube-common/lib/flag-table.ts';
import { run } from '../lab/nspawn.ts';
import { HEALTH_HOST, changedBy, failedIn, startControlPlaneLab, type ControlPlaneLab } from './control-plane-lab.ts';

const NEWEST = `${loadFlagTable().newest}.0`;
const PODS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
const PORTS: Record<string, number> = { 'kube-apiserver': 6443, 'kube-controller-manager': 10257, 'kube-scheduler': 10259 };
const PKI = '/var/lib/kubernetes/pki';

/** Per host, the tasks that changed (a loop's items each once), in the order they ran there (hosts run in parallel). */
function changedTasks(hosts: string[], r: KplayResult): Record<string, string[]> {
  const tasks: Record<string, string[]> = Object.fromEntries(hosts.map((h) => [h, []]));
  for (const e of r.events) {
    if (e.type === 'result' && e.status === 'changed') tasks[e.host]?.push(`${e.task.name}${e.item === undefined ? '' : ` ${JSON.stringify(e.item)}`}`);
  }
  return tasks;
}

/** The kubelet's `static pod started` lines for one pod on a host. */
async function starts(cpl: ControlPlaneLab, host: string, pod: string): Promise<number> {
  const journal = await cpl.onHost(host, 'journalctl -u kubelet --no-pager -o cat');
  return journal.split('\n').filter((l) => l.startsWith(`static pod started: kube-system/${pod}-${host} `)).length;
}

/** PID of the process listening on each component's port. */
async function podPids(cpl: ControlPlaneLab, host: string): Promise<Record<string, string>> {
  const pids: Record<string, string> = {};
  for (const pod of PODS) pids[pod] = /pid=(\d+)/.exec(await cpl.onHost(host, `ss -Hltnp 'sport = :${PORTS[pod]}'`))?.[1] ?? '';
  return pids;
}

t.test('playbooks/master.yml with kube_control_plane_mode: static-pods on three controllers', async (t) => {
  const cpl = await startControlPlaneLab({ count: 3, versions: [NEWEST], dir: t.testdir({}), binaries: 'mirror', example: join(REPO, 'inventory/three-masters.yml') });
  t.teardown(() => cpl.stop());
  const { hosts } = cpl;
  const none = Object.fromEntries(hosts.map((h) => [h, 0]));
  // The lab's part, not the role's: the stand-in kubelet "pulls" a component's image from the mirror.
  for (const h of hosts) {
    await cpl.onHost(h, `mkdir -p /etc/systemd/system/kubelet.service.d && printf '[Service]\\nEnvironment=STANDIN_IMAGE_MIRROR=${cpl.mirror.url}\\n' > /etc/systemd/system/kubelet.service.d/standin.conf`);
  }
  const staticPods = { kube_control_plane_mode: 'static-pods' };
  await cpl.setVars(staticPods);

  const check = await cpl.run('--check');
  t.equal(check.code, 0, check.stderr + check.stdout.slice(-2000));
  t.equal(failedIn(hosts, check), 0, 'no task failed in --check');
  t.equal(await cpl.onHost(hosts[0], 'ls /etc/kubernetes/manifests 2>/dev/null | wc -l'), '0', '--check wrote no manifest');

  const first = await cpl.run();
  t.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));
  t.same(changedBy(hosts, first), changedBy(hosts, check), '--check on fresh hosts predicted the changed counts exactly');
  const predicted = changedTasks(hosts, check);
  t.same(changedTasks(hosts, first), predicted, '--check predicted the changed tasks of each host, in order');
  for (const h of hosts) t.ok(PODS.every((pod) => predicted[h].includes(`${pod}'s static pod manifest`)), `${h}: the three manifests among them`);

  await t.test('every component is healthy, as a static pod', async (t) => {
    for (const h of hosts) {
      t.equal(await cpl.onHost(h, 'systemctl is-active kubelet'), 'active', `${h}: kubelet active`);
      for (const pod of PODS) {
        t.equal(await cpl.onHost(h, `ls /etc/systemd/system/${pod}.service 2>/dev/null | wc -l`), '0', `${h}: no ${pod} unit`);
        t.equal(await starts(cpl, h, pod), 1, `${h}: the kubelet started ${pod} once`);
      }
      t.equal(await cpl.onHost(h, `curl -sS --cacert ${PKI}/ca.pem https://127.0.0.1:6443/livez`), 'ok', `${h}: kube-apiserver /livez`);
      t.equal(await cpl.onHost(h, `curl -sS --cacert ${PKI}/ca.pem https://127.0.0.1:6443/readyz`), 'ok', `${h}: kube-apiserver /readyz`);
      t.equal(await cpl.onHost(h, 'curl -sSk https://127.0.0.1:10257/healthz'), 'ok', `${h}: kube-controller-manager /healthz`);
      t.equal(await cpl.onHost(h, 'curl -sSk https://127.0.0.1:10259/healthz'), 'ok', `${h}: kube-scheduler /healthz`);
      const pids = await podPids(cpl, h);
      for (const pod of PODS) t.match(pids[pod], /^\d+$/, `${h}: ${pod} listens on ${PORTS[pod]}`);
      const address = cpl.lab.hosts.find((x) => x.name === h)!.address;
      const health = await run('curl', ['-sS', '-w', ' %{http_code}', '-H', `Host: ${HEALTH_HOST}`, `http://${address}/healthz`]);
      t.equal(health.stdout, 'ok 200', `${h}: /healthz through nginx answers 200 ok`);
      const kubectl = await run('kubectl', ['--kubeconfig', join(cpl.pkiDir, 'admin.kubeconfig'), '--server', `https://${address}:6443`, 'get', 'clusterrole', 'system:kube-apiserver-to-kubelet', '-o', 'name']);
      t.equal(kubectl.stdout.trim(), 'clusterrole.rbac.authorization.k8s.io/system:kube-apiserver-to-kubelet', `${h}: kubectl get through its API server ${kubectl.stderr}`);
    }
  });

  await t.test('a second run changes nothing', async (t) => {
    const second = await cpl.run();
    t.equal(second.code, 0, second.stderr + second.stdout.slice(-1500));
    t.same(changedBy(hosts, second), none);
  });

  await t.test('one apiserver setting: one manifest per host, the kubelet restarts that pod once, nothing else', async (t) => {
    const before = await Promise.all(hosts.map((h) => podPids(cpl, h)));
    await cpl.setVars({ ...staticPods, kube_apiserver_extra_flags: { '--event-ttl': '2h' } });
    const r = await cpl.run();
    t.equal(r.code, 0, r.stderr + r.stdout.slice(-1500));
    t.same(changedBy(hosts, r), Object.fromEntries(hosts.map((h) => [h, 1])), 'one change per host');
    t.same(changedTasks(hosts, r), Object.fromEntries(hosts.map((h) => [h, ["kube-apiserver's static pod manifest"]])), 'the manifest, and no handler');
    for (const [i, h] of hosts.entries()) {
      t.equal(await starts(cpl, h, 'kube-apiserver'), 2, `${h}: kube-apiserver started once more`);
      const after = await podPids(cpl, h);
      t.not(after['kube-apiserver'], before[i]['kube-apiserver'], `${h}: a new kube-apiserver process`);
      for (const pod of ['kube-controller-manager', 'kube-scheduler']) {
        t.equal(after[pod], before[i][pod], `${h}: ${pod} not restarted`);
        t.equal(await starts(cpl, h, pod), 1, `${h}: ${pod} started once in all`);
      }
      t.match(await cpl.onHost(h, "tr '\\0' ' ' < /proc/$(ss -Hltnp 'sport = :6443' | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2)/cmdline"), / --event-ttl=2h /, `${h}: the running API server has the new flag`);
    }
  });

  await t.test('switching to systemd and back (etcd too) leaves the other form nowhere', async (t) => {
    const toSystemd = await cpl.run('-e', 'kube_control_plane_mode=systemd');
    t.equal(toSystemd.code, 0, toSystemd.stderr + toSystemd.stdout.slice(-2000));
    for (const h of hosts) {
      t.equal(await cpl.onHost(h, 'ls /etc/kubernetes/manifests | wc -l'), '0', `${h}: no manifest left`);
      for (const pod of PODS) t.equal(await cpl.onHost(h, `systemctl is-active ${pod}`), 'active', `${h}: ${pod} unit active`);
      t.match(await cpl.onHost(h, 'journalctl -u kubelet --no-pager -o cat'), new RegExp(`^static pod stopped: kube-system/kube-apiserver-${h} `, 'm'), `${h}: the kubelet stopped the pod`);
    }
    // Back to static pods, and etcd too (kubeadm's stacked etcd): its members move from their unit to a pod, data kept.
    const back = await cpl.run('-e', 'etcd_mode=static-pod');
    t.equal(back.code, 0, back.stderr + back.stdout.slice(-2000));
    for (const h of hosts) {
      for (const pod of [...PODS, 'etcd']) {
        t.equal(await cpl.onHost(h, `ls /etc/systemd/system/${pod}.service 2>/dev/null | wc -l`), '0', `${h}: ${pod} unit removed`);
        t.equal(await cpl.onHost(h, `systemctl is-active ${pod}`), 'inactive', `${h}: ${pod} unit stopped`);
      }
      t.equal(await starts(cpl, h, 'etcd'), 1, `${h}: the kubelet started etcd`);
      t.match(await cpl.onHost(h, 'curl -sS http://127.0.0.1:2381/health'), /"health": ?"true"/, `${h}: etcd healthy on its probe port`);
      t.equal(await cpl.onHost(h, 'curl -sSk https://127.0.0.1:10259/healthz'), 'ok', `${h}: kube-scheduler healthy as a pod again`);
    }
    const config = await cpl.onHost(hosts[1], `ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=${PKI}/etcd-ca.pem --cert=${PKI}/apiserver-etcd-client.pem --key=${PKI}/apiserver-etcd-client-key.pem get /coreos.com/network/config --print-value-only`);
    t.match(JSON.parse(config), { Network: '10.200.0.0/16' }, "etcd as pods kept the cluster's data (flannel's network config)");
    const kubectl = await run('kubectl', ['--kubeconfig', join(cpl.pkiDir, 'admin.kubeconfig'), '--server', 'https://10.240.0.12:6443', 'get', 'clusterrole', 'system:kube-apiserver-to-kubelet', '-o', 'name']);
    t.equal(kubectl.stdout.trim(), 'clusterrole.rbac.authorization.k8s.io/system:kube-apiserver-to-kubelet', kubectl.stderr);
    const again = await cpl.run('-e', 'etcd_mode=static-pod');
    t.same(changedBy(hosts, again), none, 'and the next run changes nothing');
  });
});
