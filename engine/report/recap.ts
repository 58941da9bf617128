// The per-host counts: tallied from results for live progress, and printed as Ansible's PLAY RECAP.

import { count, emptyCounts, STATUS_RANK } from '../core/counts.ts';
import type { HostCounts, RunEvent } from '../core/events.ts';
import { banner, STATUS_STYLE, type Paint } from './style.ts';

export { emptyCounts };

type ResultEvent = Extract<RunEvent, { type: 'result' }>;

/** Adds (or, with -1, takes back) one result with Ansible's meaning: `ok` counts every task that ran fine. */
export function countResult(counts: HostCounts, result: ResultEvent, sign: 1 | -1 = 1): void {
  count(counts, result.status, result.ignored === true, sign, result.result?.changed === true);
}

/** Running counts per host, as the recap will have them: a loop counts once, as its worst item. */
export class Tally {
  readonly hosts: Record<string, HostCounts> = {};
  /** The loop each host is in and the item result counted for it so far. */
  readonly #loops = new Map<string, ResultEvent>();

  constructor(hosts: readonly string[] = []) {
    for (const host of hosts) this.hosts[host] = emptyCounts();
  }

  /** A host starts a task: whatever loop it was in is over. */
  startTask(host: string): void {
    this.#loops.delete(host);
  }

  add(result: ResultEvent): void {
    const counts = (this.hosts[result.host] ??= emptyCounts());
    if (result.item !== undefined) {
      const counted = this.#loops.get(result.host);
      if (counted) {
        if (STATUS_RANK[result.status] <= STATUS_RANK[counted.status]) return;
        countResult(counts, counted, -1);
      }
      this.#loops.set(result.host, result);
    }
    countResult(counts, result);
  }
}

// Ansible's order, and the colour a count takes when it is not zero.
const FIELDS = [
  ['ok', STATUS_STYLE.ok],
  ['changed', STATUS_STYLE.changed],
  ['unreachable', STATUS_STYLE.unreachable],
  ['failed', STATUS_STYLE.failed],
  ['skipped', STATUS_STYLE.skipped],
  ['rescued', 'magenta'],
  ['ignored', 'magenta'],
] as const;

/** `PLAY RECAP ***` then one aligned line per host, as Ansible prints it. */
export function formatRecap(hosts: Record<string, HostCounts>, paint: Paint): string[] {
  const lines = ['', banner('PLAY RECAP')];
  for (const [host, counts] of Object.entries(hosts)) {
    const hostStyle = counts.failed || counts.unreachable ? 'red' : counts.changed ? 'yellow' : 'green';
    const name = paint(hostStyle, host) + ' '.repeat(Math.max(0, 26 - host.length));
    const fields = FIELDS.map(([field, style]) => {
      const text = `${field}=${counts[field]}`;
      const pad = ' '.repeat(Math.max(0, field.length + 5 - text.length));
      return (counts[field] ? paint(style, text) : text) + pad;
    });
    lines.push(`${name} : ${fields.join(' ')}`.trimEnd());
  }
  return lines;
}
