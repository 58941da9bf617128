// The roles' flags for a Kubernetes release, checked against the committed flag table (roles/kube-common/files/
// flags.json, generated from the project's flag facts): every flag rendered for 1.21 and for the newest release
// exists in that release; renamed flags are renamed, removed ones left out; a user's flag the release rejects fails
// the run before any host is changed.

import t, { type Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay, REPO } from '../helpers/kplay.ts';
import { configApi, loadFlagTable, renderFlags, type FlagValue } from '../../roles/kube-common/lib/flag-table.ts';

interface SharedLifetime {
  added: string | null;
  removed: string | null;
}
// The committed table (generated from the project's flag facts by tools/gen-k8s-flags.ts).
const SHARED = loadFlagTable();
const NEWEST = SHARED.newest;
const FIXTURES = join(REPO, 'test/k8s/fixtures');
const COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

const minor = (v: string): number => Number(v.split('.')[1]);
/** Whether the shared table says `flag` exists in `version` (all releases here are 1.x). */
const existsIn = (l: SharedLifetime, version: string): boolean =>
  (l.added === null || minor(version) >= minor(l.added)) && (l.removed === null || minor(version) < minor(l.removed));

type Rendered = Record<(typeof COMPONENTS)[number], string[]> & { release: { scheduler_config: { apiVersion: string } } };

async function renderFor(t: Test, version: string, extra: string[] = []): Promise<{ code: number; out: string; rendered?: Rendered; stderr: string; stdout: string }> {
  const dir = t.testdir({});
  const out = join(dir, 'flags.json');
  const r = await kplay(['run', join(FIXTURES, 'flags.yml'), '-i', join(FIXTURES, 'local-controller.yml'), '-e', `out=${out}`, '-e', `kube_version=${version}`, ...extra], { cwd: REPO });
  return { ...r, out, rendered: existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Rendered) : undefined };
}

for (const version of ['1.21.14', `${NEWEST}.0`]) {
  t.test(`every flag rendered for ${version} exists in that release`, async (t) => {
    const r = await renderFor(t, version);
    t.equal(r.code, 0, r.stderr + r.stdout);
    for (const component of COMPONENTS) {
      const lines = r.rendered![component];
      t.ok(lines.length > 2, `${component}: ${lines.length} flags`);
      for (const line of lines) {
        const name = line.split('=')[0];
        const l = SHARED.components[component][name];
        t.ok(l && existsIn(l, version), `${component} ${version} has ${name}`);
      }
    }
    const api = r.rendered!.release.scheduler_config.apiVersion;
    t.ok(existsIn(SHARED.configApis.KubeSchedulerConfiguration.find((c) => c.apiVersion === api)!, version), `the scheduler config's ${api} is decoded by ${version}`);
  });
}

t.test('the rendered flags follow the release', async (t) => {
  const old = await renderFor(t, '1.21.14');
  const cm = old.rendered!['kube-controller-manager'];
  t.ok(cm.includes('--port=0'), '1.21: the controller manager turns its insecure port off');
  t.equal(old.rendered!.release.scheduler_config.apiVersion, 'kubescheduler.config.k8s.io/v1beta1');
  const now = await renderFor(t, '1.24.0');
  t.notOk(now.rendered!['kube-controller-manager'].some((l) => /^--(secure-)?port=/.test(l)), '1.24: --port is gone, and is not turned into --secure-port');
  t.equal(now.rendered!.release.scheduler_config.apiVersion, 'kubescheduler.config.k8s.io/v1beta3');
  const apiserver = now.rendered!['kube-apiserver'];
  for (const gone of ['--insecure-port', '--kubelet-https', '--experimental-encryption-provider-config', '--logtostderr']) {
    t.notOk(apiserver.some((l) => l.startsWith(`${gone}=`)), `1.24: no ${gone}`);
  }
  t.ok(apiserver.includes('--service-account-issuer=https://kubernetes.default.svc.cluster.local'), "the issuer is kubeadm's, not a host's address");
  for (const line of ['--profiling=false', '--tls-min-version=VersionTLS12', '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname', '--audit-policy-file=/etc/kubernetes/config/audit-policy.yaml']) t.ok(apiserver.includes(line), `kubeadm's standard: ${line}`);
  t.ok(now.rendered!['kube-controller-manager'].includes('--bind-address=127.0.0.1'), 'the controller manager serves on this host only');
  t.ok(old.rendered!['kube-scheduler'].includes('--port=0'), '1.21: the scheduler turns its insecure port off');
  t.notOk(now.rendered!['kube-scheduler'].some((l) => l.startsWith('--port=')), '1.24: the scheduler has no --port');
});

t.test("a user's flag the release rejects fails before anything is written", async (t) => {
  const bad = await renderFor(t, '1.24.0', ['-e', '{"kube_apiserver_extra_flags": {"--insecure-port": 0}}']);
  t.equal(bad.code, 2, 'the run fails');
  t.match(bad.stdout + bad.stderr, /kube-apiserver 1\.24\.0 does not accept --insecure-port: removed in 1\.24/);
  t.notOk(bad.rendered, 'no later task ran');
  const renamed = await renderFor(t, '1.30.0', ['-e', '{"kube_apiserver_extra_flags": {"--experimental-encryption-provider-config": "/x"}}']);
  t.equal(renamed.code, 2);
  t.match(renamed.stdout + renamed.stderr, /removed in 1\.24: use --encryption-provider-config/);
  const unsupported = await renderFor(t, '1.19.0');
  t.equal(unsupported.code, 2);
  t.match(unsupported.stdout + unsupported.stderr, /kube_version 1\.19\.0 is not supported: the roles know the flags of 1\.21 to /);
  const ok = await renderFor(t, '1.30.0', ['-e', '{"kube_apiserver_extra_flags": {"--event-ttl": "2h", "--v": null}}']);
  t.equal(ok.code, 0, ok.stderr);
  t.ok(ok.rendered!['kube-apiserver'].includes('--event-ttl=2h'), "the user's value replaces the role's");
  t.notOk(ok.rendered!['kube-apiserver'].some((l) => l.startsWith('--v=')), 'null removes a flag');
  const split = await renderFor(t, '1.30.0', ['-e', '{"kube_controller_manager_extra_flags": {"--cluster-cidr": "10.100.0.0/16"}}']);
  t.equal(split.code, 2, "flannel's network must be the controller manager's --cluster-cidr");
  t.match(split.stdout + split.stderr, /flannel_network 10\.200\.0\.0\/16 differs from kube-controller-manager's --cluster-cidr 10\.100\.0\.0\/16/);
});

t.test('the flag table code on its own', async (t) => {
  const table = loadFlagTable();
  // Every release from 1.20 requires these two: the API server's calls below carry them.
  const sa = { '--service-account-issuer': 'https://kubernetes.default.svc.cluster.local', '--service-account-signing-key-file': '/sa-key.pem' };
  const saLines = ['--service-account-issuer=https://kubernetes.default.svc.cluster.local', '--service-account-signing-key-file=/sa-key.pem'];
  const api = (version: string, user: Record<string, FlagValue>, defaults: Record<string, FlagValue> = {}): string[] =>
    renderFlags(table, { component: 'kube-apiserver', version, defaults: { ...sa, ...defaults }, user }).lines.filter((l) => !saLines.includes(l));
  const r = api('1.25.0', {}, { '--experimental-encryption-provider-config': '/e.yaml', '--logtostderr': true, 'enable-admission-plugins': 'PodSecurityPolicy,NodeRestriction', '--audit-log-path': '/var/log/a b%.log' });
  t.same(r, ['--audit-log-path="/var/log/a b%%.log"', '--enable-admission-plugins=NodeRestriction', '--encryption-provider-config=/e.yaml', '--logtostderr=true'],
    'renamed, a removed plugin dropped, quoted for systemd; --logtostderr still there in 1.25');
  t.same(api('1.26.0', {}, { '--logtostderr': true }), [], '--logtostderr is gone in 1.26');
  t.throws(() => api('1.25.0', { '--enable-admission-plugins': 'PodSecurityPolicy' }), /admission plugin PodSecurityPolicy .* removed in 1\.25: use PodSecurity/);
  t.throws(() => api('1.30.0', { '--no-such-flag': false }), /not in kplay's flag table/);
  t.same(renderFlags(table, { component: 'kube-apiserver', version: '1.30.0', defaults: sa, user: { '--no-such-flag': 1 }, unchecked: ['--no-such-flag'] }).lines, ['--no-such-flag=1', ...saLines]);
  const apis = ['1.21', '1.22', '1.23', '1.24', '1.25', '1.36'].map((v) => configApi(table, 'KubeSchedulerConfiguration', v).apiVersion.replace('kubescheduler.config.k8s.io/', ''));
  t.same(apis, ['v1beta1', 'v1beta2', 'v1beta3', 'v1beta3', 'v1', 'v1']);
  t.equal(configApi(table, 'EncryptionConfiguration', '1.30').apiVersion, 'apiserver.config.k8s.io/v1');
});

t.test('values and combinations a release refuses, for role flags and user flags alike', async (t) => {
  const table = loadFlagTable();
  const sa = { '--service-account-issuer': 'https://a', '--service-account-signing-key-file': '/k' };
  const refusal = (component: string, version: string, user: Record<string, FlagValue>, defaults: Record<string, FlagValue> = component === 'kube-apiserver' ? sa : {}): string => {
    try {
      renderFlags(table, { component, version, defaults, user });
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };
  t.match(refusal('kube-apiserver', '1.21.0', { '--runtime-config': 'api/all' }), /refuses to start with --runtime-config=api\/all \(yours\): invalid value api\/all=; instead: write api\/all=true/);
  t.equal(refusal('kube-apiserver', '1.21.0', { '--runtime-config': 'api/all=true' }), '', 'api/all=true is fine');
  t.equal(refusal('kube-apiserver', '1.22.0', { '--runtime-config': 'rbac.authorization.k8s.io/v1alpha1' }), '', 'rbac v1alpha1 is served up to 1.22');
  t.match(refusal('kube-apiserver', '1.23.0', { '--runtime-config': 'rbac.authorization.k8s.io/v1alpha1' }), /group version rbac\.authorization\.k8s\.io\/v1alpha1 that has not been registered/);
  t.match(refusal('kube-apiserver', '1.21.0', { '--insecure-port': 8080 }), /invalid port value 8080: only zero is allowed; instead: leave it out/);
  t.equal(refusal('kube-apiserver', '1.21.0', { '--insecure-port': 0 }), '', '--insecure-port=0 is accepted on 1.21');
  t.match(refusal('kube-apiserver', '1.21.0', { '--admission-control': 'NamespaceLifecycle' }, { ...sa, '--enable-admission-plugins': 'NodeRestriction' }),
    /--admission-control \(yours\) and --enable-admission-plugins \(the role's\): .*mutually exclusive; instead: give the plugins as --enable-admission-plugins/);
  t.equal(refusal('kube-apiserver', '1.21.0', { '--admission-control': 'NamespaceLifecycle', '--enable-admission-plugins': null }, { ...sa, '--enable-admission-plugins': 'NodeRestriction' }), '',
    'with the role\'s --enable-admission-plugins removed, --admission-control alone is accepted');
  t.match(refusal('kube-apiserver', '1.29.0', { '--authorization-config': '/a.yaml' }, { ...sa, '--authorization-mode': 'Node,RBAC' }), /--authorization-config \(yours\) and --authorization-mode \(the role's\)/);
  t.match(refusal('kube-apiserver', '1.28.0', { '--authorization-config': '/a.yaml' }), /does not accept --authorization-config: added only in 1\.29/);
  t.match(refusal('kube-apiserver', '1.30.0', { '--service-account-issuer': null }), /refuses to start without --service-account-issuer/);
  t.match(refusal('kube-controller-manager', '1.22.0', { '--port': 10252 }), /kube-controller-manager 1\.22\.0 refuses to start with --port=10252/);
  t.equal(refusal('kube-controller-manager', '1.21.0', { '--port': 10252 }), '', 'kcm --port=10252 is still served on 1.21');
  t.match(refusal('kube-scheduler', '1.30.0', { '--master': 'http://127.0.0.1:8080' }), /kube-scheduler 1\.30\.0 starts but does not work with --master=http:/);
  // A rule holds for the role's own flags too: a role default changed by the user is checked.
  t.match(refusal('kube-controller-manager', '1.22.0', {}, { '--port': 10252 }), /--port=10252 \(the role's\)/);
  // Every problem at once.
  const all = refusal('kube-apiserver', '1.24.0', { '--insecure-port': 0, '--kubelet-https': true, '--runtime-config': 'api/all' });
  t.equal(all.split('\n').length, 3, all);
  // The rename targets and the hardening flags are known.
  for (const [component, flag] of [['kube-apiserver', '--api-audiences'], ['kube-controller-manager', '--cluster-signing-duration'], ['kube-scheduler', '--leader-elect-resource-name'],
    ['kube-apiserver', '--profiling'], ['kube-apiserver', '--tls-min-version'], ['kube-apiserver', '--tls-cipher-suites'], ['kube-apiserver', '--kubelet-preferred-address-types'],
    ['kube-apiserver', '--requestheader-client-ca-file'], ['kube-apiserver', '--proxy-client-cert-file'], ['kube-controller-manager', '--profiling'], ['kube-scheduler', '--tls-min-version']]) {
    t.equal(refusal(component, '1.30.0', { [flag]: 'x' }), '', `${component} ${flag} is a known flag`);
  }
  // A list of issuers: repeated flags from 1.22, refused before.
  const issuers = { '--service-account-issuer': ['https://kubernetes.default.svc.cluster.local', 'https://10.240.0.10:6443'] };
  const lines = renderFlags(table, { component: 'kube-apiserver', version: '1.22.0', defaults: sa, user: issuers }).lines;
  t.same(lines.filter((l) => l.startsWith('--service-account-issuer=')), ['--service-account-issuer=https://kubernetes.default.svc.cluster.local', '--service-account-issuer=https://10.240.0.10:6443']);
  t.match(refusal('kube-apiserver', '1.21.0', issuers), /takes one --service-account-issuer only \(repeatable from 1\.22\)/);
});
