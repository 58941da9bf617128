// Issue 13, acceptance 4: kplay installs like an npm CLI. `npm pack` (which bundles the sources into dist/), then
// `npm install -g --prefix TMP` of the tarball with the network off (--offline: every dependency is bundled in the
// tarball; esbuild and tsx, optional, come from npm's cache or not at all), then `kplay` on PATH runs the hello
// playbook from another folder, finds its own roles, and starts fast: median of 10 of `kplay --version` and of the
// hello run (wall time, and CPU time, which the machine's other work does not inflate).

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/kplay.ts';
import { runInPty } from '../report/pty.ts';

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

t.test('npm pack, install the tarball offline into a prefix, run from another folder', async (t) => {
  const dir = t.testdir({ work: {} });
  execFileSync('npm', ['pack', '--pack-destination', dir], { cwd: REPO, stdio: 'pipe' });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  t.ok(tarball, 'npm pack made a tarball');
  const prefix = join(dir, 'prefix');
  execFileSync('npm', ['install', '-g', '--prefix', prefix, join(dir, tarball!), '--offline', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: 'pipe',
  });
  const bin = join(prefix, 'bin', 'kplay');
  t.ok(existsSync(bin), 'kplay is on the prefix\'s PATH');
  const home = join(prefix, 'lib', 'node_modules', 'kplay');
  t.ok(existsSync(join(home, 'dist', 'cli.cjs')), 'the bundle was built when packed');

  const work = join(dir, 'work');
  cpSync(join(home, 'playbooks', 'hello.yml'), join(work, 'hello.yml'));
  cpSync(join(home, 'playbooks', 'templates'), join(work, 'templates'), { recursive: true });
  const out = join(work, 'site');
  const hello = ['run', 'hello.yml', '-e', `dest=${out}`];
  const first = await runInPty(hello, { cols: 80, rows: 24, cwd: work, piped: true, bin });
  t.equal(first.code, 0, 'the hello playbook runs', { output: first.output });
  t.match(readFileSync(join(out, 'alice.txt'), 'utf8'), 'Welcome, alice!', 'the playbook ran');
  t.match(first.output, /localhost +: ok=7 +changed=3/);

  // Its own roles, found from the installed package.
  writeFileSync(join(work, 'roles.yml'), '- hosts: localhost\n  gather_facts: false\n  roles: [kube-common]\n');
  const roles = await runInPty(['run', 'roles.yml', '--list-tasks'], { cols: 80, rows: 24, cwd: work, piped: true, bin });
  t.equal(roles.code, 0, 'a playbook with a shipped role loads', { output: roles.output });
  t.match(roles.output, /check Kubernetes \{\{ kube_version \}\}/, 'the role kube-common, from the installed package');

  // Node's own start-up, measured the same way at the same moment: the machine is shared, so the bounds are on
  // what kplay adds to it.
  const bare = [];
  for (let i = 0; i < 10; i++) bare.push(await runInPty(['-e', '0'], { cols: 80, rows: 24, cwd: work, piped: true, bin: process.execPath }));
  const version = [];
  const run = [];
  for (let i = 0; i < 10; i++) version.push(await runInPty(['--version'], { cols: 80, rows: 24, cwd: work, piped: true, bin }));
  for (let i = 0; i < 10; i++) run.push(await runInPty(hello, { cols: 80, rows: 24, cwd: work, piped: true, bin }));
  t.ok(version.every((r) => r.code === 0 && r.output.startsWith('kplay ')), 'kplay --version');
  t.ok(run.every((r) => r.code === 0), 'ten hello runs');
  const [versionWall, versionCpu] = [median(version.map((r) => r.wallMs / 1000)), median(version.map((r) => r.cpu))];
  const [runWall, runCpu] = [median(run.map((r) => r.wallMs / 1000)), median(run.map((r) => r.cpu))];
  t.comment(`kplay --version: median ${versionWall.toFixed(3)} s wall, ${versionCpu.toFixed(3)} s CPU`);
  t.comment(`kplay run hello.yml (unchanged): median ${runWall.toFixed(3)} s wall, ${runCpu.toFixed(3)} s CPU`);
  const [nodeWall, nodeCpu] = [median(bare.map((r) => r.wallMs / 1000)), median(bare.map((r) => r.cpu))];
  t.comment(`node -e 0: median ${nodeWall.toFixed(3)} s wall, ${nodeCpu.toFixed(3)} s CPU`);
  // Start-up is measured and quoted (README), not asserted: speed goals live in benchmarks, never in timed tests.

  // V8's code cache beside the bundle (bin/load-bundle.js): a damaged one costs a compile, never the run; one written
  // by a run that only started up is written again, larger, by the next run that runs tasks.
  const cache = join(home, 'dist', 'cli.cjs.v8-cache');
  writeFileSync(cache, 'not a code cache');
  const check = await runInPty(['run', 'hello.yml', '--syntax-check'], { cols: 80, rows: 24, cwd: work, piped: true, bin });
  t.equal(check.code, 0, 'a damaged code cache is not fatal', { output: check.output });
  const startUpOnly = statSync(cache).size;
  t.ok(startUpOnly > 1000, `the --syntax-check run wrote a new cache (${startUpOnly} bytes)`);
  const again = await runInPty(hello, { cols: 80, rows: 24, cwd: work, piped: true, bin });
  t.equal(again.code, 0, 'the hello run after it', { output: again.output });
  const { size: withTasks, mtimeMs } = statSync(cache);
  t.ok(withTasks > startUpOnly * 1.2, `the run with tasks wrote it again with their functions (${startUpOnly} -> ${withTasks} bytes)`);
  await runInPty(hello, { cols: 80, rows: 24, cwd: work, piped: true, bin });
  t.equal(statSync(cache).mtimeMs, mtimeMs, 'a later run keeps it');
});
