// Run one program and measure what the bench reports about it: wall time, and the controller's memory two ways.
// - GNU time's %M: the peak RSS of the largest single process in the waited-for tree (the kernel keeps it exactly).
// - The tree's summed PSS, sampled: what all of the tool's processes (workers, ssh clients) hold at once, shared
//   pages split between the processes that share them, so forked workers are not counted twice.

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measured {
  wallSeconds: number;
  /** GNU time %M: the largest process's peak RSS, in kB. */
  maxProcessRssKb: number;
  /** Highest sum of PSS over the whole process tree seen by sampling, in kB. */
  treePssKb: number;
  /** Highest sum of RSS over the tree seen by sampling, in kB: an upper bound (pages shared by forks count twice). */
  treeRssKb: number;
  /** CPU seconds (user + system) of the tree on the controller. */
  cpuSeconds: number;
  code: number;
  stdout: string;
  stderr: string;
}

export interface MeasureOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  sampleEveryMs?: number;
}

export async function measure(program: string, args: string[], options: MeasureOptions): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'kplay-measure-'));
  const timeFile = join(dir, 'time');
  try {
    const start = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%M %U %S', '-o', timeFile, program, ...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const peak = { pss: 0, rss: 0 };
    let sampling = Promise.resolve();
    const sample = () => {
      sampling = sampling.then(async () => {
        if (child.pid === undefined) return;
        const now = await treeMemory(child.pid);
        peak.pss = Math.max(peak.pss, now.pss);
        peak.rss = Math.max(peak.rss, now.rss);
      });
    };
    const timer = setInterval(sample, options.sampleEveryMs ?? 100);
    sample();
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? -1));
    });
    const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    clearInterval(timer);
    await sampling;
    // The last line: time writes "Command exited with non-zero status N" above it on failure.
    const [maxRss, user, system] = (await readFile(timeFile, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
    return {
      wallSeconds,
      maxProcessRssKb: maxRss,
      treePssKb: peak.pss,
      treeRssKb: peak.rss,
      cpuSeconds: user + system,
      code,
      stdout: Buffer.concat(out).toString(),
      stderr: Buffer.concat(err).toString(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Sums of PSS and RSS (kB) of a process and all its descendants; processes that exit meanwhile count as 0. */
async function treeMemory(root: number): Promise<{ pss: number; rss: number }> {
  const total = { pss: 0, rss: 0 };
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    total.pss += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
    total.rss += Number(/^Rss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    for (const task of tasks) {
      const children = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
      queue.push(...children.split(' ').filter(Boolean).map(Number));
    }
  }
  return total;
}
