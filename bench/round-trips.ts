// Round trips per task, counted on the host, the same way for both tools: strace follows the host's sshd while a
// tool runs, and counts the commands it was asked to start (each exec request starts root's shell, `bash -c`) and the
// sftp requests it served (reads of the sftp server's stdin by an sshd process that never exec'd).
// Per task = ((run of the module's first 5 workload tasks) − (run of the first one)) / 4: connection set-up cancels out.
// Turns: round trips the client waited for, counted by a delay proxy at 0 ms in front of the host.

import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Fleet } from '../test/lab/fleet.ts';
import { withFleet } from './fleet.ts';
import { reachAt, type Reach } from './latency.ts';
import { resetHosts } from './hosts.ts';
import { runTool, type Tool } from './tools.ts';
import { PLAYBOOK } from './workload.ts';

export interface Count {
  commands: number;
  sftp: number;
  /** Round trips the client waited for, counted by a delay proxy at 0 ms (delay-proxy.ts). */
  turns?: number;
}

export interface RoundTrips {
  module: string;
  tool: Tool;
  cold: Count;
  warm: Count;
}

const MODULES = ['file', 'copy', 'template', 'command'];
/** Tasks of a module in the longer playbook (the workload has at least 5 of each). */
const MANY = 5;

export async function countRoundTrips(workDir: string, log: (line: string) => void, tools: Tool[]): Promise<RoundTrips[]> {
  return withFleet({ count: 1, name: 'benchrt', subnet: '10.254.0.0/16' }, async (direct) => {
    const reach = await reachAt(direct, 0, workDir, true);
    try {
      return await countWith(reach, workDir, log, tools);
    } finally {
      await reach.close();
    }
  });
}

async function countWith(reach: Reach, workDir: string, log: (line: string) => void, tools: Tool[]): Promise<RoundTrips[]> {
  const [play] = parse(await readFile(PLAYBOOK, 'utf8')) as Array<{ tasks: Array<Record<string, unknown>> }>;
  const rows: RoundTrips[] = [];
  for (const module of MODULES) {
    const tasks = play.tasks.filter((task) => module in task);
    // 1 task and MANY: the difference over MANY - 1 tasks is one task's cost, set-up cancelled out, and what overlaps
    // it (a channel opened ahead, reads of several tasks in one batch) is spread as it is in a real run.
    const sizes = [1, MANY];
    const playbooks = sizes.map((n) => join(workDir, `round-trips-${module}-${n}.yml`));
    for (const [i, file] of playbooks.entries()) await writeFile(file, stringify([{ ...play, tasks: tasks.slice(0, sizes[i]) }]));
    for (const tool of tools) {
      const [one, two] = [await coldAndWarm(tool, reach, playbooks[0], workDir), await coldAndWarm(tool, reach, playbooks[1], workDir)];
      const per = (a: number, b: number) => Math.round(((a - b) / (MANY - 1)) * 10) / 10;
      const minus = (a: Count, b: Count) => ({ commands: per(a.commands, b.commands), sftp: per(a.sftp, b.sftp), turns: per(a.turns ?? 0, b.turns ?? 0) });
      rows.push({ module, tool, cold: minus(two.cold, one.cold), warm: minus(two.warm, one.warm) });
      log(`  round trips of ${tool} ${module}: ${JSON.stringify(rows.at(-1))}`);
    }
  }
  return rows;
}

async function coldAndWarm(tool: Tool, reach: Reach, playbook: string, workDir: string): Promise<{ cold: Count; warm: Count }> {
  const fleet = reach.fleet;
  await resetHosts(fleet.hosts);
  const counted = async () => {
    reach.resetTurns();
    const count = await traced(fleet, join(workDir, 'strace'), () => ranOk(tool, fleet, playbook, workDir));
    return { ...count, turns: reach.turns() };
  };
  const cold = await counted();
  const warm = await counted();
  return { cold, warm };
}

async function ranOk(tool: Tool, fleet: Fleet, playbook: string, workDir: string): Promise<void> {
  const run = await runTool(tool, fleet, { playbook }, workDir);
  if (run.code !== 0) throw new Error(`${tool} ${playbook} exited ${run.code}: ${(run.stderr || run.stdout).trim().slice(-2000)}`);
}

/** Count what the host's sshd does while `action` runs. */
async function traced(fleet: Fleet, output: string, action: () => Promise<void>): Promise<Count> {
  const strace = spawn('strace', ['-f', '-xx', '-s', '65536', '-e', 'trace=execve,read', '-o', output, '-p', String(fleet.hosts[0].sshdPid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve, reject) => {
    strace.on('error', reject);
    strace.on('close', () => resolve());
  });
  // strace says "Process N attached" once it follows sshd: only then may the tool connect.
  await new Promise<void>((resolve, reject) => {
    strace.stderr.on('data', (d: Buffer) => d.toString().includes('attached') && resolve());
    void exited.then(() => reject(new Error('strace exited before attaching to sshd')));
  });
  try {
    await action();
  } finally {
    strace.kill('SIGINT');
    await exited;
  }
  return countTrace(await readFile(output, 'utf8'));
}

/**
 * strace -f lines are `PID call(args) = result`, a call cut by another process's as `<unfinished ...>` … `<... call
 * resumed>`; with -xx every string is hex (`\x2f…`). SFTP requests are counted by walking the length-prefixed packets
 * of what each sftp server read on its stdin: how reads split the stream does not change the count.
 */
export function countTrace(trace: string): Count {
  const execed = new Set<string>();
  let commands = 0;
  const stdin = new Map<string, Buffer[]>();
  const pendingStdinRead = new Set<string>();
  for (const line of trace.split('\n')) {
    const [, pid, rest] = /^(\d+)\s+(.*)$/.exec(line) ?? []; // strace pads PIDs to one width
    if (!pid) continue;
    if (rest.startsWith('execve(')) {
      execed.add(pid);
      if (unhex(rest).startsWith('execve("/bin/bash", ["bash", "-c"')) commands++;
      continue;
    }
    let data: string | undefined;
    if (rest.startsWith('read(0,') && rest.endsWith('<unfinished ...>')) pendingStdinRead.add(pid);
    else if (rest.startsWith('read(0, ')) data = rest.slice('read(0, '.length);
    else if (rest.startsWith('<... read resumed>') && pendingStdinRead.delete(pid)) data = rest.slice('<... read resumed>'.length);
    const hex = data && /^\s*"((?:\\x[0-9a-f]{2})*)"/.exec(data)?.[1];
    if (hex) stdin.set(pid, [...(stdin.get(pid) ?? []), Buffer.from(hex.replaceAll('\\x', ''), 'hex')]);
  }
  let sftp = 0;
  for (const [pid, chunks] of stdin) {
    if (execed.has(pid)) continue; // a program's stdin (Ansible's pipelined modules), not an sftp server's
    const stream = Buffer.concat(chunks);
    for (let at = 0; at + 4 <= stream.length; at += 4 + stream.readUInt32BE(at)) sftp++;
  }
  return { commands, sftp };
}

const unhex = (text: string) => text.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
