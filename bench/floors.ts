// The floors, to judge any tool against the least work possible over SSH, all hosts at once:
// floor a: one OpenSSH exec per task over a shared connection (ControlMaster), the 30 tasks in turn;
// floor b: one shell script per host doing all 30 tasks in a single exec.
// Each times the whole fleet, connection set-up included (as the tools' runs do).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fleet } from '../test/lab/fleet.ts';
import type { Endpoint, Reach } from './latency.ts';
import { run } from '../test/lab/net.ts';
import { workloadTasks } from './workload.ts';

export type Floor = 'floorA' | 'floorB';

export async function runFloor(floor: Floor, reach: Reach): Promise<number> {
  const fleet = reach.fleet;
  const dir = await mkdtemp(join(tmpdir(), 'kplay-floor-'));
  try {
    // The commands are worked out before the clock starts: only their execution is timed.
    const commands = fleet.hosts.map((host) => workloadTasks(host.name, join(host.root, 'etc/hostname')).map((t) => t.shell));
    const start = process.hrtime.bigint();
    await Promise.all(
      fleet.hosts.map((host, i) => (floor === 'floorA' ? floorA(fleet, reach.endpoint(host), commands[i], dir) : floorB(fleet, reach.endpoint(host), commands[i]))),
    );
    return Number(process.hrtime.bigint() - start) / 1e9;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sshArgs = (fleet: Fleet, host: Endpoint) => [
  '-i', fleet.keyFile,
  '-p', String(host.port),
  '-o', `UserKnownHostsFile=${fleet.knownHostsFile}`,
  '-o', 'StrictHostKeyChecking=yes',
  '-o', 'BatchMode=yes',
  '-o', 'IdentityAgent=none',
  `root@${host.address}`,
];

async function floorA(fleet: Fleet, host: Endpoint, commands: string[], dir: string): Promise<void> {
  const socket = join(dir, `${host.address}-${host.port}`);
  // -f: back to us once authenticated, the master stays in the background until -O exit.
  await run('ssh', ['-f', '-N', '-M', '-S', socket, ...sshArgs(fleet, host)]);
  try {
    for (const command of commands) await run('ssh', ['-S', socket, '-o', 'ControlMaster=no', ...sshArgs(fleet, host), command]);
  } finally {
    await run('ssh', ['-S', socket, '-O', 'exit', ...sshArgs(fleet, host)]);
  }
}

async function floorB(fleet: Fleet, host: Endpoint, commands: string[]): Promise<void> {
  await run('ssh', [...sshArgs(fleet, host), 'sh -s'], { input: ['set -e', ...commands, ''].join('\n') });
}
