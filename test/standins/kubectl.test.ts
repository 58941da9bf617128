// The real kubectl against the kube-apiserver stand-in and a real etcd: apply (client-side and --server-side),
// diff (server-side dry run), get; what was applied is in etcd under /registry/..., secrets encrypted.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { KUBECTL, makePki, runToExit, standins, startApiserver, startEtcd, tempDir } from './fixture.ts';

const dir = tempDir(t, 'kubectl');
const pki = makePki(dir);
const etcd = await startEtcd(t, pki, dir);
const bin = await standins(t, '1.32.4');
const api = await startApiserver(t, bin['kube-apiserver'], pki, etcd);
const kubeconfig = pki.kubeconfig('admin', api.url);
const kubectl = (...args: string[]): { rc: number | null; output: string } =>
  runToExit(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args]);
const manifest = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const rbac = (verbs: string): string => `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:kube-apiserver-to-kubelet
  annotations:
    rbac.authorization.kubernetes.io/autoupdate: "true"
rules:
  - apiGroups: [""]
    resources: ["nodes/proxy", "nodes/stats", "nodes/log", "nodes/spec", "nodes/metrics"]
    verbs: [${verbs}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:kube-apiserver
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:kube-apiserver-to-kubelet
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: kubernetes
`;

t.test('kubectl version reads the server version', async (t) => {
  t.match(kubectl('version').output, 'Server Version: v1.32.4');
});

t.test('client-side apply, diff and get of a ClusterRole and its binding', async (t) => {
  const first = manifest('rbac.yaml', rbac('"*"'));
  const created = kubectl('apply', '-f', first);
  t.equal(created.rc, 0, created.output);
  t.match(created.output, 'clusterrole.rbac.authorization.k8s.io/system:kube-apiserver-to-kubelet created');
  t.match(created.output, 'clusterrolebinding.rbac.authorization.k8s.io/system:kube-apiserver created');
  t.same(kubectl('diff', '-f', first), { rc: 0, output: '' }, 'diff says nothing once applied');
  t.match(kubectl('apply', '-f', first).output, 'system:kube-apiserver-to-kubelet unchanged');

  const edited = manifest('rbac-edited.yaml', rbac('"get", "list"'));
  const diff = kubectl('diff', '-f', edited);
  t.equal(diff.rc, 1, 'diff exits 1 when the server would change');
  t.match(diff.output, /^- {2}- '\*'$/m);
  t.match(diff.output, /^\+ {2}- get$/m);
  t.match(kubectl('apply', '-f', edited).output, 'system:kube-apiserver-to-kubelet configured');
  t.same(kubectl('diff', '-f', edited), { rc: 0, output: '' });

  const got = kubectl('get', 'clusterrole', 'system:kube-apiserver-to-kubelet');
  t.equal(got.rc, 0);
  t.match(got.output, /^NAME\s+CREATED AT\nsystem:kube-apiserver-to-kubelet\s+\d{4}-/);
  t.match(kubectl('get', 'clusterrolebinding', 'system:kube-apiserver', '-o', 'jsonpath={.subjects[0].name}').output, /^kubernetes$/);
  const stored = etcd.etcdctl('get', '/registry/clusterroles/system:kube-apiserver-to-kubelet', '--print-value-only');
  t.same(JSON.parse(stored).rules[0].verbs, ['get', 'list'], 'the object is in etcd as the real one keys it');
  t.match(kubectl('get', 'clusterrole', 'nope').output, 'clusterroles.rbac.authorization.k8s.io "nope" not found');
});

t.test('the server refuses what the real one refuses: unknown fields, a changed roleRef', async (t) => {
  const typo = kubectl('apply', '-f', manifest('typo.yaml', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: typo}\nrules:\n  - apiGroups: [""]\n    resources: [pods]\n    verb: [get]\n'));
  t.equal(typo.rc, 1);
  t.match(typo.output, 'strict decoding error: unknown field "rules[0].verb"');
  const first = kubectl('apply', '-f', manifest('binding.yaml', rbac('"get"').split('---\n')[1]));
  t.equal(first.rc, 0, first.output);
  const moved = kubectl('apply', '-f', manifest('binding-moved.yaml', rbac('"get"').split('---\n')[1].replace('name: system:kube-apiserver-to-kubelet', 'name: other')));
  t.equal(moved.rc, 1);
  t.match(moved.output, 'cannot change roleRef');
});

t.test('server-side apply and diff --server-side of a ConfigMap, a Namespace and a Secret', async (t) => {
  const objects = (data: string): string => `apiVersion: v1
kind: Namespace
metadata: {name: kplay}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: kplay}
data: {${data}}
---
apiVersion: v1
kind: Secret
metadata: {name: token, namespace: kplay}
stringData: {token: not-in-clear}
`;
  const first = manifest('ssa.yaml', objects('a: "1", b: "2"'));
  const applied = kubectl('apply', '--server-side', '--field-manager=kplay', '-f', first);
  t.equal(applied.rc, 0, applied.output);
  t.match(applied.output, 'configmap/settings serverside-applied');
  t.same(kubectl('diff', '--server-side', '--field-manager=kplay', '-f', first), { rc: 0, output: '' });
  const edited = manifest('ssa-edited.yaml', objects('a: "1", c: "3"'));
  const diff = kubectl('diff', '--server-side', '--field-manager=kplay', '-f', edited);
  t.equal(diff.rc, 1);
  t.match(diff.output, /^- {2}b: "2"$/m);
  t.match(diff.output, /^\+ {2}c: "3"$/m);
  t.equal(kubectl('apply', '--server-side', '--field-manager=kplay', '-f', edited).rc, 0);
  t.equal(kubectl('get', 'configmap', '-n', 'kplay', 'settings', '-o', 'jsonpath={.data}').output, '{"a":"1","c":"3"}', 'a field dropped from the manifest is removed');
  t.equal(kubectl('get', 'secret', '-n', 'kplay', 'token', '-o', 'jsonpath={.data.token}').output, Buffer.from('not-in-clear').toString('base64'));
  const raw = etcd.etcdctl('get', '/registry/secrets/kplay/token', '--print-value-only');
  t.match(raw, /^k8s:enc:aescbc:v1:key1:/, 'secrets are encrypted at rest with the configured key');
  t.notMatch(raw, 'not-in-clear');
});
