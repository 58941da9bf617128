// The bench's results as Markdown: times per fleet size and run kind, with ratios and floors, then memory and CPU.

import type { Floor } from './floors.ts';
import type { Count, RoundTrips } from './round-trips.ts';
import type { Tool, ToolRun } from './tools.ts';

export const MODES = ['cold', 'warm', 'check'] as const;
export type Mode = (typeof MODES)[number];

export interface SizeResults {
  hosts: number;
  runs: Record<Tool, Record<Mode, ToolRun[]>>;
  floors: Record<Floor, number[]>;
}

/** Targets of issue 3: at least this many times faster than Ansible, and controller memory at 50 hosts. */
export const TARGET_RATIO = 20;
export const TARGET_RSS_MB = 250;

/** NaN when there are no values (a tool or floor left out with `--only`): printed as a dash. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const max = (values: number[]) => Math.max(...values);
const seconds = (s: number) => (Number.isNaN(s) ? '—' : s < 10 ? s.toFixed(2) : s.toFixed(1));
const mb = (kb: number) => (kb / 1024).toFixed(0);
const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;

export function timesTable(results: SizeResults[]): string {
  const lines = [
    row(['hosts', 'run', 'runs', 'kplay (s)', 'Ansible (s)', 'Ansible/kplay', 'floor a (s)', 'floor b (s)', `≥${TARGET_RATIO}× and ≤ floor a`]),
    row(Array(9).fill('---')),
  ];
  for (const r of results) {
    const floorA = median(r.floors.floorA);
    for (const mode of MODES) {
      const kplay = median(r.runs.kplay[mode].map((run) => run.wallSeconds));
      const ansible = median(r.runs.ansible[mode].map((run) => run.wallSeconds));
      const ratio = ansible / kplay;
      const met = ratio >= TARGET_RATIO && kplay <= floorA;
      lines.push(
        row([
          r.hosts,
          mode === 'check' ? '--check' : mode,
          r.runs.kplay[mode].length,
          seconds(kplay),
          seconds(ansible),
          Number.isNaN(ratio) ? '—' : `${ratio.toFixed(1)}×`,
          seconds(floorA),
          seconds(median(r.floors.floorB)),
          Number.isNaN(ratio) ? '—' : met ? 'yes' : 'no',
        ]),
      );
    }
  }
  return lines.join('\n');
}

/** Memory and CPU on the controller, per tool: peaks over all runs of that size, CPU the median of the cold runs. */
export function resourcesTable(results: SizeResults[]): string {
  const lines = [
    row(['hosts', 'tool', 'largest process peak RSS (MB)', 'tree peak RSS sum (MB)', 'tree peak PSS (MB)', 'CPU s (cold)']),
    row(Array(6).fill('---')),
  ];
  for (const r of results) {
    for (const tool of ['kplay', 'ansible'] as Tool[]) {
      const all = Object.values(r.runs[tool]).flat();
      if (all.length === 0) continue;
      const peak = (kb: (run: ToolRun) => number) => mb(max(all.map(kb)));
      lines.push(
        row([
          r.hosts,
          tool === 'kplay' ? 'kplay' : 'Ansible',
          peak((run) => run.maxProcessRssKb),
          peak((run) => run.treeRssKb),
          peak((run) => run.treePssKb),
          median(r.runs[tool].cold.map((run) => run.cpuSeconds)).toFixed(2),
        ]),
      );
    }
  }
  return lines.join('\n');
}

/** Round trips per task, one row per module: commands started on the host, plus sftp requests when there are any. */
export function roundTripsTable(rows: RoundTrips[]): string {
  const count = (c: Count) => {
    const commands = `${c.commands} command${c.commands === 1 ? '' : 's'}`;
    return c.sftp === 0 ? commands : c.commands === 0 ? `${c.sftp} sftp` : `${commands} + ${c.sftp} sftp`;
  };
  const cell = (module: string, tool: Tool, state: 'cold' | 'warm') => {
    const found = rows.find((r) => r.module === module && r.tool === tool);
    return found ? count(found[state]) : '—';
  };
  const lines = [row(['per task', 'kplay cold', 'kplay warm', 'Ansible cold', 'Ansible warm']), row(Array(5).fill('---'))];
  for (const module of [...new Set(rows.map((r) => r.module))])
    lines.push(row([module, cell(module, 'kplay', 'cold'), cell(module, 'kplay', 'warm'), cell(module, 'ansible', 'cold'), cell(module, 'ansible', 'warm')]));
  return lines.join('\n');
}
