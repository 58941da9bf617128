// `--limit`: which hosts a run is limited to: host patterns, `@FILE` (one name per line) and `@failed` (the hosts
// that failed or were unreachable in the last run, from `.kplay/last-run.json`, written after every real run).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { HostCounts } from '../core/events.ts';
import type { HostIndex } from './patterns.ts';
import { selectHosts } from './patterns.ts';

/** A `--limit` that cannot be resolved (no earlier run for @failed, a missing @FILE): a usage error. */
export class LimitError extends Error {}

const lastRunPath = (dir: string) => join(dir, '.kplay', 'last-run.json');

/** Host names `limit` allows (parts separated by `,` or `:` before an `@`), or undefined for no limit. */
export function resolveLimit(limit: string | undefined, inventory: HostIndex, cwd: string): Set<string> | undefined {
  if (limit === undefined) return undefined;
  const names: string[] = [];
  for (const part of limit.split(/[,:](?=@)/)) {
    if (part === '@failed') {
      const failed = lastFailedHosts(cwd);
      if (failed === undefined) throw new LimitError('--limit @failed: no earlier run recorded in .kplay/last-run.json');
      names.push(...failed);
    } else if (part.startsWith('@')) {
      const file = resolve(cwd, part.slice(1));
      if (!existsSync(file)) throw new LimitError(`--limit ${part}: no such file`);
      names.push(...readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
    } else {
      names.push(...selectHosts(inventory, part));
    }
  }
  return new Set(names);
}

/** `.kplay/last-run.json`: the outcome of the last run, so `--limit @failed` can rerun what failed. */
export function recordLastRun(dir: string, playbook: string, outcome: { exitCode: number; hosts: Record<string, HostCounts>; unfinished?: string[] }): void {
  const path = lastRunPath(dir);
  mkdirSync(dirname(path), { recursive: true });
  // An interrupted run's unfinished hosts count as failed: `--limit @failed` completes them.
  const failed = [
    ...new Set([
      ...Object.entries(outcome.hosts)
        .filter(([, c]) => c.failed > 0 || c.unreachable > 0)
        .map(([name]) => name),
      ...(outcome.unfinished ?? []),
    ]),
  ];
  writeFileSync(path, `${JSON.stringify({ playbook, time: new Date().toISOString(), exitCode: outcome.exitCode, hosts: outcome.hosts, failed }, null, 2)}\n`);
}

/** The hosts that failed in the last recorded run, or undefined when no run was recorded. */
export function lastFailedHosts(dir: string): string[] | undefined {
  const path = lastRunPath(dir);
  if (!existsSync(path)) return undefined;
  const data = JSON.parse(readFileSync(path, 'utf8')) as { failed?: string[] };
  return data.failed ?? [];
}
