// Issue 14, acceptance 2 on three real systemd hosts: playbooks/master.yml with the HA front (roles/apiserver-lb,
// nginx's stream module on each controller, port 8443). --check on fresh hosts predicts the first run; the admin
// kubeconfig points at the front and kubectl through it verifies the API server's certificate; with one controller's
// API server stopped kubectl through the front keeps answering; a second run changes nothing.

import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { REPO } from '../helpers/kplay.ts';
import { installDebs } from '../lab/apt-repo.ts';
import { CACHE_DIR, run } from '../lab/nspawn.ts';
import { loadFlagTable } from '../../roles/kube-common/lib/flag-table.ts';
import { changedBy, failedIn, startControlPlaneLab } from './control-plane-lab.ts';

const exec = promisify(execFile);
const NEWEST = `${loadFlagTable().newest}.0`;
const FRONT = 'https://10.240.0.10:8443';

/** One request through the front with curl, which never retries (kubectl's client may retry a closed connection). */
const curlThrough = (pkiDir: string, url: string) =>
  run('curl', ['-sS', '--max-time', '10', '--cacert', join(pkiDir, 'ca.pem'), '--cert', join(pkiDir, 'admin.pem'), '--key', join(pkiDir, 'admin-key.pem'), `${url}/healthz`]);

/** Debian's stream module for nginx (not in the lab's base image), fetched once into the lab's cache. */
async function streamModuleDebs(): Promise<string[]> {
  const dir = join(CACHE_DIR, 'nginx-stream-debs');
  await mkdir(dir, { recursive: true });
  const have = async (): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith('.deb')).map((f) => join(dir, f));
  if ((await have()).length === 0) await exec('apt-get', ['download', 'libnginx-mod-stream'], { cwd: dir });
  return have();
}

t.test('playbooks/master.yml with the HA front on three controllers', async (t) => {
  const cpl = await startControlPlaneLab({ count: 3, versions: [NEWEST], dir: t.testdir({}), binaries: 'mirror', example: join(REPO, 'inventory/three-masters.yml') });
  t.teardown(() => cpl.stop());
  const { hosts } = cpl;
  const debs = await streamModuleDebs();
  for (const h of hosts) await installDebs(cpl.lab, h, debs);
  await cpl.setVars({ kube_apiserver_lb_enabled: true });

  const check = await cpl.run('--check');
  t.equal(check.code, 0, check.stderr + check.stdout.slice(-2000));
  t.equal(failedIn(hosts, check), 0, 'no task failed in --check');
  const first = await cpl.run();
  t.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));
  t.same(changedBy(hosts, first), changedBy(hosts, check), '--check on fresh hosts predicted the changed count exactly');

  const conf = await cpl.onHost(hosts[1], 'cat /etc/nginx/modules-enabled/90-kplay-apiserver-lb.conf');
  for (const address of ['10.240.0.10', '10.240.0.11', '10.240.0.12']) t.match(conf, `server ${address}:6443 max_fails=1 fail_timeout=10s;`);
  t.match(await cpl.onHost(hosts[1], 'ss -ltnpH'), /:8443\s[\s\S]*nginx/, 'nginx listens on 8443');

  const admin = join(cpl.pkiDir, 'admin.kubeconfig');
  const server = (parse(await readFile(admin, 'utf8')) as { clusters: { cluster: { server: string } }[] }).clusters[0].cluster.server;
  t.equal(server, FRONT, 'the admin kubeconfig points at the front');
  const sans = await run('openssl', ['x509', '-in', join(cpl.pkiDir, 'kubernetes.pem'), '-noout', '-ext', 'subjectAltName']);
  for (const address of ['10.240.0.10', '10.240.0.11', '10.240.0.12']) t.match(sans.stdout, `IP Address:${address}`, `the API server certificate names ${address}`);
  const kubectl = () => run('kubectl', ['--kubeconfig', admin, '--request-timeout=10s', 'get', 'clusterrole', 'system:kube-apiserver-to-kubelet', '-o', 'name']);
  const want = 'clusterrole.rbac.authorization.k8s.io/system:kube-apiserver-to-kubelet';
  const rbac = (parse(await readFile(join(cpl.pkiDir, 'admin-kubernetes-public.kubeconfig'), 'utf8')) as { clusters: { cluster: { server: string } }[] }).clusters[0].cluster.server;
  t.equal(rbac, FRONT, 'the kubelet RBAC went through the front');
  const through = await kubectl();
  t.equal(through.stdout.trim(), want, `kubectl through the front, certificate verified: ${through.stderr}`);

  // The front's own host loses its API server: the front passes on to the other two.
  await cpl.onHost(hosts[0], 'systemctl stop kube-apiserver');
  t.equal(await cpl.onHost(hosts[0], 'systemctl is-active kube-apiserver'), 'inactive');
  for (let i = 0; i < 6; i++) {
    const r = await kubectl();
    t.equal(r.stdout.trim(), want, `call ${i + 1} with ${hosts[0]}'s API server stopped: ${r.stderr}`);
  }
  for (let i = 0; i < 9; i++) {
    const r = await curlThrough(cpl.pkiDir, FRONT);
    t.equal(r.stdout, 'ok', `curl ${i + 1} through the front with ${hosts[0]}'s API server stopped: ${r.stderr}`);
  }
  await cpl.onHost(hosts[0], 'systemctl start kube-apiserver');

  const second = await cpl.run();
  t.equal(second.code, 0, second.stderr + second.stdout.slice(-1500));
  t.same(changedBy(hosts, second), Object.fromEntries(hosts.map((h) => [h, 0])), 'a second run changes nothing');

  // Issuer migration towards the front: two issuers, two --service-account-issuer flags, and the stand-in serves.
  const issuers = ['https://kubernetes.default.svc.cluster.local', FRONT];
  await cpl.setVars({ kube_apiserver_lb_enabled: true, kube_service_account_issuers: issuers });
  const migrate = await cpl.run();
  t.equal(migrate.code, 0, migrate.stderr + migrate.stdout.slice(-1500));
  for (const h of hosts) {
    const argv = await cpl.onHost(h, "tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value kube-apiserver)/cmdline | grep '^--service-account-issuer='");
    t.same(argv.split('\n'), issuers.map((i) => `--service-account-issuer=${i}`), `${h}: the running API server has both issuers, in order`);
    t.equal(await cpl.onHost(h, 'systemctl is-active kube-apiserver'), 'active', `${h}: the stand-in accepted them`);
  }
  const after = await kubectl();
  t.equal(after.stdout.trim(), want, `kubectl through the front after the migration: ${after.stderr}`);
});

t.test('the front on a host of its own (group apiserver_lb, port 6443)', async (t) => {
  const cpl = await startControlPlaneLab({ count: 3, lbHosts: 1, versions: [NEWEST], dir: t.testdir({}), binaries: 'mirror', example: join(REPO, 'inventory/three-masters.yml') });
  t.teardown(() => cpl.stop());
  const [c0, , , lb] = cpl.hosts;
  const lbAddress = cpl.lab.hosts[3].address;
  await installDebs(cpl.lab, lb, await streamModuleDebs());
  await cpl.setVars({ kube_apiserver_lb_enabled: true });

  const front = await cpl.runPlaybook('apiserver-lb.yml');
  t.equal(front.code, 0, front.stderr + front.stdout.slice(-2000));
  t.ok((front.recap?.[lb]?.changed ?? 0) > 0, `${lb} got the front`);
  const first = await cpl.run();
  t.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));
  t.equal(await cpl.onHost(c0, 'ls /etc/nginx/modules-enabled/90-kplay-apiserver-lb.conf 2>/dev/null | wc -l'), '0', 'no front on the controllers');

  const admin = join(cpl.pkiDir, 'admin.kubeconfig');
  const server = (parse(await readFile(admin, 'utf8')) as { clusters: { cluster: { server: string } }[] }).clusters[0].cluster.server;
  t.equal(server, `https://${lbAddress}:6443`, 'the admin kubeconfig points at the front');
  const sans = await run('openssl', ['x509', '-in', join(cpl.pkiDir, 'kubernetes.pem'), '-noout', '-ext', 'subjectAltName']);
  t.match(sans.stdout, `IP Address:${lbAddress}`, "the API server certificate names the front's address");
  const want = 'clusterrole.rbac.authorization.k8s.io/system:kube-apiserver-to-kubelet';
  const kubectl = () => run('kubectl', ['--kubeconfig', admin, '--request-timeout=10s', 'get', 'clusterrole', 'system:kube-apiserver-to-kubelet', '-o', 'name']);
  await cpl.onHost(c0, 'systemctl stop kube-apiserver');
  for (let i = 0; i < 6; i++) {
    const r = await kubectl();
    t.equal(r.stdout.trim(), want, `call ${i + 1} with ${c0}'s API server stopped: ${r.stderr}`);
  }
  for (let i = 0; i < 9; i++) {
    const r = await curlThrough(cpl.pkiDir, `https://${lbAddress}:6443`);
    t.equal(r.stdout, 'ok', `curl ${i + 1} through the front with ${c0}'s API server stopped: ${r.stderr}`);
  }
  await cpl.onHost(c0, 'systemctl start kube-apiserver');

  const again = await cpl.runPlaybook('apiserver-lb.yml');
  t.same({ code: again.code, changed: changedBy(cpl.hosts, again)[lb] }, { code: 0, changed: 0 }, 'the front again: 0 changed');
  const second = await cpl.run();
  t.equal(second.code, 0, second.stderr + second.stdout.slice(-1500));
  t.same(changedBy(cpl.hosts.slice(0, 3), second), Object.fromEntries(cpl.hosts.slice(0, 3).map((h) => [h, 0])), 'master.yml again: 0 changed');
});
