// Issue 6 on three real systemd hosts, with the stand-ins served from a release mirror on the lab's bridge:
// playbooks/master.yml brings the control plane up (--check on fresh hosts predicts it exactly), a second run changes
// nothing, the units hold only flags their release has (checked against the committed flag table), a stand-in
// refuses a removed flag, one apiserver setting restarts only kube-apiserver, and 1.21 works as well as the newest.

import t from 'tap';
import type * as Tap from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/kplay.ts';
import { loadFlagTable } from '../../roles/kube-common/lib/flag-table.ts';
import { run } from '../lab/nspawn.ts';
import { HEALTH_HOST, SERVICES, changedBy, failedIn, mainPids, startControlPlaneLab, unitFlags } from './control-plane-lab.ts';

interface SharedLifetime {
  added: string | null;
  removed: string | null;
}
// The committed table (generated from the project's flag facts by tools/gen-k8s-flags.ts).
const SHARED = loadFlagTable();
const NEWEST = `${SHARED.newest}.0`;
const OLDEST = '1.21.14';
const KUBE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/** Listening TCP sockets of a host as [local address:port, process name] (ss -ltnp). */
async function listeners(cpl: Awaited<ReturnType<typeof startControlPlaneLab>>, host: string): Promise<[string, string][]> {
  const out = await cpl.onHost(host, 'ss -ltnpH');
  return out.split('\n').filter(Boolean).map((line) => [line.trim().split(/\s+/)[3], /users:\(\("([^"]+)"/.exec(line)?.[1] ?? '']);
}

/** kubeadm's standard: the controller manager and the scheduler only on 127.0.0.1, no insecure port at all. */
async function onlyLoopback(t: Tap.Test, cpl: Awaited<ReturnType<typeof startControlPlaneLab>>, host: string, version: string): Promise<void> {
  const sockets = await listeners(cpl, host);
  for (const program of ['kube-controller', 'kube-scheduler']) {
    const own = sockets.filter(([, p]) => p === program);
    t.ok(own.length > 0, `${version} ${host}: ${program} listens (${own.map(([a]) => a).join(' ')})`);
    for (const [address] of own) t.match(address, /^127\.0\.0\.1:/, `${version} ${host}: ${program} on ${address}`);
  }
  t.same(sockets.filter(([a]) => /:(10251|10252)$/.test(a)), [], `${version} ${host}: nothing on 10251 or 10252`);
}
const minor = (v: string): number => Number(v.split('.')[1]);
const existsIn = (l: SharedLifetime | undefined, v: string): boolean =>
  !!l && (l.added === null || minor(v) >= minor(l.added)) && (l.removed === null || minor(v) < minor(l.removed));

t.test('playbooks/master.yml on three controllers', async (t) => {
  const cpl = await startControlPlaneLab({ count: 3, versions: [NEWEST, OLDEST], dir: t.testdir({}), binaries: 'mirror', example: join(REPO, 'inventory/three-masters.yml') });
  t.teardown(() => cpl.stop());
  const { hosts } = cpl;
  const none = Object.fromEntries(hosts.map((h) => [h, 0]));
  const apiserverSetting = { kube_apiserver_extra_flags: { '--event-ttl': '2h' } };

  await cpl.setVars({ kube_apiserver_extra_flags: { '--kubelet-https': true } });
  const refused = await cpl.run();
  t.equal(refused.code, 2, 'a flag the release does not accept fails the run');
  t.match(refused.stdout, new RegExp(`kube-apiserver ${NEWEST.replace(/\./g, '\\.')} does not accept --kubelet-https: removed in 1\\.22`));
  t.same(changedBy(hosts, refused), none, 'before anything changed');
  t.equal(await cpl.onHost(hosts[0], 'ls -d /var/lib/kubernetes 2>/dev/null | wc -l'), '0', 'no host was touched');
  t.notOk(existsSync(cpl.pkiDir), 'no certificate was made');
  await cpl.setVars({});

  const check = await cpl.run('--check');
  t.equal(check.code, 0, check.stderr + check.stdout.slice(-2000));
  t.equal(failedIn(hosts, check), 0, 'no task failed in --check');
  t.equal(await cpl.onHost(hosts[0], 'ls /etc/systemd/system/kube-apiserver.service 2>/dev/null | wc -l'), '0', '--check wrote no unit');

  const first = await cpl.run();
  t.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));
  t.same(changedBy(hosts, first), changedBy(hosts, check), '--check on fresh hosts predicted the changed count exactly');

  await t.test('acceptance 1: the control plane is up', async (t) => {
    for (const h of hosts) {
      for (const service of SERVICES) {
        t.equal(await cpl.onHost(h, `systemctl is-active ${service}`), 'active', `${h}: ${service} active`);
        t.equal(await cpl.onHost(h, `systemctl is-enabled ${service}`), 'enabled', `${h}: ${service} enabled`);
      }
      const address = cpl.lab.hosts.find((x) => x.name === h)!.address;
      const health = await run('curl', ['-sS', '-w', ' %{http_code}', '-H', `Host: ${HEALTH_HOST}`, `http://${address}/healthz`]);
      t.equal(health.stdout, 'ok 200', `${h}: /healthz through nginx answers 200 ok`);
    }
    const kubectl = await run('kubectl', ['--kubeconfig', join(cpl.pkiDir, 'admin.kubeconfig'), '--server', 'https://10.240.0.10:6443', 'get', 'clusterrole', 'system:kube-apiserver-to-kubelet', '-o', 'name']);
    t.equal(kubectl.stdout.trim(), 'clusterrole.rbac.authorization.k8s.io/system:kube-apiserver-to-kubelet', kubectl.stderr);
    const pki = '/var/lib/kubernetes/pki';
    const config = await cpl.onHost(hosts[1], `ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=${pki}/etcd-ca.pem --cert=${pki}/apiserver-etcd-client.pem --key=${pki}/apiserver-etcd-client-key.pem get /coreos.com/network/config --print-value-only`);
    t.match(JSON.parse(config), { Network: '10.200.0.0/16', Backend: { Type: 'vxlan' } }, "etcd holds flannel's network config");
    const cm = await unitFlags(cpl, hosts[0], 'kube-controller-manager');
    t.ok(cm.includes('--cluster-cidr=10.200.0.0/16'), "flannel's Network is the controller manager's --cluster-cidr");
    const leases = await cpl.onHost(hosts[0], 'cat /run/flannel/subnet.env');
    t.match(leases, /^FLANNEL_NETWORK=10\.200\.0\.0\/16$/m, 'flanneld leased a subnet of it');
  });

  await t.test('issue 14 acceptance 4: an audit event for a kubectl call; kcm and scheduler on 127.0.0.1 only', async (t) => {
    const events = (await cpl.onHost(hosts[0], 'cat /var/log/kubernetes/audit.log')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as {
      verb: string; user: { username: string }; objectRef?: { resource: string; name?: string }; level: string; responseStatus: { code: number };
    });
    // The last one: the role's own kubectl asked before the role existed (404).
    const get = events.filter((e) => e.verb === 'get' && e.objectRef?.resource === 'clusterroles' && e.objectRef.name === 'system:kube-apiserver-to-kubelet').pop();
    t.ok(get, `the audit log of ${hosts[0]} has the kubectl get (${events.length} events)`);
    t.match(get, { level: 'Metadata', user: { username: 'admin' }, responseStatus: { code: 200 } });
    t.notOk(events.some((e) => e.objectRef === undefined && e.verb === 'get' && /healthz/.test(JSON.stringify(e))), 'health checks are not recorded');
    for (const h of hosts) await onlyLoopback(t, cpl, h, NEWEST);
    // etcd trusts its own CA only: a client certificate the cluster CA signed (the API server's serving pair) is refused.
    const pki = '/var/lib/kubernetes/pki';
    const etcdctl = (cert: string): Promise<string> =>
      cpl.onHost(hosts[0], `ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=${pki}/etcd-ca.pem --cert=${pki}/${cert}.pem --key=${pki}/${cert}-key.pem --command-timeout=5s get /coreos.com/network/config --print-value-only 2>&1; echo rc=$?`);
    const refused = await etcdctl('kubernetes');
    t.match(refused, /rc=[1-9]/, 'etcd refuses a client certificate signed by the cluster CA');
    t.match(refused, /bad certificate|certificate signed by unknown authority|unknown certificate authority|context deadline exceeded/, refused);
    t.match(await etcdctl('flanneld-etcd-client'), /"Network": ?"10\.200\.0\.0\/16"[\s\S]*rc=0/, "flanneld's own certificate is an etcd client");
    t.match(await cpl.onHost(hosts[0], `openssl x509 -in ${pki}/flanneld-etcd-client.pem -noout -subject`), /^subject=\s?CN\s?=\s?flanneld$/, "flanneld's certificate is in no Kubernetes group (not system:masters)");
    t.match((await unitFlags(cpl, hosts[0], 'flanneld')).join(' '), /--etcd-certfile=\/var\/lib\/kubernetes\/pki\/flanneld-etcd-client\.pem/, 'flanneld uses it');
    const asFlannel = await cpl.onHost(hosts[0], `curl -sS -o /dev/null -w '%{http_code}' --cacert ${pki}/ca.pem --cert ${pki}/flanneld-etcd-client.pem --key ${pki}/flanneld-etcd-client-key.pem https://127.0.0.1:6443/api/v1/namespaces 2>&1; echo`);
    t.notMatch(asFlannel, /^200/, `the API server does not take flanneld's certificate (${asFlannel})`);
    // The aggregation layer and kubelet TLS bootstrapping.
    const apiserver = await unitFlags(cpl, hosts[0], 'kube-apiserver');
    for (const flag of ['--requestheader-client-ca-file=/var/lib/kubernetes/pki/front-proxy-ca.pem', '--proxy-client-cert-file=/var/lib/kubernetes/pki/front-proxy-client.pem', '--requestheader-allowed-names=front-proxy-client', '--enable-bootstrap-token-auth=true']) {
      t.ok(apiserver.includes(flag), flag);
    }
    const bindings = await run('kubectl', ['--kubeconfig', join(cpl.pkiDir, 'admin.kubeconfig'), '--server', 'https://10.240.0.10:6443', 'get', 'clusterrolebinding', 'kubelet-bootstrap', 'node-autoapprove-bootstrap', 'node-autoapprove-certificate-rotation', '-o', 'name']);
    t.equal(bindings.stdout.trim().split('\n').length, 3, `the bootstrap bindings exist: ${bindings.stdout}${bindings.stderr}`);
  });

  await t.test('acceptance 2: a second run changes nothing', async (t) => {
    const second = await cpl.run();
    t.equal(second.code, 0, second.stderr + second.stdout.slice(-1500));
    t.same(changedBy(hosts, second), none);
  });

  await t.test(`acceptance 3: ${NEWEST}'s units hold only flags ${NEWEST} has, and a removed flag fails the unit`, async (t) => {
    for (const component of KUBE) {
      const flags = await unitFlags(cpl, hosts[0], component);
      t.ok(flags.length > 1, `${component}: ${flags.length} flags`);
      for (const flag of flags) t.ok(existsIn(SHARED.components[component][flag.split('=')[0]], NEWEST), `${component} ${NEWEST} has ${flag.split('=')[0]}`);
    }
    const h = hosts[2];
    const exec = (await cpl.onHost(h, 'systemctl show kube-apiserver -p ExecStart --value')).match(/argv\[\]=(.*?) ;/)![1];
    await cpl.onHost(h, `mkdir -p /etc/systemd/system/kube-apiserver.service.d && printf '[Service]\\nExecStart=\\nExecStart=%s --insecure-port=0\\n' '${exec}' > /etc/systemd/system/kube-apiserver.service.d/removed-flag.conf && systemctl daemon-reload && systemctl restart kube-apiserver; sleep 3`);
    const journal = await cpl.onHost(h, 'journalctl -u kube-apiserver --no-pager -o cat -n 30');
    t.match(journal, /unknown flag: --insecure-port/, 'the stand-in refuses --insecure-port');
    t.match(await cpl.onHost(h, 'systemctl show kube-apiserver -p Result --value'), 'exit-code', 'the unit failed');
    await cpl.onHost(h, 'rm -r /etc/systemd/system/kube-apiserver.service.d && systemctl daemon-reload && systemctl restart kube-apiserver');
  });

  await t.test('acceptance 4: one apiserver setting restarts only kube-apiserver, once per host', async (t) => {
    const before = await Promise.all(hosts.map((h) => mainPids(cpl, h)));
    await cpl.setVars(apiserverSetting);
    const r = await cpl.run();
    t.equal(r.code, 0, r.stderr + r.stdout.slice(-1500));
    const handlers = r.events.flatMap((e) => (e.type === 'result' && e.task.handler && e.status === 'changed' ? [`${e.host} ${e.task.name}`] : []));
    t.same(handlers.sort(), hosts.map((h) => `${h} restart kube-apiserver`).sort(), 'one restart handler ran, once per host');
    for (const [i, h] of hosts.entries()) {
      const after = await mainPids(cpl, h);
      for (const service of SERVICES) {
        if (service === 'kube-apiserver') t.not(after[service], before[i][service], `${h}: kube-apiserver restarted`);
        else t.equal(after[service], before[i][service], `${h}: ${service} not restarted`);
      }
      t.ok((await unitFlags(cpl, h, 'kube-apiserver')).includes('--event-ttl=2h'), `${h}: the new setting is in the unit`);
    }
  });

  await t.test("a new flannel network config reaches etcd and restarts flanneld on every host, nothing else", async (t) => {
    await cpl.setVars({ ...apiserverSetting, flannel_backend: 'host-gw' });
    const r = await cpl.run();
    t.equal(r.code, 0, r.stderr + r.stdout.slice(-1500));
    const handlers = r.events.flatMap((e) => (e.type === 'result' && e.task.handler && e.status === 'changed' ? [`${e.host} ${e.task.name}`] : []));
    t.same(handlers.sort(), hosts.map((h) => `${h} restart flanneld`).sort());
    const pki = '/var/lib/kubernetes/pki';
    const config = await cpl.onHost(hosts[2], `ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=${pki}/etcd-ca.pem --cert=${pki}/apiserver-etcd-client.pem --key=${pki}/apiserver-etcd-client-key.pem get /coreos.com/network/config --print-value-only`);
    t.equal(JSON.parse(config).Backend.Type, 'host-gw');
  });

  await t.test(`acceptance 3: the same playbook for ${OLDEST}`, async (t) => {
    await cpl.setVars({ kube_version: OLDEST });
    const r = await cpl.run();
    t.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
    for (const h of hosts) for (const service of SERVICES) t.equal(await cpl.onHost(h, `systemctl is-active ${service}`), 'active', `${h}: ${service} active`);
    for (const component of KUBE) {
      for (const flag of await unitFlags(cpl, hosts[1], component)) {
        t.ok(existsIn(SHARED.components[component][flag.split('=')[0]], OLDEST), `${component} ${OLDEST} has ${flag.split('=')[0]}`);
      }
    }
    t.match(await cpl.onHost(hosts[1], 'cat /etc/kubernetes/config/kube-scheduler.yaml'), /^apiVersion: kubescheduler\.config\.k8s\.io\/v1beta1$/m);
    t.match(await cpl.onHost(hosts[1], '/usr/local/bin/kube-apiserver --version'), /Kubernetes v1\.21\.14/);
    t.match(await cpl.onHost(hosts[1], 'cat /etc/kubernetes/config/kube-scheduler.yaml'), /^healthzBindAddress: ''$/m, "1.21's scheduler config: no insecure healthz address");
    for (const h of hosts) await onlyLoopback(t, cpl, h, OLDEST);
  });
});
