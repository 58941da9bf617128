// Issue 14, kubelet TLS bootstrapping: after playbooks/master.yml on one controller, the bootstrap token the roles
// made (a kube-system Secret as kubeadm makes it, kept on the controller) lets the real kubectl, through the
// kubeconfig made for kubelets, create a certificate signing request and nothing more (403 on secrets, on approving);
// the controller manager approves a node client CSR (the bound nodeclient role) and signs it with the cluster CA,
// and leaves one that is not a node's pending; a wrong, expired or non-authentication token gets 401. A second run
// and --check change nothing.

import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO } from '../helpers/kplay.ts';
import { run } from '../lab/nspawn.ts';
import { changedBy, failedIn, startControlPlaneLab } from './control-plane-lab.ts';

const SERVER = 'https://10.240.0.10:6443';

interface Secret {
  type: string;
  metadata: { name: string; namespace: string };
  data: Record<string, string>;
}

t.test('bootstrap token, its kubeconfig and the RBAC kubelets need', async (t) => {
  const dir = t.testdir({});
  const cpl = await startControlPlaneLab({ count: 1, versions: ['1.30.2'], dir, binaries: 'folder', example: join(REPO, 'inventory/one-master.yml') });
  t.teardown(() => cpl.stop());
  const { hosts } = cpl;
  const first = await cpl.run();
  t.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));

  const admin = (...args: string[]) => run('kubectl', ['--kubeconfig', join(cpl.pkiDir, 'admin.kubeconfig'), '--server', SERVER, ...args]);
  const bootstrapKubeconfig = join(cpl.pkiDir, 'kubelet-bootstrap.kubeconfig');
  const asKubelet = (...args: string[]) => run('kubectl', ['--kubeconfig', bootstrapKubeconfig, ...args]);

  // The token kept on the controller, and the Secret the API server holds for it.
  const kept = parse(readFileSync(join(cpl.pkiDir, 'bootstrap-token.yaml'), 'utf8')) as { 'token-id': string; 'token-secret': string; expiration: string };
  t.match(kept['token-id'], /^[a-z0-9]{6}$/, 'token-id as kubeadm makes it');
  t.match(kept['token-secret'], /^[a-z0-9]{16}$/, 'token-secret as kubeadm makes it');
  t.notOk(first.stdout.includes(kept['token-secret']) || first.stderr.includes(kept['token-secret']), 'the token secret shows nowhere in the run output');
  const hours = (Date.parse(kept.expiration) - Date.now()) / 3_600_000;
  t.ok(hours > 23.5 && hours <= 24, `expires in the default ttl of 24h (${hours.toFixed(2)} h)`);
  const got = await admin('get', 'secret', '-n', 'kube-system', `bootstrap-token-${kept['token-id']}`, '-o', 'json');
  t.equal(got.rc, 0, got.stderr);
  const secret = JSON.parse(got.stdout) as Secret;
  const data = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  t.equal(secret.type, 'bootstrap.kubernetes.io/token');
  t.match(data, {
    'token-id': kept['token-id'],
    'token-secret': kept['token-secret'],
    expiration: kept.expiration,
    'usage-bootstrap-authentication': 'true',
    'usage-bootstrap-signing': 'true',
    'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
  });
  const kubeconfig = parse(readFileSync(bootstrapKubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[]; users: { user: Record<string, string> }[] };
  t.same(kubeconfig.users[0].user, { token: `${kept['token-id']}.${kept['token-secret']}` }, 'the kubeconfig carries the token, no client certificate');
  t.equal(kubeconfig.clusters[0].cluster.server, SERVER);
  const mode = (await run('stat', ['-c', '%a', bootstrapKubeconfig, join(cpl.pkiDir, 'bootstrap-token.yaml')])).stdout.trim().split('\n');
  t.same(mode, ['600', '600'], 'token file and kubeconfig are private');

  /** A CSR manifest for `subject`, its key made by openssl; returns the manifest's path. */
  const csrFor = async (name: string, subject: string): Promise<string> => {
    const csrPem = join(dir, `${name}.csr`);
    const made = await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, `${name}-key.pem`), '-out', csrPem, '-subj', subject]);
    if (made.rc !== 0) throw new Error(made.stderr);
    const manifest = join(dir, `${name}.yaml`);
    writeFileSync(manifest, [
      'apiVersion: certificates.k8s.io/v1',
      'kind: CertificateSigningRequest',
      `metadata: { name: ${name} }`,
      'spec:',
      `  request: ${readFileSync(csrPem).toString('base64')}`,
      '  signerName: kubernetes.io/kube-apiserver-client-kubelet',
      '  usages: [digital signature, client auth]',
      '',
    ].join('\n'));
    return manifest;
  };

  await t.test('the bootstrap token may create a CSR, and nothing else', async (t) => {
    const manifest = await csrFor('node-csr-worker-0', '/O=system:nodes/CN=system:node:worker-0');
    const created = await asKubelet('create', '-f', manifest);
    t.equal(created.rc, 0, created.stderr);
    t.equal(created.stdout.trim(), 'certificatesigningrequest.certificates.k8s.io/node-csr-worker-0 created');
    const csr = await admin('get', 'csr', 'node-csr-worker-0', '-o', 'jsonpath={.spec.username} {.spec.groups}');
    t.equal(csr.stdout, `system:bootstrap:${kept['token-id']} ["system:bootstrappers","system:bootstrappers:kubeadm:default-node-token","system:authenticated"]`,
      'the API server records who asked: the token\'s user and groups');
    t.equal((await asKubelet('get', 'csr', 'node-csr-worker-0', '-o', 'name')).stdout.trim(), 'certificatesigningrequest.certificates.k8s.io/node-csr-worker-0', 'it may read its CSR');

    const secrets = await asKubelet('get', 'secrets', '-n', 'kube-system');
    t.equal(secrets.rc, 1, 'listing secrets is refused');
    t.equal(secrets.stderr.trim(), `Error from server (Forbidden): secrets is forbidden: User "system:bootstrap:${kept['token-id']}" cannot list resource "secrets" in API group "" in the namespace "kube-system"`);
    const role = await asKubelet('create', 'clusterrolebinding', 'mine', '--clusterrole=cluster-admin', `--user=system:bootstrap:${kept['token-id']}`);
    t.match(role.stderr, /is forbidden: User "system:bootstrap:[a-z0-9]{6}" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope/, 'it cannot grant itself more');
  });

  await t.test("the controller manager approves the node's CSR and signs it with the cluster CA", async (t) => {
    const jsonpath = '{.status.conditions[0].type} {.status.conditions[0].reason} {.status.certificate}';
    let seen = '';
    for (let i = 0; i < 30 && !/^Approved AutoApproved \S+$/.test(seen); i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      seen = (await admin('get', 'csr', 'node-csr-worker-0', '-o', `jsonpath=${jsonpath}`)).stdout.trim();
    }
    const [type, reason, certificate] = seen.split(' ');
    t.equal(`${type} ${reason}`, 'Approved AutoApproved', 'approved by the controller manager');
    const certPath = join(dir, 'worker-0.pem');
    writeFileSync(certPath, Buffer.from(certificate ?? '', 'base64'));
    const verify = await run('openssl', ['verify', '-CAfile', join(cpl.pkiDir, 'ca.pem'), certPath]);
    t.equal(verify.stdout.trim(), `${certPath}: OK`, `signed by the cluster CA ${verify.stderr}`);
    const text = (await run('openssl', ['x509', '-in', certPath, '-noout', '-subject', '-ext', 'extendedKeyUsage', '-nameopt', 'RFC2253'])).stdout;
    t.match(text, /subject=CN=system:node:worker-0,O=system:nodes/);
    t.match(text, /TLS Web Client Authentication/);
    const pub = async (args: string[]) => (await run('openssl', args)).stdout;
    t.equal(await pub(['x509', '-in', certPath, '-noout', '-pubkey']), await pub(['pkey', '-in', join(dir, 'node-csr-worker-0-key.pem'), '-pubout']), "for the node's key");
    const log = await cpl.onHost(hosts[0], 'journalctl -u kube-controller-manager --no-pager -o cat');
    t.match(log, /node-csr-worker-0 approved \(nodeclient\)/);

    // Not a node's certificate: the approver leaves it pending, and the bootstrapper may not approve it itself.
    const other = await asKubelet('create', '-f', await csrFor('not-a-node', '/O=system:nodes/CN=admin'));
    t.equal(other.rc, 0, other.stderr);
    const approve = await asKubelet('certificate', 'approve', 'not-a-node');
    t.match(approve.stderr, /certificatesigningrequests.certificates.k8s.io "not-a-node" is forbidden: User "system:bootstrap:[a-z0-9]{6}" cannot update resource "certificatesigningrequests\/approval" in API group "certificates.k8s.io" at the cluster scope/);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    t.equal((await admin('get', 'csr', 'not-a-node', '-o', 'jsonpath={.status}')).stdout, '{}', 'still pending after 5 s');
  });

  await t.test('a wrong, expired or non-authentication token is 401', async (t) => {
    const unauthorized = 'error: You must be logged in to the server (Unauthorized)';
    const wrong = await asKubelet('--token', `${kept['token-id']}.${kept['token-secret'].replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'))}`, 'get', 'csr');
    t.equal(wrong.stderr.trim(), unauthorized, 'a wrong secret');
    const unknown = await asKubelet('--token', 'zzzzzz.0123456789abcdef', 'get', 'csr');
    t.equal(unknown.stderr.trim(), unauthorized, 'a token with no Secret');
    // Tokens the admin makes beside it: each is valid but for one thing.
    const token = (id: string, fields: Record<string, string>): string => JSON.stringify({
      apiVersion: 'v1', kind: 'Secret', type: 'bootstrap.kubernetes.io/token', metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
      stringData: { 'token-id': id, 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', ...fields },
    });
    const future = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const past = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    for (const [id, fields] of [['good01', { expiration: future }], ['expire', { expiration: past }], ['nousag', { 'usage-bootstrap-authentication': 'false' }],
      ['badgrp', { 'auth-extra-groups': 'system:masters' }]] as const) {
      const file = join(dir, `${id}.json`);
      writeFileSync(file, token(id, fields));
      const applied = await admin('apply', '--server-side', '-f', file);
      t.equal(applied.rc, 0, applied.stderr);
    }
    const good = await asKubelet('--token', 'good01.0123456789abcdef', 'get', 'csr', 'node-csr-worker-0', '-o', 'name');
    t.equal(good.rc, 0, `a valid token the admin made works: ${good.stderr}`);
    for (const [id, what] of [['expire', 'an expired token'], ['nousag', 'usage-bootstrap-authentication not true'], ['badgrp', 'an extra group outside system:bootstrappers:']]) {
      const r = await asKubelet('--token', `${id}.0123456789abcdef`, 'get', 'csr');
      t.equal(r.stderr.trim(), unauthorized, what);
    }
    const typed = join(dir, 'opaque.json');
    writeFileSync(typed, token('opaque', { expiration: future }).replace('bootstrap.kubernetes.io/token', 'Opaque'));
    t.equal((await admin('apply', '--server-side', '-f', typed)).rc, 0);
    t.equal((await asKubelet('--token', 'opaque.0123456789abcdef', 'get', 'csr')).stderr.trim(), unauthorized, 'a Secret of another type');
  });

  const second = await cpl.run();
  t.equal(second.code, 0, second.stderr);
  t.same(changedBy(hosts, second), { 'controller-0': 0 }, 'a second run changes nothing: the token is kept');
  const check = await cpl.run('--check');
  t.equal(check.code, 0, check.stderr);
  t.equal(failedIn(hosts, check), 0);
  t.same(changedBy(hosts, check), { 'controller-0': 0 }, '--check predicts nothing to do');
  const still = parse(readFileSync(join(cpl.pkiDir, 'bootstrap-token.yaml'), 'utf8')) as Record<string, string>;
  t.equal(still['token-id'], kept['token-id'], 'the same token');
});
