// The stand-in kubelet on this machine (no lab host): its flags per release, its config file, and the manifests it
// refuses with the reason the kubelet or the API validation gives; a dotfile is ignored, a second file defining the
// same pod is refused, a container that exits is restarted. The lab test (test/k8s-kubelet/) runs the rest on systemd.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { freePort, runToExit, standins, start, tempDir, waitUntil } from './fixture.ts';

const [v121, v124, v130, v136] = await Promise.all(['1.21.14', '1.24.17', '1.30.2', '1.36.0'].map((v) => standins(t, v)));
const dir = tempDir(t, 'kubelet');
const config = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const plain = config('plain.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n');
const flagsOnly = { STANDIN_FLAGS_ONLY: '1' };

t.test('flags and the container runtime, release by release', async (t) => {
  const endpoint = '--container-runtime-endpoint=unix:///run/containerd/containerd.sock';
  let r = runToExit(v121.kubelet, [`--config=${plain}`, endpoint], flagsOnly);
  t.equal(r.rc, 1, '1.21: the default runtime is docker');
  t.match(r.output, 'Cannot connect to the Docker daemon');
  r = runToExit(v121.kubelet, [`--config=${plain}`, '--container-runtime=remote'], flagsOnly);
  t.equal(r.rc, 1, '1.21: remote needs an endpoint');
  t.match(r.output, 'the container runtime endpoint address was not specified or empty');
  r = runToExit(v121.kubelet, [`--config=${plain}`, '--container-runtime=remote', endpoint, '--network-plugin=cni'], flagsOnly);
  t.equal(r.rc, 0, `1.21: remote with an endpoint, and --network-plugin still exists: ${r.output}`);

  r = runToExit(v124.kubelet, [`--config=${plain}`, '--network-plugin=cni'], flagsOnly);
  t.equal(r.rc, 1, '1.24: dockershim and its network flags are gone');
  t.match(r.output, 'Error: unknown flag: --network-plugin');
  r = runToExit(v124.kubelet, [`--config=${plain}`, '--container-runtime=remote'], flagsOnly);
  t.equal(r.rc, 0, '1.24: remote is the only runtime, the endpoint has a default');
  t.match(r.output, 'Flag --container-runtime has been deprecated');

  r = runToExit(v130.kubelet, [`--config=${plain}`, '--container-runtime=remote', endpoint], flagsOnly);
  t.equal(r.rc, 1, '1.30: --container-runtime is gone (1.27)');
  t.match(r.output, 'Error: unknown flag: --container-runtime');
  r = runToExit(v130.kubelet, [`--config=${plain}`], flagsOnly);
  t.equal(r.rc, 1, '1.30: the endpoint is required');
  const inConfig = config('endpoint.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncontainerRuntimeEndpoint: unix:///run/containerd/containerd.sock\n');
  t.equal(runToExit(v130.kubelet, [`--config=${inConfig}`], flagsOnly).rc, 0, '1.30: the endpoint from the config file');
  r = runToExit(v130.kubelet, [`--config=${plain}`, endpoint], flagsOnly);
  t.equal(r.rc, 0);
  t.match(r.output, 'Flag --container-runtime-endpoint has been deprecated, This parameter should be set via the config file');

  r = runToExit(v136.kubelet, [`--config=${inConfig}`, '--pod-infra-container-image=registry.k8s.io/pause:3.10'], flagsOnly);
  t.equal(r.rc, 1, '1.36: --pod-infra-container-image is gone (1.35)');
  t.match(runToExit(v136.kubelet, ['--version']).output, 'Kubernetes v1.36.0');
});

t.test('the config file: kind and apiVersion are fatal, unknown fields a warning', async (t) => {
  const wrongKind = config('wrong-kind.yaml', 'apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n');
  let r = runToExit(v130.kubelet, [`--config=${wrongKind}`], flagsOnly);
  t.equal(r.rc, 1);
  t.match(r.output, 'no kind "KubeletConfiguration" is registered for version "kubelet.config.k8s.io/v1"');
  const unknown = config('unknown.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncontainerRuntimeEndpoint: unix:///x.sock\nstaticPodPth: /x\n');
  r = runToExit(v130.kubelet, [`--config=${unknown}`], flagsOnly);
  t.equal(r.rc, 0, 'the real one falls back to a lenient decoding');
  t.match(r.output, 'Using lenient decoding as strict decoding failed" err="strict decoding error: unknown field \\"staticPodPth\\""');
  const driver = config('driver.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncontainerRuntimeEndpoint: unix:///x.sock\ncgroupDriver: systemdd\n');
  t.equal(runToExit(v130.kubelet, [`--config=${driver}`], flagsOnly).rc, 1, 'a cgroup driver that does not exist');
});

/** A pod in block YAML with `spec` lines (two spaces in) and container lines (four spaces in, after `- name: c`). */
const pod = (name: string, container: string[], spec: string[] = []): string =>
  ['apiVersion: v1', 'kind: Pod', 'metadata:', `  name: ${name}`, '  namespace: kube-system', 'spec:', '  hostNetwork: true', ...spec.map((l) => `  ${l}`),
    '  containers:', '  - name: c', ...container.map((l) => `    ${l}`), ''].join('\n');
const etcdctl = ['image: registry.k8s.io/etcd:3.5.15-0', 'command: [etcdctl, version]'];

t.test('manifests refused with the reason, a dotfile ignored, a duplicate refused, an exiting container restarted', async (t) => {
  const root = join(dir, 'root');
  const manifests = join(root, 'manifests');
  mkdirSync(manifests, { recursive: true });
  const cases: Record<string, [string, string]> = {
    'two-handlers.yaml': [pod('two-handlers', [...etcdctl, 'livenessProbe:', '  tcpSocket: {port: 2379}', '  exec: {command: [sh]}']),
      'spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type'],
    'named-port.yaml': [pod('named-port', [...etcdctl, 'readinessProbe:', '  httpGet: {port: metrics, path: /}']),
      'spec.containers[0].readinessProbe.httpGet.port: Invalid value: "metrics": no container port has this name'],
    'quantity.yaml': [pod('quantity', [...etcdctl, 'resources:', '  requests: {cpu: 1x}']), 'spec.containers[0].resources.requests[cpu]: quantities must match'],
    'over-limit.yaml': [pod('over-limit', [...etcdctl, 'resources:', '  requests: {memory: 2Gi}', '  limits: {memory: 1Gi}']),
      'spec.containers[0].resources.requests: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi'],
    'priority.yaml': [pod('priority', etcdctl, ['priorityClassName: high']), 'spec.priorityClassName: Invalid value: "high": no PriorityClass with name high was found'],
    'configmap.yaml': [pod('configmap', etcdctl, ['volumes:', '- name: cfg', '  configMap: {name: x}']), 'spec.volumes[0].configMap: Forbidden'],
    'no-volume.yaml': [pod('no-volume', [...etcdctl, 'volumeMounts:', '- {name: data, mountPath: /data}']), 'spec.containers[0].volumeMounts[0].name: Not found: "data"'],
    'seccomp.yaml': [pod('seccomp', etcdctl, ['securityContext:', '  seccompProfile: {type: Bogus}']), 'spec.securityContext.seccompProfile.type: Unsupported value: "Bogus"'],
    'probe-field.yaml': [pod('probe-field', [...etcdctl, 'livenessProbe:', '  httpGet: {port: 2379, hots: x}']),
      'strict decoding error: unknown field "spec.containers[0].livenessProbe.httpGet.hots"'],
    'wrong-type.yaml': [pod('wrong-type', etcdctl, ['hostPID: "yes"']), 'spec.hostPID: cannot unmarshal "yes" into Go value of type bool'],
    'deployment.yaml': ['apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n', 'not a Pod of v1'],
    'image.yaml': [pod('image', ['image: nginx:1.25', 'command: [nginx]']), 'Failed to pull image "nginx:1.25": ErrImagePull'],
    'cannot-create.yaml': [pod('cannot-create', etcdctl, ['volumes:', '- name: x', `  hostPath: {path: ${join(plain, 'sub')}, type: DirectoryOrCreate}`]),
      `MountVolume.SetUp failed for volume "x" : hostPath type check failed: ${join(plain, 'sub')} cannot be created: Not a directory`],
  };
  for (const [file, [text]] of Object.entries(cases)) writeFileSync(join(manifests, file), text);
  writeFileSync(join(manifests, '.hidden.yaml'), 'kind: Nonsense\n');
  // One pod, and a backup of it beside it: the kubelet reads both files.
  writeFileSync(join(manifests, 'once.yaml'), pod('once', [...etcdctl], ['restartPolicy: Never']));
  writeFileSync(join(manifests, 'once.yaml.bak'), pod('once', [...etcdctl], ['restartPolicy: Never']));
  // A real etcd whose startup probe can never pass (nothing listens on that port): killed and started again.
  const [client, peer, closed] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(manifests, 'startup.yaml'), pod('startup', [
    'image: registry.k8s.io/etcd:3.5.15-0',
    `command: [etcd, --data-dir=/var/lib/etcd, --listen-client-urls=http://127.0.0.1:${client}, --advertise-client-urls=http://127.0.0.1:${client}, --listen-peer-urls=http://127.0.0.1:${peer}, --initial-advertise-peer-urls=http://127.0.0.1:${peer}, --initial-cluster=default=http://127.0.0.1:${peer}]`,
    'startupProbe:', `  tcpSocket: {port: ${closed}}`, '  periodSeconds: 1', '  failureThreshold: 2',
    'volumeMounts:', '- {name: data, mountPath: /var/lib/etcd}',
  ], ['terminationGracePeriodSeconds: 2', 'volumes:', '- name: data', `  hostPath: {path: ${join(root, 'etcd-data')}, type: DirectoryOrCreate}`]));
  // A container that exits 1: restarted at once, then with the back-off.
  writeFileSync(join(manifests, 'failing.yaml'), pod('failing', ['image: registry.k8s.io/etcd:3.5.15-0', 'command: [etcdctl, --no-such-flag]']));
  const healthz = await freePort();
  const cfg = config('run.yaml', `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncontainerRuntimeEndpoint: unix:///x.sock\nstaticPodPath: ${manifests}\nhealthzPort: ${healthz}\n`);
  const kubelet = start(t, v130.kubelet, [`--config=${cfg}`, `--root-dir=${root}`, '--hostname-override=node-1'], {
    STANDIN_POD_LOGS: join(root, 'logs'), STANDIN_KUBELET_POLL: '0.2',
  });
  const refusedLines = (): string[] => kubelet.output().split('\n').filter((l) => l.startsWith('static pod refused: '));
  await waitUntil(kubelet, () => refusedLines().length >= Object.keys(cases).length + 1 && /container restarted: kube-system\/failing-node-1\/c/.test(kubelet.output())
    && /container restarted: kube-system\/startup-node-1\/c/.test(kubelet.output()), 'the refusals and restarts');
  for (const [file, [, reason]] of Object.entries(cases)) {
    const line = refusedLines().filter((l) => l.startsWith(`static pod refused: ${join(manifests, file)}: `));
    t.equal(line.length, 1, `${file}: one line`);
    t.match(line[0] ?? '', reason, `${file}: ${reason}`);
  }
  t.notMatch(kubelet.output(), '.hidden.yaml', 'a dotfile is not read');
  t.match(kubelet.output(), `static pod refused: ${join(manifests, 'once.yaml.bak')}: duplicate pod kube-system/once-node-1: ${join(manifests, 'once.yaml')} defines it too`);
  t.match(kubelet.output(), /static pod started: kube-system\/once-node-1 uid=[0-9a-f]{32} pid=\d+/);
  t.match(kubelet.output(), /container restarted: kube-system\/failing-node-1\/c restartCount=1 reason=exited with code 1/);
  t.match(kubelet.output(), new RegExp(`container restarted: kube-system/startup-node-1/c restartCount=1 reason=startup probe failed: dial tcp 127\\.0\\.0\\.1:${closed}: connect: connection refused`));
  t.notMatch(kubelet.output(), 'static pod refused: ' + join(manifests, 'startup.yaml'), 'the data-dir flag lies under its mount');
  const pods = JSON.parse(readFileSync(join(root, 'standin-pods.json'), 'utf8')) as { name: string; uid: string; containers: { restartCount: number }[] }[];
  t.same(pods.map((p) => p.name), ['failing-node-1', 'once-node-1', 'startup-node-1'], 'standin-pods.json lists the pods that run');
  const once = pods.find((p) => p.name === 'once-node-1')!;
  t.match(readFileSync(join(root, 'logs', `kube-system_once-node-1_${once.uid}`, 'c', '0.log'), 'utf8'), /etcdctl version: 3\./, 'its output');
  t.equal(runToExit('curl', ['-s', `http://127.0.0.1:${healthz}/healthz`]).output, 'ok', '/healthz on the configured port');
});

t.test('a kubelet killed with SIGKILL takes its containers with it (no orphan)', async (t) => {
  const root = join(dir, 'root-kill');
  const manifests = join(root, 'manifests');
  mkdirSync(manifests, { recursive: true });
  const [client, peer] = [await freePort(), await freePort()];
  writeFileSync(join(manifests, 'etcd.yaml'), pod('etcd', [
    'image: registry.k8s.io/etcd:3.5.15-0',
    `command: [etcd, --data-dir=/var/lib/etcd, --listen-client-urls=http://127.0.0.1:${client}, --advertise-client-urls=http://127.0.0.1:${client}, --listen-peer-urls=http://127.0.0.1:${peer}, --initial-advertise-peer-urls=http://127.0.0.1:${peer}, --initial-cluster=default=http://127.0.0.1:${peer}]`,
    'volumeMounts:', '- {name: data, mountPath: /var/lib/etcd}',
  ], ['volumes:', '- name: data', `  hostPath: {path: ${join(root, 'etcd-data')}, type: DirectoryOrCreate}`]));
  const cfg = config('kill.yaml', `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncontainerRuntimeEndpoint: unix:///x.sock\nstaticPodPath: ${manifests}\nhealthzPort: 0\n`);
  const kubelet = start(t, v130.kubelet, [`--config=${cfg}`, `--root-dir=${root}`], { STANDIN_POD_LOGS: join(root, 'logs'), STANDIN_KUBELET_POLL: '0.2' });
  await waitUntil(kubelet, () => /static pod started: kube-system\/etcd-\S+ uid=\w+ pid=\d+/.test(kubelet.output()), 'the pod');
  const pid = Number(/static pod started: \S+ uid=\w+ pid=(\d+)/.exec(kubelet.output())![1]);
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  });
  t.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'etcd', 'the container runs');
  kubelet.proc.kill('SIGKILL');
  await kubelet.exited;
  // Gone, or a zombie waiting for whoever adopted it to reap it: either way no longer running.
  const state = (): string => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] === 'Z' ? 'gone' : 'running';
    } catch {
      return 'gone';
    }
  };
  const deadline = Date.now() + 5000;
  while (state() === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.equal(state(), 'gone', 'the etcd container died with the kubelet');
});

t.test('fields of the pod spec exist from the release that brought them', async (t) => {
  const decodes = async (bin: string, name: string, specLines: string[], args: string[] = []): Promise<string> => {
    const root = join(dir, `root-${name}`);
    const manifests = join(root, 'manifests');
    mkdirSync(manifests, { recursive: true });
    writeFileSync(join(manifests, 'pod.yaml'), pod(name, etcdctl, ['restartPolicy: Never', ...specLines]));
    const cfg = config(`${name}.yaml`, `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: ${manifests}\nhealthzPort: 0\n`);
    const kubelet = start(t, bin, [`--config=${cfg}`, `--root-dir=${root}`, '--container-runtime-endpoint=unix:///x.sock', ...args], {
      STANDIN_POD_LOGS: join(root, 'logs'), STANDIN_KUBELET_POLL: '0.2',
    });
    await waitUntil(kubelet, () => /static pod (started|refused)/.test(kubelet.output()), 'the pod');
    return kubelet.output().split('\n').find((l) => /^static pod (started|refused)/.test(l)) ?? '';
  };
  t.match(await decodes(v124.kubelet, 'users124', ['hostUsers: false']), 'could not decode: strict decoding error: unknown field "spec.hostUsers"', '1.24: no hostUsers (1.25)');
  t.match(await decodes(v130.kubelet, 'users130', ['hostUsers: false']), /^static pod started: kube-system\/users130-/, '1.30: hostUsers decodes');
  t.match(await decodes(v121.kubelet, 'dns121', ['dnsPolicy: Sometimes'], ['--container-runtime=remote']), 'invalid pod: [spec.dnsPolicy: Unsupported value: "Sometimes"]',
    '1.21: validation as well');
});
