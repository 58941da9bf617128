// The kube-apiserver stand-in starts with the table's minimal flag sets of 1.21 and 1.36 against a real etcd, serves
// health anonymously and nothing else, and refuses to start where the real one would.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { curl, makePki, minimalApiserverFlags, runToExit, standins, startApiserver, startEtcd, tempDir } from './fixture.ts';

const dir = tempDir(t, 'apiserver');
const pki = makePki(dir);
const etcd = await startEtcd(t, pki, dir);

for (const version of ['1.21.14', '1.36.0']) {
  t.test(`${version} starts with the minimal flag set and serves health`, async (t) => {
    const bin = await standins(t, version);
    // --kubelet-https was deprecated in 1.19 and removed in 1.22: 1.21 warns and goes on.
    const extra = version.startsWith('1.21') ? ['--kubelet-https=true'] : [];
    const api = await startApiserver(t, bin['kube-apiserver'], pki, etcd, extra);
    if (extra.length) t.match(api.running.output(), 'Flag --kubelet-https has been deprecated');
    t.same(curl(`${api.url}/healthz`, pki.ca), { code: 200, body: 'ok' });
    const ready = curl(`${api.url}/readyz?verbose`, pki.ca);
    t.match(ready.body, /^\[\+\]ping ok$/m);
    t.match(ready.body, /^\[\+\]etcd ok$/m);
    t.match(ready.body, /readyz check passed/);
    t.equal(JSON.parse(curl(`${api.url}/version`, pki.ca).body).gitVersion, `v${version}`);
    const anonymous = curl(`${api.url}/apis/rbac.authorization.k8s.io/v1/clusterroles`, pki.ca);
    t.equal(anonymous.code, 403, 'an API path without a client certificate is forbidden');
    t.match(anonymous.body, 'system:anonymous');
    const admin = curl(`${api.url}/api/v1/namespaces`, pki.ca, { cert: pki.cert('admin'), key: pki.key('admin') });
    t.equal(admin.code, 200, 'with the admin client certificate it answers');
    t.match(JSON.parse(admin.body).items.map((n: { metadata: { name: string } }) => n.metadata.name), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });
}

t.test('refuses to start where the real one would', async (t) => {
  const [v121, v122, v123, v130, v131] = await Promise.all(['1.21.14', '1.22.17', '1.23.17', '1.30.2', '1.31.0'].map((v) => standins(t, v)));
  const flags = minimalApiserverFlags(pki, etcd, 6443);
  const swap = (name: string, value: string): string[] => flags.map((f) => (f.startsWith(`--${name}=`) ? `--${name}=${value}` : f));
  const without = (name: string): string[] => flags.filter((f) => !f.startsWith(`--${name}=`));
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const cases: [string, string, string[], RegExp | string][] = [
    ['a flag removed in 1.24', v130['kube-apiserver'], [...flags, '--insecure-port=0'], 'Error: unknown flag: --insecure-port'],
    ['--kubelet-https, removed in 1.22', v122['kube-apiserver'], [...flags, '--kubelet-https'], 'unknown flag: --kubelet-https'],
    ['--logtostderr, removed in 1.26', v130['kube-apiserver'], [...flags, '--logtostderr=true'], 'unknown flag: --logtostderr'],
    ['a non-zero --insecure-port on 1.23', v123['kube-apiserver'], [...flags, '--insecure-port=8080'], 'invalid port value 8080: only zero is allowed'],
    ['no --service-account-issuer on 1.21', v121['kube-apiserver'], without('service-account-issuer'), 'service-account-issuer is a required flag'],
    ['the Initializers admission plugin', v130['kube-apiserver'], swap('enable-admission-plugins', 'NodeRestriction,Initializers'), 'plugin "Initializers" is unknown'],
    ['a missing certificate file', v130['kube-apiserver'], swap('tls-cert-file', join(dir, 'nope.pem')), /serving cert: open .*nope\.pem: no such file/],
    ['a certificate that does not match its key', v130['kube-apiserver'], swap('tls-cert-file', pki.cert('admin')), 'private key does not match public key'],
    ['a file that is no certificate', v130['kube-apiserver'], swap('client-ca-file', pki.saPub), 'does not contain any valid RSA or ECDSA certificates'],
    ['a 16-byte aescbc key', v130['kube-apiserver'], swap('encryption-provider-config', write('enc16.yaml',
      'kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n  - resources: [secrets]\n    providers:\n      - aescbc:\n          keys:\n            - name: k\n              secret: MDEyMzQ1Njc4OTAxMjM0NQ==\n')),
      'secret is not of the expected length, got 16, expected one of [32]'],
    ['an encryption config of an unknown apiVersion', v130['kube-apiserver'], swap('encryption-provider-config', write('enc-kind.yaml',
      'kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v2\nresources: []\n')), 'no kind "EncryptionConfiguration" is registered for version "apiserver.config.k8s.io/v2"'],
    ['an unknown field in the encryption config, decoded strictly from 1.31', v131['kube-apiserver'], swap('encryption-provider-config', write('enc-field.yaml',
      'kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n  - resources: [secrets]\n    providers:\n      - identity: {}\n    extra: 1\n')),
      'strict decoding error: unknown field "resources[0].extra"'],
  ];
  for (const [what, binary, args, expected] of cases) {
    const { rc, output } = runToExit(binary, args);
    t.equal(rc, 1, `${what}: exit 1`);
    t.match(output, expected, `${what}: says why`);
  }
  const unreachable = runToExit(v130['kube-apiserver'], swap('etcd-servers', 'https://127.0.0.1:9'), { STANDIN_ETCD_WAIT: '1' });
  t.equal(unreachable.rc, 1, 'etcd out of reach: exit 1');
  t.match(unreachable.output, 'failed to reach etcd');
  t.match(runToExit(v130['kube-apiserver'], ['--version']).output, 'Kubernetes v1.30.2');
});
