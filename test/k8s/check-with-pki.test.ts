// Issue 14, acceptance 5: --check on fresh hosts while the PKI folder already exists on the machine running kplay
// (hosts rebuilt or replaced, the usual case) predicts the first run exactly: the same tasks changed on each host.
// The kubelet RBAC task then finds a kubeconfig but no API server yet, and must predict its objects as created.

import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, type KplayResult } from '../helpers/kplay.ts';
import { changedBy, failedIn, startControlPlaneLab } from './control-plane-lab.ts';

const options = (dir: string) => ({ count: 1, versions: ['1.30.2'], dir, binaries: 'folder' as const, example: join(REPO, 'inventory/one-master.yml') });

/** `host: task` of every changed result, in order. */
const changedTasks = (r: KplayResult): string[] =>
  r.events.flatMap((e) => (e.type === 'result' && e.status === 'changed' ? [`${e.host}: ${e.task.name}`] : []));

t.test('--check on fresh hosts with the PKI already on the controller', async (t) => {
  const dir = t.testdir({});
  const before = await startControlPlaneLab(options(dir));
  try {
    const r = await before.run();
    t.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
  } finally {
    await before.stop();
  }
  t.ok(existsSync(join(dir, 'pki', 'ca.pem')), 'the PKI folder is there from the earlier run');

  const cpl = await startControlPlaneLab(options(dir));
  t.teardown(() => cpl.stop());
  t.equal(await cpl.onHost('controller-0', 'ls -d /var/lib/kubernetes 2>/dev/null | wc -l'), '0', 'the host is fresh');
  const check = await cpl.run('--check');
  t.equal(check.code, 0, check.stderr + check.stdout.slice(-3000));
  t.equal(failedIn(cpl.hosts, check), 0, 'no task failed in --check');
  const rbac = check.events.find((e) => e.type === 'result' && e.task.module === 'kubectl_apply');
  t.match(rbac, { status: 'changed' }, 'the kubelet RBAC objects are predicted as created');
  const first = await cpl.run();
  t.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));
  t.same(changedTasks(first), changedTasks(check), 'the same tasks changed, in the same order');
  t.same(changedBy(cpl.hosts, first), changedBy(cpl.hosts, check), 'the same changed count');
});
