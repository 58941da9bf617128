// Static-pods mode without a lab: the manifests a --check --diff run of the control-plane roles would write on a fresh
// host are Pods as kubeadm writes them (image of the release, probes on the component's port, requests, priority,
// host network, every file a flag names inside a mounted host path), and they carry exactly the flags the systemd
// mode's units get, for the oldest and the newest release; etcd as a static pod too.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { kplay, REPO } from '../helpers/kplay.ts';
import { loadFlagTable } from '../../roles/kube-common/lib/flag-table.ts';

const FIXTURES = join(REPO, 'test/k8s/fixtures');
const KUBE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
const PORTS: Record<string, number> = { 'kube-apiserver': 6443, 'kube-controller-manager': 10257, 'kube-scheduler': 10259 };

interface Probe {
  httpGet: { host: string; path: string; port: number; scheme: string };
  failureThreshold: number;
  periodSeconds: number;
}
interface Pod {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: {
      name: string;
      image: string;
      command: string[];
      resources: { requests: { cpu: string } };
      livenessProbe: Probe;
      readinessProbe?: Probe;
      startupProbe: Probe;
      volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
    }[];
    hostNetwork: boolean;
    priorityClassName: string;
    securityContext: { seccompProfile: { type: string } };
    volumes: { name: string; hostPath: { path: string; type: string } }[];
  };
}

/** The files a --check --diff run of the three roles would write, path → text. */
async function planned(dir: string, mode: string, version: string, extra: string[] = []): Promise<Map<string, string>> {
  const r = await kplay(
    ['run', join(FIXTURES, 'control-plane.yml'), '-i', join(FIXTURES, 'local-controller.yml'), '--check', '--diff', '--output', 'json',
      '-e', `kube_control_plane_mode=${mode}`, '-e', `kube_version=${version}`, '-e', `kube_manifests_dir=${dir}/manifests`,
      // etcd as a pod as well: its unit would need systemd, which this machine (kplay's controller) does not run.
      '-e', 'etcd_mode=static-pod', ...extra],
    { cwd: REPO },
  );
  if (r.code !== 0) throw new Error(r.stderr + r.stdout.slice(-2000));
  const files = new Map<string, string>();
  for (const e of r.events) if (e.type === 'result' && e.diff) for (const d of e.diff) if (d.after) files.set(d.path, d.after);
  return files;
}

/** The flag lines each unit's ExecStart would get (test/k8s/fixtures/flags.yml: kube-common's facts), unquoted as
 * systemd passes them to the program. */
async function unitFlags(dir: string, version: string): Promise<Record<string, string[]>> {
  const out = join(dir, 'flags.json');
  const r = await kplay(['run', join(FIXTURES, 'flags.yml'), '-i', join(FIXTURES, 'local-controller.yml'), '-e', `out=${out}`, '-e', `kube_version=${version}`], { cwd: REPO });
  if (r.code !== 0) throw new Error(r.stderr + r.stdout.slice(-2000));
  const lines = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string[]>;
  const unquote = (w: string): string =>
    w.replace(/^(--[^=]+=)"(.*)"$/, (_, f: string, v: string) => f + v.replace(/\\(.)/g, '$1')).replace(/%%/g, '%');
  return Object.fromEntries(KUBE.map((c) => [c, lines[c].map(unquote)]));
}

const NEWEST = `${loadFlagTable().newest}.0`;
for (const version of ['1.21.14', NEWEST]) {
  t.test(`${version}: the static pods are kubeadm's, with the units' flags`, async (t) => {
    const dir = t.testdir({});
    const pods = await planned(dir, 'static-pods', version);
    const units = await unitFlags(dir, version);
    t.notOk([...pods.keys()].some((p) => p.startsWith('/etc/systemd/system/kube-')), 'static-pods mode writes no unit');
    // The run had no way to download anything (no network, no kube_binaries_dir): the image brings the binary.
    t.notOk([...pods.keys()].some((p) => p.startsWith('/usr/local/bin/')), 'nor a binary');
    for (const component of KUBE) {
      const text = pods.get(`${dir}/manifests/${component}.yaml`);
      if (!t.ok(text, `${component}.yaml would be written`)) continue;
      const pod = parse(text!) as Pod;
      t.match(pod, { apiVersion: 'v1', kind: 'Pod', metadata: { name: component, namespace: 'kube-system', labels: { component, tier: 'control-plane' } } });
      t.match(pod.spec, { hostNetwork: true, priorityClassName: 'system-node-critical', securityContext: { seccompProfile: { type: 'RuntimeDefault' } } });
      t.equal(pod.spec.containers.length, 1);
      const c = pod.spec.containers[0];
      t.equal(c.image, `registry.k8s.io/${component}:v${version}`);
      t.equal(c.command[0], component);
      t.same(c.command.slice(1), units[component], `${component}: the same flags as its unit would get`);
      t.match(c.resources.requests.cpu, /^\d+m$/);
      for (const probe of [c.livenessProbe, c.startupProbe]) t.match(probe.httpGet, { port: PORTS[component], scheme: 'HTTPS' });
      t.equal(c.livenessProbe.httpGet.path, component === 'kube-apiserver' ? '/livez' : '/healthz');
      if (component === 'kube-apiserver') t.match(c.readinessProbe, { httpGet: { path: '/readyz', host: '10.240.0.10' } });
      // Every mount names a volume, and every file a flag names lies in a mounted folder (a container sees nothing else).
      const volumes = new Map(pod.spec.volumes.map((v) => [v.name, v.hostPath]));
      for (const m of c.volumeMounts) t.equal(volumes.get(m.name)?.path, m.mountPath, `${component}: mount ${m.name}`);
      for (const arg of c.command.slice(1)) {
        const value = arg.slice(arg.indexOf('=') + 1);
        if (!value.startsWith('/')) continue;
        t.ok(c.volumeMounts.some((m) => value.startsWith(`${m.mountPath}/`)), `${component}: ${arg} is in a mounted folder`);
      }
      const writable = c.volumeMounts.filter((m) => !m.readOnly).map((m) => m.name);
      t.same(writable, { 'kube-apiserver': ['audit-log'], 'kube-controller-manager': ['flexvolume-dir'], 'kube-scheduler': [] }[component], `${component}: writable mounts`);
    }
  });
}

t.test('a changed setting changes the one manifest it belongs to', async (t) => {
  const dir = t.testdir({});
  const before = await planned(dir, 'static-pods', NEWEST);
  const after = await planned(dir, 'static-pods', NEWEST, ['-e', '{"kube_apiserver_extra_flags": {"--event-ttl": "2h"}}']);
  const changed = KUBE.filter((c) => before.get(`${dir}/manifests/${c}.yaml`) !== after.get(`${dir}/manifests/${c}.yaml`));
  t.same(changed, ['kube-apiserver']);
  t.ok((parse(after.get(`${dir}/manifests/kube-apiserver.yaml`)!) as Pod).spec.containers[0].command.includes('--event-ttl=2h'));
  // A config file the pod reads: its checksum is in the manifest, so a new config is a new manifest (and a restart).
  const config = await planned(dir, 'static-pods', NEWEST, ['-e', '{"kube_scheduler_leader_elect": false}']);
  t.same(KUBE.filter((c) => before.get(`${dir}/manifests/${c}.yaml`) !== config.get(`${dir}/manifests/${c}.yaml`)), ['kube-scheduler']);
});

t.test("etcd_mode: static-pod: kubeadm's stacked etcd, with the unit's flags and a metrics listener for its probes", async (t) => {
  const dir = t.testdir({});
  const pods = await planned(dir, 'static-pods', NEWEST);
  const pod = parse(pods.get(`${dir}/manifests/etcd.yaml`)!) as Pod;
  const c = pod.spec.containers[0];
  t.match(pod, { metadata: { name: 'etcd', namespace: 'kube-system' }, spec: { hostNetwork: true, priorityClassName: 'system-node-critical' } });
  t.match(c.image, /^registry\.k8s\.io\/etcd:3\.5\.\d+-0$/);
  t.equal(c.command[0], 'etcd');
  t.ok(c.command.includes('--listen-metrics-urls=http://127.0.0.1:2381'), 'the probes ask a listener on this host only');
  t.ok(c.command.includes('--client-cert-auth=true') && c.command.includes('--initial-cluster-state=new'), "the unit's flags");
  for (const probe of [c.livenessProbe, c.startupProbe]) t.match(probe.httpGet, { host: '127.0.0.1', port: 2381, scheme: 'HTTP', path: /^\/health\?/ });
  for (const arg of c.command.slice(1)) {
    const value = arg.slice(arg.indexOf('=') + 1);
    if (value.startsWith('/')) t.ok(c.volumeMounts.some((m) => value === m.mountPath || value.startsWith(`${m.mountPath}/`)), `${arg} is mounted`);
  }
  t.same(c.volumeMounts.filter((m) => !m.readOnly).map((m) => m.mountPath), ['/var/lib/etcd'], 'only the data folder is writable');
  t.notOk(pods.has('/etc/systemd/system/etcd.service'), 'no etcd unit');
  // Without the kubelet of static-pods mode nothing would run the pod: refused in the first play.
  const r = await kplay(['run', join(FIXTURES, 'control-plane.yml'), '-i', join(FIXTURES, 'local-controller.yml'), '--check', '-e', 'etcd_mode=static-pod'], { cwd: REPO });
  t.equal(r.code, 2);
  t.match(r.stdout, /etcd_mode must be systemd, or static-pod with kube_control_plane_mode: static-pods/);
});

t.test('an unknown mode fails before anything is changed', async (t) => {
  const r = await kplay(['run', join(FIXTURES, 'control-plane.yml'), '-i', join(FIXTURES, 'local-controller.yml'), '--check', '-e', 'kube_control_plane_mode=static'], { cwd: REPO });
  t.equal(r.code, 2, r.stdout);
  t.match(r.stdout, /kube_control_plane_mode must be systemd or static-pods, not static/);
});
