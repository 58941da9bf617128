// Splitting one run across controllers: `--shard I/N` keeps the hosts whose name hashes to I (of 0..N-1), the same
// hosts on every run and every machine, whatever else the inventory holds; `kplay merge-recaps` joins the shards'
// `--output json` recaps into one.

import { createHash } from 'node:crypto';
import type { HostCounts } from '../core/events.ts';

export interface Shard {
  index: number;
  count: number;
}

/** `I/N` with 0 ≤ I < N, or an error message. */
export function parseShard(text: string): Shard | string {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) return `--shard takes I/N (e.g. 0/4), got "${text}"`;
  const [index, count] = [Number(match[1]), Number(match[2])];
  if (count < 1 || index >= count) return `--shard ${text}: I counts from 0 to N-1`;
  return { index, count };
}

/** The shard a host belongs to: from a hash of its inventory name only, so it never moves while N stays. */
export function shardOf(hostName: string, count: number): number {
  return createHash('sha256').update(hostName).digest().readUInt32BE(0) % count;
}

export function inShard(hostName: string, shard: Shard): boolean {
  return shardOf(hostName, shard.count) === shard.index;
}

export interface MergedRecap {
  hosts: Record<string, HostCounts>;
  /** As `kplay run`'s: 2 when a host failed, 4 when one was unreachable (and none failed), else 0. */
  exitCode: 0 | 2 | 4;
}

/**
 * The recaps of several `--output json` runs (their whole output, one JSON object a line) as one. A host in two of
 * them, or an output without a recap (a run that did not finish), is an error: the merge would hide it.
 */
export function mergeRecaps(outputs: Array<{ name: string; text: string }>): MergedRecap {
  const hosts: Record<string, HostCounts> = {};
  const from: Record<string, string> = {};
  for (const { name, text } of outputs) {
    const recap = text
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as { type?: string; hosts?: Record<string, HostCounts> })
      .filter((event) => event.type === 'recap')
      .at(-1);
    if (!recap?.hosts) throw new Error(`${name}: no recap (did that run finish, with --output json?)`);
    for (const [host, counts] of Object.entries(recap.hosts)) {
      if (from[host] !== undefined) throw new Error(`${host} is in both ${from[host]} and ${name}: the shards overlap`);
      from[host] = name;
      hosts[host] = counts;
    }
  }
  const all = Object.values(hosts);
  const exitCode = all.some((c) => c.failed > 0) ? 2 : all.some((c) => c.unreachable > 0) ? 4 : 0;
  return { hosts: Object.fromEntries(Object.entries(hosts).sort(([a], [b]) => a.localeCompare(b))), exitCode };
}
