// The bench's view of fleet hosts, through their file systems seen from the controller (`host.root`): empty the
// workload's folder before a cold run, and check that a run left exactly what the workload asks for.

import { lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FleetHost } from '../test/lab/fleet.ts';
import { WORKLOAD_ROOT, workloadTasks } from './workload.ts';

/** Every host as fresh as before any run: the workload's folder exists and is empty. */
export async function resetHosts(hosts: FleetHost[]): Promise<void> {
  await Promise.all(
    hosts.map(async (host) => {
      const dir = join(host.root, WORKLOAD_ROOT);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { mode: 0o755 });
    }),
  );
}

/** Problems with what `who` left on the host (empty when it is exactly the workload's result). */
export async function checkWorkloadDone(host: FleetHost, who: string): Promise<string[]> {
  const tasks = workloadTasks(host.name, join(host.root, 'etc/hostname'));
  const problems: string[] = [];
  for (const { name, expected } of tasks) {
    const where = join(host.root, expected.path);
    const st = await lstat(where).catch(() => undefined);
    const type = st?.isDirectory() ? 'directory' : st?.isFile() ? 'file' : st ? 'other' : 'nothing';
    if (type !== expected.type) problems.push(`${name}: ${expected.path} is ${type}, not a ${expected.type}`);
    else if (expected.mode !== undefined && (st!.mode & 0o7777) !== expected.mode)
      problems.push(`${name}: ${expected.path} has mode ${(st!.mode & 0o7777).toString(8)}, not ${expected.mode.toString(8)}`);
    else if (expected.content !== undefined && (await readFile(where, 'utf8')) !== expected.content)
      problems.push(`${name}: ${expected.path} does not hold the expected content`);
  }
  const extra = (await readdir(join(host.root, WORKLOAD_ROOT))).length - tasks.length;
  if (extra !== 0) problems.push(`${WORKLOAD_ROOT} holds ${extra} more entries than the workload makes`);
  return problems.map((p) => `${who} on ${host.name}: ${p}`);
}

/** Problems when the host's workload folder is not empty (after --check, which must change nothing). */
export async function checkUntouched(host: FleetHost, who: string): Promise<string[]> {
  const left = await readdir(join(host.root, WORKLOAD_ROOT));
  return left.length === 0 ? [] : [`${who} --check on ${host.name} wrote ${left.join(', ')}`];
}
