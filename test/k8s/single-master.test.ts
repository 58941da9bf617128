// Issue 6, acceptance 5: inventory/one-master.yml on one real systemd host, with the binaries copied from a local
// folder (kube_binaries_dir) instead of downloaded: --check predicts the run, the control plane comes up with a
// one-member etcd, the guides' checks pass, and a second run changes nothing.

import t from 'tap';
import { join } from 'node:path';
import { REPO } from '../helpers/kplay.ts';
import { run } from '../lab/nspawn.ts';
import { HEALTH_HOST, SERVICES, changedBy, failedIn, startControlPlaneLab } from './control-plane-lab.ts';

t.test('playbooks/master.yml on one controller', async (t) => {
  const cpl = await startControlPlaneLab({ count: 1, versions: ['1.30.2'], dir: t.testdir({}), binaries: 'folder', example: join(REPO, 'inventory/one-master.yml') });
  t.teardown(() => cpl.stop());
  const { hosts } = cpl;
  t.same(hosts, ['controller-0']);

  const check = await cpl.run('--check');
  t.equal(check.code, 0, check.stderr + check.stdout.slice(-2000));
  t.equal(failedIn(hosts, check), 0);
  const first = await cpl.run();
  t.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));
  t.same(changedBy(hosts, first), changedBy(hosts, check), '--check predicted the run');
  for (const service of SERVICES) {
    t.equal(await cpl.onHost('controller-0', `systemctl is-active ${service}`), 'active', `${service} active`);
    t.equal(await cpl.onHost('controller-0', `systemctl is-enabled ${service}`), 'enabled', `${service} enabled`);
  }
  const pki = '/var/lib/kubernetes/pki';
  const members = await cpl.onHost('controller-0', `ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=${pki}/etcd-ca.pem --cert=${pki}/apiserver-etcd-client.pem --key=${pki}/apiserver-etcd-client-key.pem member list`);
  t.equal(members.split('\n').length, 1, 'etcd is a one-member cluster');
  const health = await run('curl', ['-sS', '-w', ' %{http_code}', '-H', `Host: ${HEALTH_HOST}`, 'http://10.240.0.10/healthz']);
  t.equal(health.stdout, 'ok 200', '/healthz through nginx');
  const kubectl = await run('kubectl', ['--kubeconfig', join(cpl.pkiDir, 'admin.kubeconfig'), '--server', 'https://10.240.0.10:6443', 'get', 'clusterrolebinding', 'system:kube-apiserver', '-o', 'name']);
  t.equal(kubectl.stdout.trim(), 'clusterrolebinding.rbac.authorization.k8s.io/system:kube-apiserver', kubectl.stderr);

  const second = await cpl.run();
  t.equal(second.code, 0, second.stderr);
  t.same(changedBy(hosts, second), { 'controller-0': 0 }, 'a second run changes nothing');
});
