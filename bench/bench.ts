// kplay against Ansible and Ansible+Mitogen on the same fleet, in one run: `npm run bench -- [--hosts 1,10,50] [--runs 3]
// [--runs-large 1] [--latency 0,20,50] [--tools kplay,ansible,mitogen,floors] [--peers-at 0]`.
// Per fleet size and added round-trip time: cold (fresh hosts), warm (the same again) and --check (fresh hosts) for each tool, alternating
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
import { reachAt, type Reach } from './latency.ts';
import { MODES, resourcesTable, roundTripsTable, timesTable, turnsTable, type Mode, type SizeResults } from './table.ts';
import { countRoundTrips } from './round-trips.ts';
import { ANSIBLE_PLAYBOOK, runTool, setBaseline, type Tool, type ToolRun } from './tools.ts';
import { workloadTasks } from './workload.ts';

/** Fleets from this size on get `--runs-large` runs (Ansible takes minutes per run there). */
const LARGE = 50;
const ALL_TOOLS = ['kplay', 'base', 'ansible', 'mitogen', 'floors'] as const;
type Part = (typeof ALL_TOOLS)[number];

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1,10,50' },
    runs: { type: 'string', default: '3' },
    'runs-large': { type: 'string', default: '1' },
    /** Added round-trip times (ms): each through one delay proxy per host (bench/delay-proxy.ts); 0 = direct. */
    latency: { type: 'string', default: '0,20,50' },
    /** What to run: any of kplay, ansible, mitogen, floors (`--tools kplay,floors` for quick iterations). */
    tools: { type: 'string', default: 'kplay,ansible,mitogen,floors' },
    /** Added round-trip times at which Ansible and Mitogen run too (they take minutes per run). */
    'peers-at': { type: 'string', default: '0' },
    /** Floor a (one ssh exec per task) up to this many hosts only: at 1000 hosts it is 32,000 ssh processes. */
    'floor-a-max': { type: 'string', default: '1000' },
    'skip-round-trips': { type: 'boolean', default: false },
    /** The fleet's name (namespaces, links): another bench on the machine must use another one. */
    'fleet-name': { type: 'string', default: 'bench' },
    /** The fleet's subnet: another bench on the machine must use another one too. */
    subnet: { type: 'string', default: '10.253.0.0/16' },
    /** Another kplay checkout to run beside this one as `base` (add `base` to --tools), e.g. a worktree of the branch before. */
    baseline: { type: 'string' },
  },
});
if (values.baseline) setBaseline(values.baseline);
const sizes = values.hosts.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) throw new Error(`--hosts: sizes from 1 to 1000, got ${values.hosts}`);
const latencies = values.latency.split(',').map(Number);
if (latencies.some((n) => !Number.isFinite(n) || n < 0 || n > 1000)) throw new Error(`--latency: milliseconds from 0 to 1000, got ${values.latency}`);
const peersAt = new Set(values['peers-at'].split(',').filter(Boolean).map(Number));
const parts = new Set(values.tools.split(',') as Part[]);
for (const part of parts) if (!ALL_TOOLS.includes(part)) throw new Error(`--tools: any of ${ALL_TOOLS.join(', ')}, got ${part}`);
const tools = (['kplay', 'base', 'ansible', 'mitogen'] as Tool[]).filter((t) => parts.has(t));

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
  return problems.slice(0, 20);
}

/** Hosts whose files are checked after a run: the first and the last (all of them would cost Ansible-scale time). */
const sampled = (fleet: Fleet) => [...new Set([fleet.hosts[0], fleet.hosts.at(-1)!])];

const TASKS = workloadTasks('any', '/etc/hostname').length;

async function toolRuns(tool: Tool, reach: Reach, workDir: string, into: Record<Mode, ToolRun[]>): Promise<void> {
  const fleet = reach.fleet;
  const who = `${tool} at +${reach.rttMs} ms`;
  const timed = async (flags: string[]) => {
    reach.resetTurns();
    const run = await runTool(tool, fleet, { flags }, workDir);
    log(`    ${who} ${flags.join(' ') || 'run'}: ${run.wallSeconds.toFixed(2)} s, exit ${run.code}`);
    return reach.rttMs > 0 ? { ...run, turnsPerHost: reach.turns() / fleet.hosts.length } : run;
  };
  await resetHosts(fleet.hosts);
  const cold = await timed([]);
  expect(recapProblems(cold, `${who} cold`, fleet, TASKS));
  for (const host of sampled(fleet)) expect(await checkWorkloadDone(host, `${who} cold`));
  const warm = await timed([]);
  expect(recapProblems(warm, `${who} warm`, fleet, 0));
  await resetHosts(fleet.hosts);
  const check = await timed(['--check']);
  // --check on fresh hosts: kplay predicts every task as changed; Ansible's count is its own (commands skipped).
  expect(recapProblems(check, `${who} --check`, fleet, tool === 'kplay' || tool === 'base' ? TASKS : undefined));
  for (const host of sampled(fleet)) expect(await checkUntouched(host, who));
  for (const [mode, run] of [['cold', cold], ['warm', warm], ['check', check]] as const) into[mode].push(run);
  const turns = (run: ToolRun) => (run.turnsPerHost === undefined ? '' : ` (${run.turnsPerHost.toFixed(0)} turns/host)`);
  log(`  ${who}: cold ${cold.wallSeconds.toFixed(2)} s${turns(cold)}, warm ${warm.wallSeconds.toFixed(2)} s${turns(warm)}, --check ${check.wallSeconds.toFixed(2)} s${turns(check)}`);
}

async function benchSize(hosts: number, runs: number, workDir: string): Promise<SizeResults[]> {
  const fresh = () => Object.fromEntries(MODES.map((m) => [m, []])) as unknown as Record<Mode, ToolRun[]>;
  return withFleet({ count: hosts, name: values['fleet-name'], subnet: values.subnet }, async (fleet) => {
    await warmUp(fleet, workDir);
    const all: SizeResults[] = [];
    for (const rttMs of latencies) {
      const here = tools.filter((t) => t === 'kplay' || t === 'base' || peersAt.has(rttMs));
      const results: SizeResults = { hosts, rttMs, tasksPerHost: TASKS, runs: Object.fromEntries(here.map((t) => [t, fresh()])), floors: {} };
      const reach = await reachAt(fleet, rttMs, workDir);
      try {
        for (let i = 0; i < runs; i++) {
          log(`${hosts} host(s), +${rttMs} ms, run ${i + 1} of ${runs}`);
          // Alternate the order, so a burst of load on the shared machine does not always hit the same tool.
          const order = i % 2 === 0 ? here : [...here].reverse();
          for (const tool of order) await toolRuns(tool, reach, workDir, results.runs[tool]!);
          if (!parts.has('floors')) continue;
          const floors: Floor[] = hosts <= Number(values['floor-a-max']) ? ['floorA', 'floorB'] : ['floorB'];
          for (const floor of floors) {
            await resetHosts(fleet.hosts);
            reach.resetTurns();
            const wallSeconds = await runFloor(floor, reach);
            (results.floors[floor] ??= []).push({ wallSeconds, turnsPerHost: rttMs > 0 ? reach.turns() / hosts : undefined });
            for (const host of sampled(fleet)) expect(await checkWorkloadDone(host, floor));
          }
          log(`  floors: a ${results.floors.floorA?.at(-1)?.wallSeconds.toFixed(2) ?? '(not run)'} s, b ${results.floors.floorB!.at(-1)!.wallSeconds.toFixed(2)} s`);
        }
      } finally {
        await reach.close();
      }
      all.push(results);
    }
    return all;
  });
}

/** Untimed: kplay builds its bundle if a source changed, every tool's files get into the page cache. */
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
  const roundTrips = values['skip-round-trips'] || tools.length === 0 ? [] : await countRoundTrips(workDir, log, tools);
  const results: SizeResults[] = [];
  for (const hosts of sizes) results.push(...(await benchSize(hosts, Number(hosts >= LARGE ? values['runs-large'] : values.runs), workDir)));
  const turns = turnsTable(results);
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const report = [
    `## kplay vs Ansible and Ansible+Mitogen — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Workload: bench/workload/playbook.yml, ${TASKS} tasks per host (10 file, 10 copy, 5 template, 5 command with creates). ` +
      `Medians of the runs shown; wall seconds of the whole run, connections included. Added RTT: through one delay ` +
      `proxy per host (bench/delay-proxy.ts), 0 ms = direct.`,
    '',
    timesTable(results),
    '',
    ...(turns ? ['Round trips per host counted by the delay proxies (turns; whole run, connection set-up included):', '', turns, ''] : []),
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
