// kplay against Ansible on the same fleet, in one run: `npm run bench -- [--hosts 1,10,50] [--runs 3] [--runs-large 1]`.
// Per fleet size: cold (fresh hosts), warm (the same again) and --check (fresh hosts) for both tools, alternating
// which goes first; the two floors; every run checked (recap counts, files on the hosts). Prints a Markdown table and
// writes it to bench/results/latest.md. See bench/README.md.

import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Fleet } from '../test/lab/fleet.ts';
import { withFleet } from './fleet.ts';
import { runFloor, type Floor } from './floors.ts';
import { checkUntouched, checkWorkloadDone, resetHosts } from './hosts.ts';
import { MODES, resourcesTable, roundTripsTable, timesTable, type Mode, type SizeResults } from './table.ts';
import { countRoundTrips } from './round-trips.ts';
import { ANSIBLE_PLAYBOOK, runTool, type Tool, type ToolRun } from './tools.ts';
import { workloadTasks } from './workload.ts';

/** Fleets from this size on get `--runs-large` runs (Ansible takes minutes per run there). */
const LARGE = 50;

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1,10,50' },
    runs: { type: 'string', default: '3' },
    'runs-large': { type: 'string', default: '1' },
    'skip-round-trips': { type: 'boolean', default: false },
    // `--only kplay`: kplay's runs alone (no Ansible, no floors, no round trips): a quick before/after of an engine change.
    only: { type: 'string' },
    // `--fleet NAME`: another fleet name, on a free subnet, so two benches (two worktrees) can run side by side.
    fleet: { type: 'string' },
  },
});
const FLEET = values.fleet ? { name: values.fleet } : { name: 'bench', subnet: '10.253.0.0/16' };
const sizes = values.hosts.split(',').map(Number);
if (values.only !== undefined && values.only !== 'kplay') throw new Error(`--only: only 'kplay' is supported, got ${values.only}`);
const kplayOnly = values.only === 'kplay';
const tools: Tool[] = kplayOnly ? ['kplay'] : ['kplay', 'ansible'];
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 200)) throw new Error(`--hosts: sizes from 1 to 200, got ${values.hosts}`);

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

class BenchError extends Error {}

/** A run that failed, or did not do (or undo) what it should, makes the whole benchmark worthless: stop. */
function expect(problems: string[]): void {
  if (problems.length > 0) throw new BenchError(problems.join('\n'));
}

function recapProblems(run: ToolRun, who: string, fleet: Fleet, changed?: number): string[] {
  const problems = run.code === 0 ? [] : [`${who} exited ${run.code}: ${(run.stderr || run.stdout).trim().slice(-2000)}`];
  for (const host of fleet.hosts) {
    const recap = run.recap.get(host.name);
    if (!recap) problems.push(`${who}: no recap for ${host.name}`);
    else if (recap.failed || recap.unreachable) problems.push(`${who}: ${host.name} failed ${recap.failed}, unreachable ${recap.unreachable}`);
    else if (changed !== undefined && recap.changed !== changed) problems.push(`${who}: ${host.name} changed ${recap.changed}, not ${changed}`);
  }
  return problems;
}

/** Hosts whose files are checked after a run: the first and the last (all of them would cost Ansible-scale time). */
const sampled = (fleet: Fleet) => [...new Set([fleet.hosts[0], fleet.hosts.at(-1)!])];

async function toolRuns(tool: Tool, fleet: Fleet, workDir: string, into: Record<Mode, ToolRun[]>): Promise<void> {
  const taskCount = workloadTasks('any', '/etc/hostname').length;
  await resetHosts(fleet.hosts);
  const cold = await runTool(tool, fleet, {}, workDir);
  expect(recapProblems(cold, `${tool} cold`, fleet, taskCount));
  for (const host of sampled(fleet)) expect(await checkWorkloadDone(host, `${tool} cold`));
  const warm = await runTool(tool, fleet, {}, workDir);
  expect(recapProblems(warm, `${tool} warm`, fleet, 0));
  await resetHosts(fleet.hosts);
  const check = await runTool(tool, fleet, { flags: ['--check'] }, workDir);
  expect(recapProblems(check, `${tool} --check`, fleet));
  for (const host of sampled(fleet)) expect(await checkUntouched(host, tool));
  for (const [mode, run] of [['cold', cold], ['warm', warm], ['check', check]] as const) into[mode].push(run);
  log(`  ${tool}: cold ${cold.wallSeconds.toFixed(2)} s, warm ${warm.wallSeconds.toFixed(2)} s, --check ${check.wallSeconds.toFixed(2)} s`);
}

async function benchSize(hosts: number, runs: number, workDir: string): Promise<SizeResults> {
  const fresh = () => Object.fromEntries(MODES.map((m) => [m, []])) as unknown as Record<Mode, ToolRun[]>;
  const results: SizeResults = { hosts, runs: { kplay: fresh(), ansible: fresh() }, floors: { floorA: [], floorB: [] } };
  await withFleet({ count: hosts, ...FLEET }, async (fleet) => {
    await warmUp(fleet, workDir);
    for (let i = 0; i < runs; i++) {
      log(`${hosts} host(s), run ${i + 1} of ${runs}`);
      // Alternate which tool goes first, so a burst of load on the shared machine does not always hit the same one.
      const order: Tool[] = i % 2 === 0 ? tools : [...tools].reverse();
      for (const tool of order) await toolRuns(tool, fleet, workDir, results.runs[tool]);
      if (kplayOnly) continue;
      for (const floor of ['floorA', 'floorB'] as Floor[]) {
        await resetHosts(fleet.hosts);
        results.floors[floor].push(await runFloor(floor, fleet));
        for (const host of sampled(fleet)) expect(await checkWorkloadDone(host, floor));
      }
      log(`  floors: a ${results.floors.floorA.at(-1)!.toFixed(2)} s, b ${results.floors.floorB.at(-1)!.toFixed(2)} s`);
    }
  });
  return results;
}

/** Untimed: kplay builds its bundle if a source changed, both tools' files get into the page cache. */
async function warmUp(fleet: Fleet, workDir: string): Promise<void> {
  for (const tool of tools) {
    const run = await runTool(tool, fleet, { flags: ['--syntax-check'] }, workDir);
    expect(run.code === 0 ? [] : [`${tool} --syntax-check exited ${run.code}: ${(run.stderr || run.stdout).trim()}`]);
  }
}

/** First line a program prints for its version (ssh -V prints on stderr). */
const versionOf = (program: string, args: string[]) => {
  const { stdout, stderr } = spawnSync(program, args, { encoding: 'utf8' });
  return `${stdout ?? ''}${stderr ?? ''}`.split('\n')[0].trim() || `${program}: unavailable`;
};

const started = Date.now();
const loadBefore = loadavg()[0];
const workDir = await mkdtemp(join(tmpdir(), 'kplay-bench-'));
try {
  const roundTrips = values['skip-round-trips'] || kplayOnly ? [] : await countRoundTrips(workDir, log);
  const results: SizeResults[] = [];
  for (const hosts of sizes) results.push(await benchSize(hosts, Number(hosts >= LARGE ? values['runs-large'] : values.runs), workDir));
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const report = [
    `## kplay vs Ansible — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Workload: bench/workload/playbook.yml, 30 tasks per host (10 file, 10 copy, 5 template, 5 command with creates). ` +
      `Medians of the runs shown; wall seconds of the whole run, connections included.`,
    '',
    timesTable(results),
    '',
    resourcesTable(results),
    '',
    ...(roundTrips.length
      ? ['Round trips per task on one host, counted on the host (bench/round-trips.ts):', '', roundTripsTable(roundTrips), '']
      : []),
    `Machine: ${cpus().length} cores (shared with other work: expect noise), load average ${loadBefore.toFixed(1)} at start, ` +
      `${loadavg()[0].toFixed(1)} at end. Node ${process.version}; ${versionOf(ANSIBLE_PLAYBOOK, ['--version'])}; ` +
      `${versionOf('ssh', ['-V'])}. Bench took ${minutes} min.`,
    '',
  ].join('\n');
  process.stdout.write(report);
  const resultsDir = join(import.meta.dirname, 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'latest.md'), report);
  log(`written to bench/results/latest.md`);
} catch (error) {
  if (!(error instanceof BenchError)) throw error;
  log(`the benchmark stopped, a run was wrong:\n${error.message}`);
  process.exitCode = 1;
} finally {
  await rm(workDir, { recursive: true, force: true });
}
