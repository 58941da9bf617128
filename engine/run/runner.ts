// A whole playbook: for each play, its hosts (pattern ∩ --limit), in serial batches, then the recap and exit code.
// Exit codes: 0 all fine; 2 a task failed on some host; 4 some host unreachable (and none failed).

import pLimit from 'p-limit';
import type { Inventory } from '../inventory/inventory.ts';
import type { Play, Playbook } from '../load/model.ts';
import type { ModuleRegistry } from '../modules/registry.ts';
import type { Masker } from '../core/mask.ts';
import type { ConnectionPool } from './connections.ts';
import { PlayContext, type RunOptions } from './context.ts';
import type { HostCounts, Reporter } from '../core/events.ts';
import { HostState } from './host.ts';
import { PlayRunner } from './play-runner.ts';
import { countTasks } from './count-tasks.ts';
import { playHosts, type PlayHosts } from './play-hosts.ts';
import { onLanguageWarning } from '../vars/language.ts';
import { ranTasks } from '../core/code-cache.ts';

export interface RunOutcome {
  exitCode: 0 | 2 | 4;
  hosts: Record<string, HostCounts>;
  /** Interrupted runs: the hosts that did not finish every play they take part in. */
  unfinished?: string[];
}

export interface RunParts {
  playbook: Playbook;
  inventory: Inventory;
  registry: ModuleRegistry;
  pool: ConnectionPool;
  reporter: Reporter;
  masker: Masker;
  /** Each play's hosts, from playHosts() (computed here when not given). */
  plays?: PlayHosts;
}

/** Sizes of serial batches: numbers or percentages of the play's hosts; the last size repeats. */
export function batches<T>(hosts: T[], serial: (number | string)[]): T[][] {
  if (serial.length === 0 || hosts.length === 0) return [hosts];
  const sizes = serial.map((s) => {
    const n = typeof s === 'string' && s.endsWith('%') ? Math.floor((hosts.length * Number(s.slice(0, -1))) / 100) : Number(s);
    return Math.max(1, n || hosts.length);
  });
  const out: T[][] = [];
  for (let i = 0, b = 0; i < hosts.length; b++) {
    const size = sizes[Math.min(b, sizes.length - 1)];
    out.push(hosts.slice(i, i + size));
    i += size;
  }
  return out;
}

export async function runPlaybook(parts: RunParts, options: RunOptions): Promise<RunOutcome> {
  const { playbook, inventory, reporter } = parts;
  const allHosts = new Map<string, HostState>();
  const stateOf = (name: string): HostState => {
    let state = allHosts.get(name);
    if (!state) {
      state = new HostState(name, inventory.hostVars(name));
      allHosts.set(name, state);
    }
    return state;
  };
  for (const name of inventory.hosts.keys()) stateOf(name);
  const groups = inventory.groupsMap();
  const limit = pLimit(Math.max(1, options.forks));
  reporter.event({ type: 'start', playbook: playbook.path, check: options.check, diff: options.diff });
  onLanguageWarning((message) => reporter.event({ type: 'warning', message }));
  const touched = new Set<HostState>();
  const plays = parts.plays ?? playHosts(playbook, inventory, options);
  const unfinished = new Set<string>();
  const interrupted = () => options.interrupt?.interrupted ?? false;
  try {
    for (const [i, play] of playbook.plays.entries()) {
      const names = plays.hosts[i];
      // Interrupted: this play's hosts that had not finished it, and every host of the plays not started.
      const completed = interrupted() ? new Set<HostState>() : await runPlay(play, plays.patterns[i], plays.gatherFacts[i], names, parts, options, allHosts, stateOf, groups, limit, touched);
      if (!interrupted()) continue;
      for (const name of names) if (!completed.has(stateOf(name))) unfinished.add(name);
    }
    // Jobs started with `poll: 0` run in this process: they end before the connections close.
    await options.jobs?.settle();
  } finally {
    await parts.pool.closeAll();
  }
  const hosts: Record<string, HostCounts> = {};
  for (const h of touched) hosts[h.name] = h.counts;
  if (interrupted()) {
    const list = [...unfinished].sort();
    reporter.event({ type: 'warning', message: `interrupted by ${options.interrupt?.signal}: ${list.length} host(s) unfinished${list.length ? `: ${list.join(', ')}` : ''} (--limit @failed runs them again)` });
  }
  reporter.event({ type: 'recap', hosts });
  const failed = [...touched].some((h) => h.counts.failed > 0);
  const unreachable = [...touched].some((h) => h.counts.unreachable > 0);
  return { exitCode: failed ? 2 : unreachable ? 4 : 0, hosts, ...(interrupted() ? { unfinished: [...unfinished].sort() } : {}) };
}

async function runPlay(
  play: Play,
  pattern: string,
  gatherFacts: boolean,
  names: string[],
  parts: RunParts,
  options: RunOptions,
  allHosts: Map<string, HostState>,
  stateOf: (name: string) => HostState,
  groups: Record<string, string[]>,
  limit: ReturnType<typeof pLimit>,
  touched: Set<HostState>,
): Promise<Set<HostState>> {
  const name = play.name === play.hosts ? pattern : play.name;
  parts.reporter.event({ type: 'play', name, hosts: names, tasks: countTasks(play, options, gatherFacts) });
  if (names.length === 0) {
    // Name what left no host: the play's pattern, or the limit (which may match no host at all).
    const matched = parts.inventory.select(pattern);
    const why =
      matched.length === 0 || !options.limit
        ? `no hosts matched "${pattern}"`
        : options.limit.size === 0
          ? `${options.limitText || '--limit'} matches no host of the inventory`
          : `${options.limitText || '--limit'} leaves none of the ${matched.length} hosts of "${pattern}"`;
    parts.reporter.event({ type: 'warning', message: `play "${name}": ${why}` });
    return new Set();
  }
  // As in Ansible, a host that failed or was unreachable in an earlier play takes no part in later ones.
  const playHosts = names.map(stateOf).filter((h) => !h.failed && !h.unreachable);
  for (const h of playHosts) {
    touched.add(h);
    h.ended = false;
  }
  if (playHosts.length === 0) {
    parts.reporter.event({ type: 'warning', message: `play "${play.name}": every host failed in an earlier play` });
    return new Set();
  }
  const pc = new PlayContext(play, options, parts.inventory, allHosts, playHosts, parts.pool, parts.registry, parts.reporter, parts.masker, limit, groups);
  pc.gatherFacts = gatherFacts;
  for (const h of playHosts) pc.noteSecretVars(h);
  ranTasks();
  for (const batch of batches(playHosts, play.serial)) {
    pc.batch = batch;
    await new PlayRunner(pc).run(batch);
    if (pc.aborted || pc.interrupted || batch.every((h) => !h.active && !h.ended)) break;
  }
  return pc.completed;
}
