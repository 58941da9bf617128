// The kube-apiserver stand-in's authentication and authorization against a real etcd, over plain HTTPS (curl):
// bootstrap tokens only with --enable-bootstrap-token-auth, static tokens, service-account tokens from TokenRequest
// (refused once tampered with or their account is gone), RBAC with namespaced bindings, resourceNames and a missing
// role named in the 403, SubjectAccessReview, and a CSR's validation, approval and status with the signer checks.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makePki, standins, startApiserver, startEtcd, tempDir } from './fixture.ts';

const dir = tempDir(t, 'auth');
const pki = makePki(dir);
const etcd = await startEtcd(t, pki, dir);
const bin = await standins(t, '1.30.2');
const tokens = join(dir, 'tokens.csv');
writeFileSync(tokens, 'alice-token,alice,1001,"people,testers"\n');
const api = await startApiserver(t, bin['kube-apiserver'], pki, etcd, ['--enable-bootstrap-token-auth=true', `--token-auth-file=${tokens}`]);

interface Answer {
  code: number;
  doc: { message?: string; status?: Record<string, unknown>; [k: string]: unknown };
}
type Who = { token: string } | { cert: string } | null;

function call(who: Who, method: string, path: string, body?: unknown, url = api.url): Answer {
  const args = ['-sS', '--max-time', '5', '--cacert', pki.ca, '-X', method, '-w', '\n%{http_code}', '-H', 'Content-Type: application/json'];
  if (who && 'token' in who) args.push('-H', `Authorization: Bearer ${who.token}`);
  if (who && 'cert' in who) args.push('--cert', pki.cert(who.cert), '--key', pki.key(who.cert));
  if (body !== undefined) args.push('--data-binary', JSON.stringify(body));
  const r = spawnSync('curl', [...args, url + path], { encoding: 'utf8' });
  const lines = r.stdout.split('\n');
  const code = Number(lines.pop());
  let doc: Answer['doc'] = {};
  try {
    doc = JSON.parse(lines.join('\n')) as Answer['doc'];
  } catch {
    doc = { message: lines.join('\n') };
  }
  return { code, doc };
}
const admin: Who = { cert: 'admin' };
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const future = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
const rbac = (kind: string, name: string, extra: Record<string, unknown>, namespace?: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name, ...(namespace ? { namespace } : {}) }, ...extra,
});
const created = (r: Answer): boolean => r.code === 201 || r.code === 200;

t.test('admin sets up a bootstrap token and some RBAC', async (t) => {
  const secret = {
    apiVersion: 'v1', kind: 'Secret', type: 'bootstrap.kubernetes.io/token', metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' },
    data: { 'token-id': b64('abcdef'), 'token-secret': b64('0123456789abcdef'), expiration: b64(future), 'usage-bootstrap-authentication': b64('true') },
  };
  t.ok(created(call(admin, 'POST', '/api/v1/namespaces/kube-system/secrets', secret)));
  t.ok(created(call(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/roles',
    rbac('Role', 'cluster-info-reader', { rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['cluster-info'], verbs: ['get'] }] }, 'kube-public'))));
  t.ok(created(call(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/rolebindings',
    rbac('RoleBinding', 'bootstrappers-read', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cluster-info-reader' }, subjects: [{ kind: 'Group', name: 'system:bootstrappers' }] }, 'kube-public'))));
  t.ok(created(call(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    rbac('ClusterRoleBinding', 'testers-ghost', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ghost' }, subjects: [{ kind: 'Group', name: 'testers' }] }))));
  t.ok(created(call(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    rbac('ClusterRoleBinding', 'kubelet-bootstrap', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-bootstrapper' }, subjects: [{ kind: 'Group', name: 'system:bootstrappers' }] }))));
});

t.test('RBAC: namespaced bindings, resourceNames, non-resource URLs, a missing role', async (t) => {
  const boot: Who = { token: 'abcdef.0123456789abcdef' };
  t.equal(call(boot, 'GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info').code, 404, 'allowed by the RoleBinding (and not found)');
  const other = call(boot, 'GET', '/api/v1/namespaces/kube-public/configmaps/other');
  t.equal(other.code, 403, 'resourceNames limit it');
  t.equal(other.doc.message, 'configmaps "other" is forbidden: User "system:bootstrap:abcdef" cannot get resource "configmaps" in API group "" in the namespace "kube-public"');
  t.equal(call(boot, 'GET', '/api/v1/namespaces/default/configmaps/cluster-info').code, 403, 'the RoleBinding is for its namespace only');
  t.equal(call(boot, 'GET', '/api/v1/namespaces/kube-public/configmaps').code, 403, 'get is not list');
  t.equal(call(boot, 'GET', '/apis').code, 200, 'discovery for every authenticated user');
  t.equal(call(boot, 'GET', '/metrics').doc.message, 'forbidden: User "system:bootstrap:abcdef" cannot get path "/metrics"');
  const alice = call({ token: 'alice-token' }, 'GET', '/api/v1/namespaces');
  t.equal(alice.code, 403, 'a --token-auth-file user');
  t.equal(alice.doc.message, 'namespaces is forbidden: User "alice" cannot list resource "namespaces" in API group "" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found');
  t.equal(call({ token: 'bob-token' }, 'GET', '/api').code, 401, 'a token nobody takes');
  t.equal(call(null, 'GET', '/healthz').code, 200, 'anonymous: health');
  t.equal(call(null, 'GET', '/readyz/etcd').code, 403, 'anonymous: not /readyz/etcd (system:public-info-viewer has /readyz only)');
  t.equal(call({ cert: 'kube-scheduler' }, 'GET', '/api/v1/namespaces').code, 403, 'a component without its default role');
});

t.test('bootstrap tokens only with --enable-bootstrap-token-auth', async (t) => {
  const plain = await startApiserver(t, bin['kube-apiserver'], pki, etcd);
  const r = call({ token: 'abcdef.0123456789abcdef' }, 'GET', '/apis', undefined, plain.url);
  t.equal(r.code, 401);
  t.equal(r.doc.message, 'Unauthorized');
});

t.test('service-account tokens from TokenRequest', async (t) => {
  const sa = call(admin, 'POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } });
  t.equal(sa.code, 201);
  const tooShort = call(admin, 'POST', '/api/v1/namespaces/default/serviceaccounts/robot/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 60 } });
  t.equal(tooShort.code, 422);
  const issued = call(admin, 'POST', '/api/v1/namespaces/default/serviceaccounts/robot/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
  t.equal(issued.code, 201);
  const token = (issued.doc.status as { token: string }).token;
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  t.match(claims, { iss: 'https://127.0.0.1:6443', aud: ['https://127.0.0.1:6443'], sub: 'system:serviceaccount:default:robot' });
  const sigPath = join(dir, 'jwt.sig');
  writeFileSync(sigPath, Buffer.from(token.split('.')[2], 'base64url'));
  const verified = spawnSync('openssl', ['dgst', '-sha256', '-verify', pki.saPub, '-signature', sigPath], { input: token.split('.').slice(0, 2).join('.'), encoding: 'utf8' });
  t.equal(verified.stdout.trim(), 'Verified OK', 'RS256 with the service-account key, as openssl checks it');
  const listed = call({ token }, 'GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests');
  t.equal(listed.doc.message, 'certificatesigningrequests.certificates.k8s.io is forbidden: User "system:serviceaccount:default:robot" cannot list resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope');
  const parts = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url');
  t.equal(call({ token: `${parts[0]}.${forged}.${parts[2]}` }, 'GET', '/apis').code, 401, 'claims changed: the signature no longer holds');
  t.equal(call(admin, 'DELETE', '/api/v1/namespaces/default/serviceaccounts/robot').code, 200);
  t.equal(call({ token }, 'GET', '/apis').code, 401, 'its account is gone');
  t.equal(call(admin, 'POST', '/api/v1/namespaces/default/serviceaccounts/robot/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} }).code, 404);
});

t.test('SubjectAccessReview and a CSR through approval and signing', async (t) => {
  const review = (verb: string, resource: string, subresource = '') => call(admin, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
    spec: { user: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'], resourceAttributes: { group: 'certificates.k8s.io', resource, verb, subresource } },
  }).doc.status;
  t.same(review('create', 'certificatesigningrequests'), { allowed: true }, 'kubelet-bootstrap allows creating CSRs');
  t.same(review('create', 'certificatesigningrequests', 'nodeclient'), { allowed: false }, 'no nodeclient binding yet');

  const boot: Who = { token: 'abcdef.0123456789abcdef' };
  const csr = (name: string, request: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
    spec: { request, signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], ...extra },
  });
  const bad = call(boot, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', csr('bad', b64('not a request'), { signerName: '', usages: ['flying'] }));
  t.equal(bad.code, 422);
  t.match(bad.doc.message, /spec.request: Invalid value: \[\]byte\{\.\.\.\}: PEM block type must be CERTIFICATE REQUEST, spec.signerName: Required value, spec.usages\[0\]: Unsupported value: "flying"/);
  const keyPath = join(dir, 'node-key.pem');
  const made = spawnSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-subj', '/O=system:nodes/CN=system:node:n1'], { encoding: 'utf8' });
  const good = call(boot, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', csr('n1', b64(made.stdout), { username: 'admin', groups: ['system:masters'] }));
  t.equal(good.code, 201);
  t.match(good.doc, { spec: { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] }, status: {} }, 'the requester, not what the body says');

  const path = '/apis/certificates.k8s.io/v1/certificatesigningrequests/n1';
  // Without a resourceVersion: each write applies to the CSR as it is then (with the one read, a second write is a 409).
  const { resourceVersion: _rv, ...meta } = good.doc.metadata as Record<string, unknown>;
  const stale = call(admin, 'PUT', `${path}/approval`, { ...good.doc, status: { conditions: [{ type: 'Denied', status: 'True' }] }, metadata: { ...meta, resourceVersion: '1' } });
  t.equal(stale.code, 409, 'an old resourceVersion is a conflict');
  good.doc.metadata = meta;
  const approved = { ...good.doc, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok' }] } };
  t.match(call(boot, 'PUT', `${path}/approval`, approved).doc.message, /cannot update resource "certificatesigningrequests\/approval"/);
  // A user who may update approvals but not approve for this signer: the admission check refuses.
  call(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', rbac('ClusterRole', 'approvals', { rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval', 'certificatesigningrequests/status'], verbs: ['update'] }] }));
  call(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', rbac('ClusterRoleBinding', 'alice-approvals', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'approvals' }, subjects: [{ kind: 'User', name: 'alice' }] }));
  const alice = call({ token: 'alice-token' }, 'PUT', `${path}/approval`, approved);
  t.equal(alice.code, 403);
  t.equal(alice.doc.message, 'certificatesigningrequests.certificates.k8s.io "n1" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client-kubelet"');
  const both = call(admin, 'PUT', `${path}/approval`, { ...good.doc, status: { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] } });
  t.match(both.doc.message, /Approved and Denied conditions are mutually exclusive/);
  const early = call(admin, 'PUT', `${path}/status`, { ...good.doc, status: { certificate: b64('x') } });
  t.match(early.doc.message, /certificate can only be set on an approved CertificateSigningRequest/);
  t.equal(call(admin, 'PUT', `${path}/approval`, approved).code, 200, 'system:masters approves');
  t.match(call(admin, 'PUT', `${path}/status`, { ...approved, status: { ...approved.status, certificate: b64('not a certificate') } }).doc.message, /must contain at least one CERTIFICATE PEM block/);
  const cert = readFileSync(pki.cert('admin'), 'utf8');
  t.equal(call({ token: 'alice-token' }, 'PUT', `${path}/status`, { ...approved, status: { ...approved.status, certificate: b64(cert) } }).doc.message,
    'certificatesigningrequests.certificates.k8s.io "n1" is forbidden: user not permitted to sign requests with signerName "kubernetes.io/kube-apiserver-client-kubelet"');
  t.equal(call(admin, 'PUT', `${path}/status`, { ...approved, status: { ...approved.status, certificate: b64(cert) } }).code, 200);
  t.match(call(admin, 'PUT', `${path}/status`, { ...approved, status: { ...approved.status, certificate: b64(readFileSync(pki.ca, 'utf8')) } }).doc.message, /updates may not modify existing certificate content/);
  t.match(call(admin, 'PUT', `${path}/approval`, { ...good.doc, status: { conditions: [] } }).doc.message, /updates may not remove a condition of type "Approved"/);
  const live = call(admin, 'GET', path).doc as { spec: { username: string }; status: { conditions: { type: string }[] } };
  t.equal(live.spec.username, 'system:bootstrap:abcdef', 'the spec never changed');
  t.same(live.status.conditions.map((c) => c.type), ['Approved']);
});

t.test('auth-extra-groups are taken as written', async (t) => {
  const token = (id: string, groups: string) => call(admin, 'POST', '/api/v1/namespaces/kube-system/secrets', {
    apiVersion: 'v1', kind: 'Secret', type: 'bootstrap.kubernetes.io/token', metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
    stringData: { 'token-id': id, 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', 'auth-extra-groups': groups },
  });
  t.equal(token('twogrp', 'system:bootstrappers:a,system:bootstrappers:b').code, 201);
  t.equal(token('spaced', 'system:bootstrappers:a, system:bootstrappers:b').code, 201);
  t.equal(token('emptyg', 'system:bootstrappers:a,').code, 201);
  t.equal(call({ token: 'twogrp.0123456789abcdef' }, 'GET', '/apis').code, 200, 'two valid groups');
  t.equal(call({ token: 'spaced.0123456789abcdef' }, 'GET', '/apis').code, 401, 'a space after the comma makes an invalid group');
  t.equal(call({ token: 'emptyg.0123456789abcdef' }, 'GET', '/apis').code, 401, 'an empty entry is invalid');
});
