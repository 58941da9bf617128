// kubectl_apply with the real kubectl against the kube-apiserver stand-in over a real etcd (test/standins/fixture.ts).

import t from 'tap';
import { join } from 'node:path';
import kubectlApply from '../../engine/modules/kubectl_apply.ts';
import { ModuleError } from '../../engine/modules/contract.ts';
import { CountingConnection, makeContext, runModule } from '../modules/context.ts';
import { KUBECTL, makePki, runToExit, standins, startApiserver, startEtcd, tempDir } from '../standins/fixture.ts';

const dir = tempDir(t, 'kubectl-apply');
const pki = makePki(dir);
const etcd = await startEtcd(t, pki, dir);
const bin = await standins(t, '1.32.4');
const api = await startApiserver(t, bin['kube-apiserver'], pki, etcd);
const kubeconfig = pki.kubeconfig('admin', api.url);
const kubectl = (...args: string[]): string => runToExit(KUBECTL, ['--kubeconfig', kubeconfig, ...args]).output;
const base = { kubeconfig, kubectl: KUBECTL };

const role = (verbs: string[]): Record<string, unknown> => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: 'system:kube-apiserver-to-kubelet' },
  rules: [{ apiGroups: [''], resources: ['nodes/proxy', 'nodes/stats'], verbs }],
});
const binding = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: 'system:kube-apiserver' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kube-apiserver-to-kubelet' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kubernetes' }],
};

t.test('inline definition: --check shows new objects and creates nothing; apply creates; a rerun is one exec, unchanged', async (t) => {
  const args = { ...base, definition: [role(['*']), binding] };
  const check = await runModule(kubectlApply, args, makeContext({ check: true }));
  t.equal(check.changed, true);
  t.same(check.plan.diff?.map((d) => d.path), ['ClusterRole/system:kube-apiserver-to-kubelet', 'ClusterRoleBinding/system:kube-apiserver']);
  t.equal(check.plan.diff?.[0].before, '');
  t.match(check.plan.diff?.[0].after, /name: system:kube-apiserver-to-kubelet/);
  t.match(kubectl('get', 'clusterrole', 'system:kube-apiserver-to-kubelet'), /not found/, '--check created nothing');

  const applied = await runModule(kubectlApply, args, makeContext());
  t.equal(applied.changed, true);
  t.match(applied.result.stdout, 'clusterrole.rbac.authorization.k8s.io/system:kube-apiserver-to-kubelet created');
  t.equal(kubectl('get', 'clusterrolebinding', 'system:kube-apiserver', '-o', 'jsonpath={.subjects[0].name}'), 'kubernetes');

  const conn = new CountingConnection();
  const again = await runModule(kubectlApply, args, makeContext({ conn }));
  t.equal(again.changed, false);
  t.same(conn.calls, ['exec']);
  t.same(again.result.objects, ['ClusterRole/system:kube-apiserver-to-kubelet', 'ClusterRoleBinding/system:kube-apiserver']);
});

t.test('a changed object: only it is in the diff, before and after whole; apply changes it', async (t) => {
  const args = { ...base, definition: [role(['get', 'list']), binding] };
  const plan = await runModule(kubectlApply, args, makeContext({ check: true }));
  t.equal(plan.changed, true);
  t.equal(plan.plan.diff?.length, 1);
  const [change] = plan.plan.diff ?? [];
  t.equal(change.path, 'ClusterRole/system:kube-apiserver-to-kubelet');
  t.match(change.before, /- '\*'/);
  t.match(change.after, /- get\n\s+- list/);
  t.same(plan.result.changed_objects, ['ClusterRole/system:kube-apiserver-to-kubelet']);
  t.equal((await runModule(kubectlApply, args, makeContext())).changed, true);
  t.equal(kubectl('get', 'clusterrole', 'system:kube-apiserver-to-kubelet', '-o', 'jsonpath={.rules[0].verbs}'), '["get","list"]');
  t.equal((await runModule(kubectlApply, args, makeContext())).changed, false);
});

t.test('src from files/ and template from templates/ with host variables; namespace for objects without one', async (t) => {
  const root = t.testdir({
    files: { 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n' },
    templates: { 'cm.yaml.ejs': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster\ndata:\n  cidr: "<%= cluster_cidr %>"\n' },
  });
  const ctx = (check = false): ReturnType<typeof makeContext> => makeContext({ root, vars: { cluster_cidr: '10.200.0.0/16' }, check });
  t.equal((await runModule(kubectlApply, { ...base, src: 'ns.yaml' }, ctx())).changed, true);
  const cm = { ...base, template: 'cm.yaml.ejs', namespace: 'apps' };
  const plan = await runModule(kubectlApply, cm, ctx(true));
  t.equal(plan.changed, true);
  t.equal(plan.plan.diff?.[0].path, 'ConfigMap/apps/cluster');
  t.equal((await runModule(kubectlApply, cm, ctx())).changed, true);
  t.equal(kubectl('get', 'configmap', '-n', 'apps', 'cluster', '-o', 'jsonpath={.data.cidr}'), '10.200.0.0/16');
  t.equal((await runModule(kubectlApply, cm, ctx())).changed, false);
  t.equal((await runModule(kubectlApply, { ...base, src: 'ns.yaml' }, ctx())).changed, false);
});

t.test('a namespace and objects in it, new together: changed, shown as new, all created', async (t) => {
  const text = `apiVersion: v1
kind: Namespace
metadata: {name: fresh}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: fresh}
data: {a: "1"}
`;
  const plan = await runModule(kubectlApply, { ...base, definition: text }, makeContext({ check: true }));
  t.equal(plan.changed, true);
  t.same(plan.plan.diff?.map((d) => d.path), ['Namespace/fresh', 'ConfigMap/fresh/settings']);
  t.equal((await runModule(kubectlApply, { ...base, definition: text }, makeContext())).changed, true);
  t.equal(kubectl('get', 'configmap', '-n', 'fresh', 'settings', '-o', 'jsonpath={.data.a}'), '1');
  t.equal((await runModule(kubectlApply, { ...base, definition: text }, makeContext())).changed, false);
});

t.test('a Secret: its values never reach the diff or the result, its keys do', async (t) => {
  // kubectl itself masks `data` only: stringData (and the last-applied annotation) would show in clear.
  const head = 'apiVersion: v1\nkind: Secret\nmetadata: {name: token, namespace: apps}\n';
  const created = await runModule(kubectlApply, { ...base, definition: `${head}stringData: {token: first-secret-value, user: admin}\n` }, makeContext());
  t.equal(created.changed, true);
  t.notMatch(JSON.stringify(created.plan.diff), /first-secret-value|admin|YWRtaW4=/);
  t.match(created.plan.diff?.[0].after, /token: "\*\*\* \(after\)"/);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const changed = await runModule(kubectlApply, { ...base, definition: `${head}data: {token: ${b64('second-secret-value')}, user: ${b64('admin')}}\n` }, makeContext());
  t.equal(changed.changed, true);
  const text = JSON.stringify({ diff: changed.plan.diff, result: changed.result, msg: changed.plan.msg });
  for (const value of ['first-secret-value', 'second-secret-value', 'admin']) {
    t.notMatch(text, value);
    t.notMatch(text, b64(value));
  }
  t.match(changed.plan.diff?.[0].before, /token: "\*\*\* \(before\)"/);
  t.match(changed.plan.diff?.[0].after, /token: "\*\*\* \(after\)"/);
  t.equal(kubectl('get', 'secret', '-n', 'apps', 'token', '-o', 'jsonpath={.data.token}'), b64('second-secret-value'));
});

t.test('server_side: applied by the field manager; a field dropped from the manifest is removed', async (t) => {
  const cm = (data: string): Record<string, unknown> => ({ ...base, server_side: true, definition: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: apps}\ndata: {${data}}\n` });
  t.equal((await runModule(kubectlApply, cm('a: "1", b: "2"'), makeContext())).changed, true);
  t.equal((await runModule(kubectlApply, cm('a: "1", b: "2"'), makeContext())).changed, false);
  const edit = await runModule(kubectlApply, cm('a: "1", c: "3"'), makeContext());
  t.equal(edit.changed, true);
  t.match(edit.result.stdout, 'configmap/ssa serverside-applied');
  t.equal(kubectl('get', 'configmap', '-n', 'apps', 'ssa', '-o', 'jsonpath={.data}'), '{"a":"1","c":"3"}');
  t.match(kubectl('get', 'configmap', '-n', 'apps', 'ssa', '-o', 'jsonpath={.metadata.managedFields[*].manager}'), 'kplay');
});

t.test('failures name their cause: bad YAML, an unknown kind, an unreachable kubeconfig', async (t) => {
  await t.rejects(runModule(kubectlApply, { ...base, definition: 'kind: [' }, makeContext()), { name: 'ModuleError', message: /not valid YAML/ });
  await t.rejects(runModule(kubectlApply, { ...base, definition: { apiVersion: 'v1', kind: 'Gadget', metadata: { name: 'x' } } }, makeContext()), {
    name: 'ModuleError',
    message: /kubectl diff failed: .*Gadget/,
  });
  const err = await runModule(kubectlApply, { ...base, kubeconfig: join(dir, 'none.kubeconfig'), definition: binding }, makeContext()).catch((e: unknown) => e);
  t.type(err, ModuleError);
  t.match((err as Error).message, /kubectl diff failed: .*none\.kubeconfig/);
  await t.rejects(runModule(kubectlApply, { ...base }, makeContext()), /src|template|definition/);
});

t.test('--check against a cluster not there yet: every object would be created; a manifest it refuses still fails', async (t) => {
  // An earlier task of the run would make the kubeconfig or start the API server: the real run creates the objects.
  const missing = await runModule(kubectlApply, { ...base, kubeconfig: join(dir, 'later.kubeconfig'), definition: binding }, makeContext({ check: true, diff: true }));
  t.equal(missing.changed, true);
  t.equal(missing.plan.unpredictable, undefined);
  t.match(missing.plan.diff, [{ before: '', after: /kind: ClusterRoleBinding/ }], 'shown as new');
  const down = pki.kubeconfig('kube-scheduler', 'https://127.0.0.1:1'); // another file: admin's stays as it is
  const refused = await runModule(kubectlApply, { ...base, kubeconfig: down, definition: binding }, makeContext({ check: true }));
  t.equal(refused.changed, true, 'an API server not answering yet: the same');
  await t.rejects(runModule(kubectlApply, { ...base, kubeconfig: down, definition: binding }, makeContext()), { message: /kubectl diff failed/ });
  const gadget = { ...base, definition: { apiVersion: 'v1', kind: 'Gadget', metadata: { name: 'x' } } };
  await t.rejects(runModule(kubectlApply, gadget, makeContext({ check: true })), { message: /kubectl diff failed/ });
});
