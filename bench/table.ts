// The bench's results as Markdown: times per fleet size, added round-trip time and run kind, with ratios and floors;
// round trips per host seen by the delay proxies; then memory and CPU on the controller.

import type { Floor } from './floors.ts';
import type { Count, RoundTrips } from './round-trips.ts';
import { TOOL_NAMES, type Tool, type ToolRun } from './tools.ts';

export const MODES = ['cold', 'warm', 'check'] as const;
export type Mode = (typeof MODES)[number];

/** A floor's run: wall seconds and the proxies' turns per host. */
export interface FloorRun {
  wallSeconds: number;
  turnsPerHost?: number;
}

/** Everything measured at one fleet size and one added round-trip time. */
export interface SizeResults {
  hosts: number;
  rttMs: number;
  tasksPerHost: number;
  runs: Partial<Record<Tool, Record<Mode, ToolRun[]>>>;
  floors: Partial<Record<Floor, FloorRun[]>>;
}

/** Issue 15's targets: against Ansible with Mitogen, against floor b at 50 ms, controller memory and CPU at scale. */
export const TARGET_MITOGEN_RATIO = 30;
export const TARGET_RSS_MB = 250;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const max = (values: number[]) => Math.max(...values);
const seconds = (s: number) => (Number.isNaN(s) ? '—' : s < 10 ? s.toFixed(2) : s.toFixed(1));
const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? '—' : `${(a / b).toFixed(1)}×`);
const mb = (kb: number) => (kb / 1024).toFixed(0);
const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const wall = (runs: ToolRun[] | undefined) => (runs?.length ? median(runs.map((r) => r.wallSeconds)) : NaN);
const floorWall = (runs: FloorRun[] | undefined) => (runs?.length ? median(runs.map((r) => r.wallSeconds)) : NaN);

export function timesTable(results: SizeResults[]): string {
  const withBase = results.some((r) => r.runs.base);
  const lines = [
    row(['hosts', 'added RTT', 'run', 'runs', 'kplay (s)', ...(withBase ? ['baseline kplay (s)'] : []), 'Ansible (s)', 'Mitogen (s)', 'Ansible/kplay', 'Mitogen/kplay', 'floor a (s)', 'floor b (s)', 'kplay/floor b']),
    row(Array(withBase ? 13 : 12).fill('---')),
  ];
  for (const r of results) {
    const floorB = floorWall(r.floors.floorB);
    for (const mode of MODES) {
      const kplay = wall(r.runs.kplay?.[mode]);
      const ansible = wall(r.runs.ansible?.[mode]);
      const mitogen = wall(r.runs.mitogen?.[mode]);
      const runs = Math.max(...(['kplay', 'base', 'ansible', 'mitogen'] as Tool[]).map((t) => r.runs[t]?.[mode].length ?? 0));
      lines.push(
        row([
          r.hosts,
          `${r.rttMs} ms`,
          mode === 'check' ? '--check' : mode,
          runs,
          seconds(kplay),
          ...(withBase ? [seconds(wall(r.runs.base?.[mode]))] : []),
          seconds(ansible),
          seconds(mitogen),
          ratio(ansible, kplay),
          ratio(mitogen, kplay),
          seconds(floorWall(r.floors.floorA)),
          seconds(floorB),
          ratio(kplay, floorB),
        ]),
      );
    }
  }
  return lines.join('\n');
}

/** Round trips per host counted by the delay proxies (turns: the client sent after the server had answered). */
export function turnsTable(results: SizeResults[]): string {
  const proxied = results.filter((r) => r.rttMs > 0);
  if (proxied.length === 0) return '';
  const turns = (runs: Array<{ turnsPerHost?: number }> | undefined) => {
    const counted = (runs ?? []).map((r) => r.turnsPerHost).filter((t): t is number => t !== undefined);
    return counted.length ? median(counted).toFixed(0) : '—';
  };
  const lines = [
    row(['hosts', 'added RTT', 'kplay cold', 'kplay warm', 'kplay --check', 'baseline cold', 'baseline warm', 'Mitogen warm', 'floor a', 'floor b']),
    row(Array(10).fill('---')),
  ];
  for (const r of proxied) {
    lines.push(
      row([
        r.hosts,
        `${r.rttMs} ms`,
        turns(r.runs.kplay?.cold),
        turns(r.runs.kplay?.warm),
        turns(r.runs.kplay?.check),
        turns(r.runs.base?.cold),
        turns(r.runs.base?.warm),
        turns(r.runs.mitogen?.warm),
        turns(r.floors.floorA),
        turns(r.floors.floorB),
      ]),
    );
  }
  return lines.join('\n');
}

/** Memory and CPU on the controller, per tool: peaks over all runs of that size, CPU medians of cold and warm runs. */
export function resourcesTable(results: SizeResults[]): string {
  const lines = [
    row(['hosts', 'added RTT', 'tool', 'largest process peak RSS (MB)', 'tree peak RSS sum (MB)', 'tree peak PSS (MB)', 'CPU s (cold)', 'CPU ms per host-task cold', 'CPU ms per host-task warm']),
    row(Array(9).fill('---')),
  ];
  for (const r of results) {
    for (const tool of ['kplay', 'base', 'ansible', 'mitogen'] as Tool[]) {
      const runs = r.runs[tool];
      if (!runs || runs.cold.length === 0) continue;
      const all = Object.values(runs).flat();
      const peak = (kb: (run: ToolRun) => number) => mb(max(all.map(kb)));
      const cpu = (mode: Mode) => median(runs[mode].map((run) => run.cpuSeconds));
      const perHostTask = (mode: Mode) => ((cpu(mode) * 1000) / (r.hosts * r.tasksPerHost)).toFixed(2);
      lines.push(
        row([
          r.hosts,
          `${r.rttMs} ms`,
          TOOL_NAMES[tool],
          peak((run) => run.maxProcessRssKb),
          peak((run) => run.treeRssKb),
          peak((run) => run.treePssKb),
          cpu('cold').toFixed(2),
          perHostTask('cold'),
          perHostTask('warm'),
        ]),
      );
    }
  }
  return lines.join('\n');
}

/** Round trips per task, one row per module: commands started on the host, sftp requests, and proxy turns. */
export function roundTripsTable(rows: RoundTrips[]): string {
  const count = (c: Count) => {
    const parts = [];
    if (c.commands) parts.push(`${c.commands} command${c.commands === 1 ? '' : 's'}`);
    if (c.sftp) parts.push(`${c.sftp} sftp`);
    const body = parts.join(' + ') || 'nothing';
    return c.turns === undefined ? body : `${body} (${c.turns} turn${c.turns === 1 ? '' : 's'})`;
  };
  const cell = (module: string, tool: Tool, state: 'cold' | 'warm') => {
    const found = rows.find((r) => r.module === module && r.tool === tool);
    return found ? count(found[state]) : '—';
  };
  const tools = [...new Set(rows.map((r) => r.tool))];
  const lines = [
    row(['per task', ...tools.flatMap((t) => [`${TOOL_NAMES[t]} cold`, `${TOOL_NAMES[t]} warm`])]),
    row(Array(1 + tools.length * 2).fill('---')),
  ];
  for (const module of [...new Set(rows.map((r) => r.module))])
    lines.push(row([module, ...tools.flatMap((t) => [cell(module, t, 'cold'), cell(module, t, 'warm')])]));
  return lines.join('\n');
}
