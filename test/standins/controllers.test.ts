// The kube-controller-manager and kube-scheduler stand-ins: they start with the table's minimal flag sets, reach
// the apiserver stand-in with their client certificates and serve /healthz on their secure ports; they refuse
// flags their version removed, a scheduler config apiVersion their version does not decode, bad CIDRs and keys.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { curl, freePort, makePki, runToExit, standins, start, startApiserver, startEtcd, tempDir, waitUntil } from './fixture.ts';

const dir = tempDir(t, 'controllers');
const pki = makePki(dir);
const etcd = await startEtcd(t, pki, dir);
const [v121, v123, v130] = await Promise.all(['1.21.14', '1.23.17', '1.30.2'].map((v) => standins(t, v)));
const api = await startApiserver(t, v130['kube-apiserver'], pki, etcd);

const kcmKubeconfig = pki.kubeconfig('kube-controller-manager', api.url);
const schedulerKubeconfig = pki.kubeconfig('kube-scheduler', api.url);
const kcmFlags = (port: number): string[] => [
  '--bind-address=127.0.0.1', `--secure-port=${port}`, '--allocate-node-cidrs=true', '--cluster-cidr=10.200.0.0/16',
  '--cluster-name=kubernetes', `--cluster-signing-cert-file=${pki.ca}`, `--cluster-signing-key-file=${pki.caKey}`,
  `--kubeconfig=${kcmKubeconfig}`, `--authentication-kubeconfig=${kcmKubeconfig}`, `--authorization-kubeconfig=${kcmKubeconfig}`,
  '--leader-elect=true', `--root-ca-file=${pki.ca}`, `--service-account-private-key-file=${pki.saKey}`,
  '--service-cluster-ip-range=10.32.0.0/24', '--use-service-account-credentials=true', '--v=2',
];
const schedulerConfig = (apiVersion: string): string => {
  const path = join(dir, `scheduler-${apiVersion.replace(/\W/g, '-')}.yaml`);
  writeFileSync(path, `apiVersion: ${apiVersion}\nkind: KubeSchedulerConfiguration\nclientConnection:\n  kubeconfig: "${schedulerKubeconfig}"\nleaderElection:\n  leaderElect: true\n`);
  return path;
};
// Their serving certificate is self-signed (the real default): check it answers, without trusting it.
const insecureHealth = (port: number): string => runToExit('curl', ['-sk', '--max-time', '3', `https://127.0.0.1:${port}/healthz`]).output;
const healthy = (port: number): boolean => insecureHealth(port) === 'ok';

t.test('kube-controller-manager 1.21 and 1.30 start with the minimal flags and serve /healthz on their secure port', async (t) => {
  for (const bin of [v121, v130]) {
    const port = await freePort();
    const kcm = start(t, bin['kube-controller-manager'], kcmFlags(port));
    await waitUntil(kcm, () => healthy(port), 'kube-controller-manager');
    t.equal(insecureHealth(port), 'ok');
    // Its log line may still be in the pipe when health answers: wait for it (the curls above block this process).
    await waitUntil(kcm, () => kcm.output().includes(`connected to the apiserver at ${api.url}`), 'its log');
    t.match(kcm.output(), `connected to the apiserver at ${api.url}`);
  }
});

t.test('kube-scheduler serves /healthz with its --tls-cert-file once it reaches the apiserver through its config kubeconfig', async (t) => {
  const port = await freePort();
  const tls = [`--tls-cert-file=${pki.cert('apiserver')}`, `--tls-private-key-file=${pki.key('apiserver')}`];
  const scheduler = start(t, v130['kube-scheduler'], [`--config=${schedulerConfig('kubescheduler.config.k8s.io/v1')}`, '--bind-address=127.0.0.1', `--secure-port=${port}`, ...tls, '--v=2']);
  await waitUntil(scheduler, () => healthy(port), 'kube-scheduler');
  t.same(curl(`https://127.0.0.1:${port}/healthz`, pki.ca), { code: 200, body: 'ok' }, 'the configured certificate, trusted through the CA');
  t.equal(curl(`https://127.0.0.1:${port}/readyz`, pki.ca).code, 404, 'the scheduler serves /readyz from 1.31 only');
  t.match(runToExit('curl', ['-sk', `https://127.0.0.1:${port}/metrics`]).output, 'forbidden', 'other paths need credentials');
});

t.test('health fails while the kubeconfig points at a server that does not trust the client', async (t) => {
  const port = await freePort();
  const stranger = pki.kubeconfig('kube-scheduler', `https://127.0.0.1:${await freePort()}`);
  const kcm = start(t, v130['kube-controller-manager'], kcmFlags(port).map((f) => f.replace(kcmKubeconfig, stranger)));
  await waitUntil(kcm, () => runToExit('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${port}/healthz`]).output === '500', 'kube-controller-manager');
  t.match(kcm.output(), 'error retrieving resource lock');
});

t.test('they refuse to start where the real ones would', async (t) => {
  const cases: [string, string, string[], string][] = [
    ['kcm --address, removed in 1.24', v130['kube-controller-manager'], [...kcmFlags(10257), '--address=0.0.0.0'], 'unknown flag: --address'],
    ['kcm --port=10252 on 1.23 (only zero)', v123['kube-controller-manager'], [...kcmFlags(10257), '--port=10252'], 'only zero is allowed'],
    ['kcm --logtostderr, removed in 1.26', v130['kube-controller-manager'], [...kcmFlags(10257), '--logtostderr'], 'unknown flag: --logtostderr'],
    ['kcm with a bad --cluster-cidr', v130['kube-controller-manager'], kcmFlags(10257).map((f) => f.replace('10.200.0.0/16', '10.200.0.0/40')), 'invalid CIDR address: 10.200.0.0/40'],
    ['kcm with a missing service account key', v130['kube-controller-manager'], kcmFlags(10257).map((f) => f.replace(pki.saKey, join(dir, 'none.pem'))), 'no such file'],
    ['kcm with a signing certificate not matching its key', v130['kube-controller-manager'], kcmFlags(10257).map((f) => f.replace(pki.caKey, pki.saKey)), 'private key does not match'],
    ['scheduler 1.30 with a v1beta3 config (removed in 1.29)', v130['kube-scheduler'], [`--config=${schedulerConfig('kubescheduler.config.k8s.io/v1beta3')}`], 'no kind "KubeSchedulerConfiguration" is registered for version "kubescheduler.config.k8s.io/v1beta3"'],
    ['scheduler 1.23 with a v1beta1 config (removed in 1.23)', v123['kube-scheduler'], [`--config=${schedulerConfig('kubescheduler.config.k8s.io/v1beta1')}`], 'registered for version "kubescheduler.config.k8s.io/v1beta1"'],
    ['scheduler 1.21 with a v1 config (added in 1.25)', v121['kube-scheduler'], [`--config=${schedulerConfig('kubescheduler.config.k8s.io/v1')}`], 'registered for version "kubescheduler.config.k8s.io/v1"'],
    ['scheduler --port, removed in 1.24', v130['kube-scheduler'], ['--port=0'], 'unknown flag: --port'],
  ];
  for (const [what, binary, args, expected] of cases) {
    const { rc, output } = runToExit(binary, args);
    t.equal(rc, 1, `${what}: exit 1`);
    t.match(output, expected, `${what}: says why`);
  }
});
