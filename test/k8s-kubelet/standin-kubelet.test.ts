// The kubelet role and the stand-in kubelet on a systemd lab host of a named lab: the role installs a standalone
// kubelet (--check predicts the first run, the second changes nothing); static pods written by hand come up, are
// probed, refused with the kubelet's reason, restarted on a manifest change (that pod only, once), left alone on an
// identical rewrite, restarted on a failing liveness probe, stopped when their manifest goes, and no container
// outlives `systemctl stop kubelet`. What is asserted is what a user sees: journal lines, processes, ports.

import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay, REPO, type KplayResult } from '../helpers/kplay.ts';
import { startMirror } from '../lab/mirror.ts';
import { addressInSubnet } from '../lab/net.ts';
import { sshRun, startControllers, type Lab } from '../lab/nspawn.ts';

const VERSION = '1.30.2';
/** A release before dockershim's removal (1.24) and the runtime endpoint's move to the config file (1.27). */
const OLD = '1.23.17';
const HOST = 'controller-0';
const MANIFESTS = '/etc/kubernetes/manifests';

async function onHost(lab: Lab, command: string): Promise<string> {
  const r = await sshRun(lab, HOST, command);
  if (r.rc !== 0 && r.rc !== 3) throw new Error(`${HOST}: ${command}: rc ${r.rc}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Poll until `check` returns something truthy (and return it), or fail after `seconds`. */
async function until<T>(what: string, seconds: number, check: () => Promise<T | undefined | null | false>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

interface PodOptions {
  name: string;
  client: number;
  peer: number;
  livenessPath?: string;
  /** Extra etcd flags. */
  flags?: string[];
  hostNetwork?: boolean;
  /** Replaces the data volume's hostPath source. */
  dataVolume?: string;
  /** Leaves the data volume mount out (its flag then names a path the container would not see). */
  noMount?: boolean;
  /** A raw line added to the container (an unknown field, say). */
  containerExtra?: string;
}

/** A static pod running the host's etcd (the etcd image maps to /usr/bin/etcd) with kubeadm-like fields. */
function etcdPod(o: PodOptions): string {
  const flags = [
    `--name=${o.name}`, '--data-dir=/var/lib/etcd', `--listen-client-urls=http://127.0.0.1:${o.client}`,
    `--advertise-client-urls=http://127.0.0.1:${o.client}`, `--listen-peer-urls=http://127.0.0.1:${o.peer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${o.peer}`, `--initial-cluster=${o.name}=http://127.0.0.1:${o.peer}`,
    ...(o.flags ?? []),
  ];
  return [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  creationTimestamp: null',
    '  labels:',
    `    component: ${o.name}`,
    `  name: ${o.name}`,
    '  namespace: kube-system',
    'spec:',
    '  containers:',
    '  - command:',
    '    - etcd',
    ...flags.map((f) => `    - ${f}`),
    '    image: registry.k8s.io/etcd:3.5.15-0',
    '    imagePullPolicy: IfNotPresent',
    '    livenessProbe:',
    '      failureThreshold: 2',
    '      httpGet:',
    '        host: 127.0.0.1',
    `        path: ${o.livenessPath ?? '/health'}`,
    `        port: ${o.client}`,
    '        scheme: HTTP',
    '      periodSeconds: 1',
    '      timeoutSeconds: 2',
    '    name: etcd',
    '    ports:',
    '    - name: client',
    `      containerPort: ${o.client}`,
    '    readinessProbe:',
    '      httpGet:',
    '        path: /health',
    '        port: client',
    '      periodSeconds: 1',
    '    resources:',
    '      requests:',
    '        cpu: 100m',
    '        memory: 100Mi',
    ...(o.containerExtra ? [`    ${o.containerExtra}`] : []),
    ...(o.noMount ? [] : ['    volumeMounts:', '    - mountPath: /var/lib/etcd', '      name: etcd-data']),
    `  hostNetwork: ${o.hostNetwork ?? true}`,
    '  priorityClassName: system-node-critical',
    '  securityContext:',
    '    seccompProfile:',
    '      type: RuntimeDefault',
    '  terminationGracePeriodSeconds: 5',
    '  volumes:',
    '  - hostPath:',
    `      path: ${o.dataVolume ?? `/var/lib/${o.name}`}`,
    `      type: ${o.dataVolume ? 'Directory' : 'DirectoryOrCreate'}`,
    '    name: etcd-data',
    'status: {}',
    '',
  ].join('\n');
}

/** A manifest written as a careful writer does: a dotfile beside it (the kubelet ignores dotfiles), then a rename. */
const writeManifest = (lab: Lab, file: string, text: string): Promise<string> =>
  onHost(lab, `cd ${MANIFESTS} && echo ${Buffer.from(text).toString('base64')} | base64 -d > .${file}.tmp && mv .${file}.tmp ${file}`);

const journal = async (lab: Lab): Promise<string[]> => (await onHost(lab, 'journalctl -u kubelet --no-pager -o cat')).split('\n');
const lines = (all: string[], prefix: string): string[] => all.filter((l) => l.startsWith(prefix));

interface PodState {
  namespace: string;
  name: string;
  uid: string;
  manifest: string;
  containers: { name: string; pid: number | null; restartCount: number; ready: boolean }[];
}
const pods = async (lab: Lab): Promise<Record<string, PodState>> =>
  Object.fromEntries((JSON.parse(await onHost(lab, 'cat /var/lib/kubelet/standin-pods.json')) as PodState[]).map((p) => [p.name.replace(/-controller-0$/, ''), p]));

t.test('the kubelet role and the stand-in kubelet running static pods', async (t) => {
  const lab = await startControllers({ name: 'kubelet', count: 1, replace: true });
  t.teardown(() => lab.stop());
  const dir = t.testdir({});
  const mirror = await startMirror({ dir: join(dir, 'mirror'), versions: [VERSION, OLD], host: addressInSubnet(lab.subnet, 1) });
  t.teardown(() => mirror.stop());

  // A playbook with the role, on the lab's inventory; kplay.yml beside it names the repository's roles.
  writeFileSync(join(dir, 'kplay.yml'), `roles_path: [${join(REPO, 'roles')}]\n`);
  writeFileSync(join(dir, 'site.yml'), '- hosts: controllers\n  gather_facts: false\n  roles: [kubelet]\n');
  mkdirSync(join(dir, 'group_vars'));
  const vars = `kube_version: "${VERSION}"\nkube_download_url: ${mirror.url}/v{{ kube_version }}/bin/linux/amd64\n`;
  writeFileSync(join(dir, 'group_vars', 'controllers.yml'), vars);
  const inventory = join(dir, 'inventory.yml');
  writeFileSync(inventory, readFileSync(lab.inventoryPath, 'utf8'));
  const run = (...args: string[]): Promise<KplayResult> => kplay(['run', join(dir, 'site.yml'), '-i', inventory, '--output', 'json', ...args], { cwd: dir });
  const changed = (r: KplayResult): number | undefined => r.recap?.[HOST]?.changed;

  // The lab tells the kubelet where the stand-in components' "images" are; the role never mentions stand-ins.
  await onHost(lab, `mkdir -p /etc/systemd/system/kubelet.service.d && printf '[Service]\\nEnvironment=STANDIN_IMAGE_MIRROR=${mirror.url}\\n' > /etc/systemd/system/kubelet.service.d/standin.conf`);

  await t.test('the role: --check predicts the first run, the second run changes nothing', async (t) => {
    const check = await run('--check');
    t.equal(check.code, 0, check.stderr + check.stdout.slice(-2000));
    t.equal(await onHost(lab, 'test -e /usr/local/bin/kubelet && echo present || echo absent'), 'absent', '--check installed nothing');
    const first = await run();
    t.equal(first.code, 0, first.stderr + first.stdout.slice(-2000));
    t.equal(changed(first), changed(check), `--check predicted the changed count (${changed(check)})`);
    const changedNames = (r: KplayResult): string[] => r.events.flatMap((e) => (e.type === 'result' && e.status === 'changed' ? [e.task.name] : []));
    const changedTasks = changedNames(first);
    t.same(changedTasks, changedNames(check), '--check predicted the same tasks (and loop items) as changed');
    t.same([...new Set(changedTasks)], ["kubelet's folders", 'download kubelet', "kubelet's config", "kubelet's unit", 'restart kubelet', 'kubelet enabled and started'],
      'folders, binary, config, unit, the restart handler (flushed before the start), enabled');
    t.equal(changed(first), 6);
    t.equal(await onHost(lab, 'systemctl is-active kubelet; systemctl is-enabled kubelet'), 'active\nenabled');
    t.equal(await onHost(lab, 'curl -s http://127.0.0.1:10248/healthz'), 'ok', 'the kubelet answers /healthz on 127.0.0.1:10248');
    t.equal(await onHost(lab, 'stat -c %a /etc/kubernetes/manifests'), '700', 'the manifests folder is 0700, as kubeadm makes it');
    const config = await onHost(lab, 'cat /var/lib/kubelet/config.yaml');
    for (const line of ['kind: KubeletConfiguration', 'staticPodPath: /etc/kubernetes/manifests', 'readOnlyPort: 0', 'cgroupDriver: systemd',
      'containerRuntimeEndpoint: unix:///run/containerd/containerd.sock']) t.match(config, line, `config: ${line}`);
    t.match(await onHost(lab, '/usr/local/bin/kubelet --version'), `Kubernetes v${VERSION}`);
    const second = await run();
    t.equal(second.code, 0, second.stderr);
    t.equal(changed(second), 0, 'the second run changes nothing');
  });

  await t.test('pods come up, get ready, and serve', async (t) => {
    await writeManifest(lab, 'etcd-a.yaml', etcdPod({ name: 'etcd-a', client: 23790, peer: 23800 }));
    await writeManifest(lab, 'etcd-b.yaml', etcdPod({ name: 'etcd-b', client: 23791, peer: 23801 }));
    const state = await until('both pods ready', 30, async () => {
      const p = await pods(lab).catch(() => ({}) as Record<string, PodState>);
      return p['etcd-a']?.containers[0].ready && p['etcd-b']?.containers[0].ready ? p : null;
    });
    const j = await journal(lab);
    t.equal(lines(j, 'static pod started: kube-system/etcd-a-controller-0 ').length, 1, 'one started line for etcd-a');
    t.match(lines(j, 'static pod started: kube-system/etcd-a-controller-0 ')[0], new RegExp(`uid=${state['etcd-a'].uid} pid=${state['etcd-a'].containers[0].pid}$`));
    t.equal(await onHost(lab, 'curl -s http://127.0.0.1:23790/health'), '{"health":"true"}', 'etcd-a answers on its port');
    t.equal(await onHost(lab, 'curl -s http://127.0.0.1:23791/health'), '{"health":"true"}', 'etcd-b answers on its port');
    t.equal(await onHost(lab, `cat /proc/${state['etcd-a'].containers[0].pid}/comm`), 'etcd', 'the pid is the etcd process');
    t.equal(await onHost(lab, `test -s /var/log/pods/kube-system_etcd-a-controller-0_${state['etcd-a'].uid}/etcd/0.log && echo logged`), 'logged',
      'its output is in /var/log/pods/<namespace>_<name>-<node>_<uid>/<container>/0.log');
  });

  await t.test('a stand-in component image runs that version of the stand-in, fetched from the mirror', async (t) => {
    const manifest = [
      'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: scheduler-version', '  namespace: kube-system', 'spec:', '  hostNetwork: true',
      '  restartPolicy: OnFailure', '  containers:', '  - name: kube-scheduler', `    image: registry.k8s.io/kube-scheduler:v${VERSION}`,
      '    command:', '    - kube-scheduler', '    - --version', '',
    ].join('\n');
    await writeManifest(lab, 'scheduler-version.yaml', manifest);
    const uid = await until('the scheduler pod', 20, async () => (await pods(lab).catch(() => ({}) as Record<string, PodState>))['scheduler-version']?.uid);
    const out = await until('its output', 20, async () => onHost(lab, `cat /var/log/pods/kube-system_scheduler-version-controller-0_${uid}/kube-scheduler/0.log 2>/dev/null`));
    t.match(out, `Kubernetes v${VERSION}`, 'the container ran the stand-in kube-scheduler of the image\'s version');
    t.match(await onHost(lab, `ls /var/lib/kubelet/standin-images/kube-scheduler/v${VERSION}/`), 'kube-scheduler', 'cached by image tag');
    await onHost(lab, `rm ${MANIFESTS}/scheduler-version.yaml`);
  });

  await t.test('manifests the kubelet refuses: the reason in the journal, nothing started', async (t) => {
    const bad: Record<string, [string, RegExp]> = {
      'bad-field.yaml': [etcdPod({ name: 'bad-field', client: 23792, peer: 23802, containerExtra: 'livenesProbe: {}' }),
        /could not decode: strict decoding error: unknown field "spec\.containers\[0\]\.livenesProbe"/],
      'bad-hostpath.yaml': [etcdPod({ name: 'bad-hostpath', client: 23793, peer: 23803, dataVolume: '/srv/missing' }),
        /MountVolume\.SetUp failed for volume "etcd-data" : hostPath type check failed: \/srv\/missing is not a directory/],
      'bad-network.yaml': [etcdPod({ name: 'bad-network', client: 23794, peer: 23804, hostNetwork: false }),
        /spec\.hostNetwork: Invalid value: false: the lab has no CNI network plugin/],
      'bad-mount.yaml': [etcdPod({ name: 'bad-mount', client: 23795, peer: 23805, noMount: true }),
        /container etcd: flag --data-dir names \/var\/lib\/etcd, which is under none of its volumeMounts/],
    };
    // A scheduler config (mounted) that names a kubeconfig the container would not see.
    await onHost(lab, 'printf "apiVersion: kubescheduler.config.k8s.io/v1\\nkind: KubeSchedulerConfiguration\\nclientConnection:\\n  kubeconfig: /etc/kubernetes/sched-test.kubeconfig\\n" > /etc/kubernetes/sched-test.yaml');
    bad['bad-config.yaml'] = [[
      'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: bad-config', '  namespace: kube-system', 'spec:', '  hostNetwork: true',
      '  containers:', '  - name: kube-scheduler', `    image: registry.k8s.io/kube-scheduler:v${VERSION}`, '    command:', '    - kube-scheduler',
      '    - --config=/etc/kubernetes/sched-test.yaml', '    volumeMounts:', '    - name: config', '      mountPath: /etc/kubernetes/sched-test.yaml',
      '      readOnly: true', '  volumes:', '  - name: config', '    hostPath:', '      path: /etc/kubernetes/sched-test.yaml', '      type: File', '',
    ].join('\n'), /container kube-scheduler: \/etc\/kubernetes\/sched-test\.yaml \(from --config\) names \/etc\/kubernetes\/sched-test\.kubeconfig at clientConnection\.kubeconfig, which is under none of its volumeMounts/];
    for (const [file, [text]] of Object.entries(bad)) await writeManifest(lab, file, text);
    const refused = await until('five refusals', 20, async () => {
      const r = lines(await journal(lab), 'static pod refused: ');
      return r.length >= 5 ? r : null;
    });
    for (const [file, [, reason]] of Object.entries(bad)) {
      const line = refused.filter((l) => l.startsWith(`static pod refused: ${MANIFESTS}/${file}: `));
      t.equal(line.length, 1, `${file}: refused once (not every poll)`);
      t.match(line[0] ?? '', reason, `${file}: ${reason.source}`);
    }
    const j = await journal(lab);
    t.same(j.filter((l) => /static pod started: kube-system\/bad-/.test(l)), [], 'none of them started');
    t.equal(await onHost(lab, 'pgrep -f -- "--name=[b]ad-|[s]ched-test" || true'), '', 'no process of theirs');
    t.same(Object.keys(await pods(lab)).filter((n) => n.startsWith('bad-')), [], 'none in standin-pods.json');
    await onHost(lab, `rm ${Object.keys(bad).map((f) => `${MANIFESTS}/${f}`).join(' ')}`);
  });

  await t.test('a changed manifest restarts that pod once; an identical rewrite restarts nothing', async (t) => {
    const before = await pods(lab);
    const startedBefore = lines(await journal(lab), 'static pod started: kube-system/etcd-a-controller-0 ').length;
    await writeManifest(lab, 'etcd-a.yaml', etcdPod({ name: 'etcd-a', client: 23790, peer: 23800, flags: ['--snapshot-count=5000'] }));
    const after = await until('etcd-a restarted and ready', 30, async () => {
      const p = await pods(lab);
      return p['etcd-a'] && p['etcd-a'].uid !== before['etcd-a'].uid && p['etcd-a'].containers[0].ready ? p : null;
    });
    const j = await journal(lab);
    t.equal(lines(j, 'static pod started: kube-system/etcd-a-controller-0 ').length, startedBefore + 1, 'one new started line');
    t.match(lines(j, 'static pod stopped: kube-system/etcd-a-controller-0 ').at(-1), `uid=${before['etcd-a'].uid} reason=manifest changed`);
    t.not(after['etcd-a'].containers[0].pid, before['etcd-a'].containers[0].pid, 'a new process');
    t.match(await onHost(lab, `tr '\\0' ' ' < /proc/${after['etcd-a'].containers[0].pid}/cmdline`), '--snapshot-count=5000', 'running the new command');
    t.equal(after['etcd-b'].containers[0].pid, before['etcd-b'].containers[0].pid, 'the other pod kept its process');
    t.equal(after['etcd-b'].uid, before['etcd-b'].uid, 'and its uid');

    // The same bytes again (and a touch): the kubelet sees the same pod and does nothing.
    const count = (await journal(lab)).length;
    await writeManifest(lab, 'etcd-a.yaml', etcdPod({ name: 'etcd-a', client: 23790, peer: 23800, flags: ['--snapshot-count=5000'] }));
    await onHost(lab, `touch ${MANIFESTS}/etcd-b.yaml`);
    await new Promise((r) => setTimeout(r, 3500)); // three polls of the folder (STANDIN_KUBELET_POLL: 1 s)
    t.same((await journal(lab)).slice(count).filter((l) => /^static pod|^container restarted/.test(l)), [], 'no pod event');
    const still = await pods(lab);
    t.equal(still['etcd-a'].containers[0].pid, after['etcd-a'].containers[0].pid, 'etcd-a kept its process');
    t.equal(still['etcd-b'].containers[0].pid, before['etcd-b'].containers[0].pid, 'etcd-b kept its process');
  });

  await t.test('a failing liveness probe restarts the container', async (t) => {
    await writeManifest(lab, 'etcd-c.yaml', etcdPod({ name: 'etcd-c', client: 23796, peer: 23806, livenessPath: '/no-such-path' }));
    const line = await until('a liveness restart', 30, async () =>
      lines(await journal(lab), 'container restarted: kube-system/etcd-c-controller-0/etcd ')[0]);
    t.match(line, /restartCount=1 reason=liveness probe failed: HTTP probe failed with statuscode: 404$/);
    const p = (await pods(lab))['etcd-c'];
    t.ok(p.containers[0].restartCount >= 1, 'restartCount counts it');
    t.match(await onHost(lab, `ls /var/log/pods/kube-system_etcd-c-controller-0_${p.uid}/etcd/`), /0\.log\n1\.log/, 'one log file per start');
    await onHost(lab, `rm ${MANIFESTS}/etcd-c.yaml`);
    await until('etcd-c stopped', 20, async () => lines(await journal(lab), 'static pod stopped: kube-system/etcd-c-controller-0 ').length > 0);
  });

  await t.test('a removed manifest stops its pod', async (t) => {
    const before = await pods(lab);
    await onHost(lab, `rm ${MANIFESTS}/etcd-b.yaml`);
    const line = await until('etcd-b stopped', 20, async () => lines(await journal(lab), 'static pod stopped: kube-system/etcd-b-controller-0 ')[0]);
    t.equal(line, `static pod stopped: kube-system/etcd-b-controller-0 uid=${before['etcd-b'].uid} reason=manifest removed`);
    t.equal(await onHost(lab, `test -d /proc/${before['etcd-b'].containers[0].pid} && echo alive || echo gone`), 'gone', 'its process is gone');
    t.not((await sshRun(lab, HOST, 'curl -s http://127.0.0.1:23791/health')).rc, 0, 'its port no longer answers');
    t.notOk((await pods(lab))['etcd-b'], 'and it left standin-pods.json');
  });

  await t.test('systemctl stop kubelet leaves no container process', async (t) => {
    t.not(await onHost(lab, 'pgrep -x etcd || true'), '', 'a container runs before');
    await onHost(lab, 'systemctl stop kubelet');
    t.equal(await onHost(lab, 'pgrep -x etcd || true'), '', 'no etcd process is left');
    t.match(lines(await journal(lab), 'static pod stopped: kube-system/etcd-a-controller-0 ').at(-1), 'reason=kubelet stopping');
    await onHost(lab, 'systemctl start kubelet');
    await until('etcd-a back after the kubelet starts', 30, async () => (await pods(lab).catch(() => ({}) as Record<string, PodState>))['etcd-a']?.containers[0].ready);
    t.pass('the kubelet starts its pods again when it starts (the real one would find its containers still running)');
  });

  await t.test(`another release (${OLD}): binary, config and unit change, the kubelet restarts once, with that release's flags`, async (t) => {
    // (--check of this update is not asserted: it predicts one change too many, a second daemon-reload after the
    // flushed restart handler's; the systemd module cannot know in --check that the handler reloaded. Reported.)
    const r = await run('-e', `kube_version=${OLD}`);
    t.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
    const names = r.events.flatMap((e) => (e.type === 'result' && e.status === 'changed' ? [e.task.name] : []));
    t.same(names, ['download kubelet', "kubelet's config", "kubelet's unit", 'restart kubelet'], 'binary, config, unit, one restart');
    const handler = r.events.filter((e) => e.type === 'result' && e.task.handler && e.status === 'changed');
    t.equal(handler.length, 1, 'the restart handler ran once');
    t.match(await onHost(lab, '/usr/local/bin/kubelet --version'), `Kubernetes v${OLD}`);
    const unit = await onHost(lab, 'cat /etc/systemd/system/kubelet.service');
    t.match(unit, '--container-runtime=remote', 'before 1.24: the runtime is named (the default was docker)');
    t.match(unit, '--container-runtime-endpoint=unix:///run/containerd/containerd.sock', 'before 1.27: the endpoint is a flag');
    t.notMatch(await onHost(lab, 'cat /var/lib/kubelet/config.yaml'), 'containerRuntimeEndpoint', 'and not in the config');
    t.equal(await onHost(lab, 'systemctl is-active kubelet; curl -s http://127.0.0.1:10248/healthz'), 'active\nok', `the ${OLD} stand-in accepts them and serves`);
    t.match(await onHost(lab, 'journalctl -u kubelet --no-pager -o cat | grep -c "kubelet v1.23.17: STAND-IN"'), /^1$/, 'one start of the new kubelet');
    await until('etcd-a running under the new kubelet', 30, async () => (await pods(lab).catch(() => ({}) as Record<string, PodState>))['etcd-a']?.containers[0].ready);
    const again = await run('-e', `kube_version=${OLD}`);
    t.equal(changed(again), 0, 'and a second run changes nothing');
  });
});
