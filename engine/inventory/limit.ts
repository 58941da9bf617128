// `--limit`: which hosts a run is limited to: host patterns, `@FILE` (one name per line) and `@failed` (the hosts
// that failed, were unreachable or were left unfinished in this playbook's last run, from `.kplay/last-run.json`).
// A limit that leaves no host of the inventory is an error (as Ansible's "no hosts to target"), never an empty run.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { failedHostsOf } from './last-run.ts';
import type { HostIndex } from './patterns.ts';
import { selectHosts } from './patterns.ts';

/** A `--limit` that cannot be resolved or selects nothing: a usage error (exit 1, nothing run). */
export class LimitError extends Error {}

/** Host names `limit` allows (parts separated by `,` or `:` before an `@`), or undefined for no limit. */
export function resolveLimit(limit: string | undefined, inventory: HostIndex, cwd: string, playbook: string): Set<string> | undefined {
  if (limit === undefined) return undefined;
  const names: string[] = [];
  for (const part of limit.split(/[,:](?=@)/)) {
    if (part === '@failed') {
      let failed: string[];
      try {
        failed = failedHostsOf(cwd, playbook);
      } catch (error) {
        throw new LimitError(`--limit @failed: ${(error as Error).message}`);
      }
      if (failed.length === 0) throw new LimitError(`--limit @failed: no host failed in the last run of ${playbook}: nothing to rerun`);
      names.push(...failed.filter((name) => inventory.has(name)));
    } else if (part.startsWith('@')) {
      const file = resolve(cwd, part.slice(1));
      if (!existsSync(file)) throw new LimitError(`--limit ${part}: no such file`);
      const listed = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      names.push(...listed.filter((name) => inventory.has(name)));
    } else {
      names.push(...selectHosts(inventory, part));
    }
  }
  if (names.length === 0) throw new LimitError(`--limit ${limit} matches no host of the inventory: nothing to run`);
  return new Set(names);
}
