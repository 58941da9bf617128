// Named labs run beside the default one: their own bridge, subnet, cgroup and state folder, so tests that need
// systemd hosts can run at the same time; stopping one leaves the other up.

import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { LAB_NAME, sshRun, startControllers } from '../lab/nspawn.ts';

const execFileP = promisify(execFile);
const links = async (): Promise<string> => (await execFileP('ip', ['-o', 'link', 'show'])).stdout;

t.test('two named labs at once, each reachable on its own subnet, each stopped alone', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root: the lab boots containers, mounts overlays and makes a bridge');
  const [a, b] = await Promise.all([startControllers({ name: 'nameda', count: 1, replace: true }), startControllers({ name: 'namedb', count: 1, replace: true })]);
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  t.not(a.subnet, b.subnet, 'each lab has a subnet of its own');
  t.notMatch(a.subnet, /^10\.240\./, 'not the default lab\'s subnet');
  for (const lab of [a, b]) {
    const r = await sshRun(lab, 'controller-0', 'hostname; systemctl is-system-running');
    t.match(r.stdout, /^controller-0\n(running|degraded)/, `${lab.bridge}: its host answers over SSH with systemd up`);
  }
  await a.stop();
  t.notMatch(await links(), /kpl-nameda\b/, 'the stopped lab\'s bridge is gone');
  t.notOk(readdirSync('/run/kplay-lab').includes('controllers-nameda'), 'its state folder is gone');
  for (const root of ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified']) {
    if (existsSync(root)) t.notOk(existsSync(`${root}/${LAB_NAME}/controllers-nameda`), `no cgroup left in ${root}`);
  }
  const still = await sshRun(b, 'controller-0', 'true');
  t.equal(still.rc, 0, `the other lab is still up: ${still.stderr}`);
});
