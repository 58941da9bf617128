// Everything a play's run shares: options, hosts, connections, modules, reporter, and the variables of a host for a task.

import { resolve } from 'node:path';
import type { LimitFunction } from 'p-limit';
import type { Inventory } from '../inventory/inventory.ts';
import type { Inherited, Loaded, Play, RoleInstance, TaskNode } from '../load/model.ts';
import { loadVarsFile } from '../load/vars-file.ts';
import type { ModuleRegistry } from '../modules/registry.ts';
import { SECRET_VARS, type Masker } from '../core/mask.ts';
import { LazyMap, OMIT, toPlain, type Scope } from '../jinja/index.ts';
import { renderPlain, scopeOf } from '../vars/language.ts';
import { mergeLayers } from '../vars/scope.ts';
import type { ConnectionPool } from './connections.ts';
import type { Reporter } from '../core/events.ts';
import type { HostState } from './host.ts';
import type { RunInterrupt } from './interrupt.ts';
import type { AsyncJobs } from './async-jobs.ts';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  /** Host names the run is limited to (already resolved from --limit), or undefined for no limit. */
  limit?: Set<string>;
  /** What --limit (or --shard) said, for messages. */
  limitText?: string;
  tags: string[];
  skipTags: string[];
  extraVars: Record<string, unknown>;
  forks: number;
  verbosity: number;
  becomePassword?: string;
  forceHandlers: boolean;
  /** Overrides every play's strategy when set. */
  strategy?: 'linear' | 'free';
  /** Set by SIGINT/SIGTERM (cli.ts): no task starts after it. */
  interrupt?: RunInterrupt;
  /** Tasks started with `async` and `poll: 0`, for async_status; made by the runner. */
  jobs?: AsyncJobs;
}

export class PlayContext {
  /** Set by any_errors_fatal, max_fail_percentage or end_play: later tasks and batches do not run. */
  aborted = false;
  /** Hosts that ran the whole play (every section and its handlers). */
  readonly completed = new Set<HostState>();

  get interrupted(): boolean {
    return this.options.interrupt?.interrupted ?? false;
  }
  private readonly varsFiles = new Map<string, Record<string, unknown>>();
  private hostvarsView?: LazyMap;

  constructor(
    readonly play: Play,
    readonly options: RunOptions,
    readonly inventory: Inventory,
    readonly allHosts: Map<string, HostState>,
    /** Every host of the play (all serial batches). */
    readonly playHosts: HostState[],
    readonly pool: ConnectionPool,
    readonly registry: ModuleRegistry,
    readonly reporter: Reporter,
    readonly masker: Masker,
    readonly limit: LimitFunction,
    readonly groups: Record<string, string[]>,
  ) {
    this.handlers = [...play.handlers];
    this.roles = [...play.roles];
  }

  batch: HostState[] = [];
  /** The play's gather_facts as rendered before the run. */
  gatherFacts = false;
  /** The host lists every task's variables name (play_hosts...), made once per batch and state of its hosts. */
  private hostLists?: { batch: HostState[]; size: number; active: HostState[]; lists: Record<string, string[]> };
  /** group_names per host: the inventory does not change during a play. */
  private readonly groupNames = new Map<string, string[]>();
  /** The play's handlers and roles, plus what include_role/include_tasks brought in during this run (the play is not changed). */
  readonly handlers: TaskNode[];
  readonly roles: RoleInstance[];

  /** Take in what a dynamic include loaded: its roles' defaults and vars, its handlers. */
  adopt(loaded: Loaded): void {
    // A handler already known (an include_role's handlers, read when the play loaded) is not added twice.
    const at = (h: TaskNode): string => `${h.pos.file}:${h.pos.line}:${h.pos.col}`;
    const known = new Set(this.handlers.map(at));
    this.handlers.push(...loaded.handlers.filter((h) => !known.has(at(h))));
    for (const r of loaded.roles) if (!this.roles.includes(r)) this.roles.push(r);
  }

  /** Ansible's `hostvars`: every host's variables, read live (facts gathered later show up), rendered when read. */
  private hostvars(): LazyMap {
    if (this.hostvarsView) return this.hostvarsView;
    this.hostvarsView = new LazyMap(
      'hostvars',
      (name) => {
        const state = this.allHosts.get(name);
        return state ? this.scope(this.varsFor(state, this.play.scope, false), this.play.scope).varsView() : undefined;
      },
      () => [...this.allHosts.keys()],
    );
    return this.hostvarsView;
  }

  /** The variables of a host for a task as Jinja reads them: lazy, with the role's and playbook's search path. */
  scope(vars: Record<string, unknown>, inherited?: Inherited): Scope {
    return scopeOf(vars, { roleDir: inherited?.role?.path, playbookDir: this.play.baseDir });
  }

  private playVarsFiles(base: Record<string, unknown>): Record<string, unknown> {
    const merged: Record<string, unknown> = {};
    for (const file of this.play.varsFiles) {
      const name = String(renderPlain(file.path, this.scope(base)));
      const path = resolve(this.play.baseDir, name);
      let data = this.varsFiles.get(path);
      if (!data) {
        data = loadVarsFile(path, name, file.pos);
        this.varsFiles.set(path, data);
      }
      Object.assign(merged, data);
    }
    return merged;
  }

  /** The password variables (SECRET_VARS) of a host and of `vars`, rendered, registered as the run's secrets. */
  noteSecretVars(host: HostState, taskScope: Inherited = this.play.scope): void {
    const read = <T>(fn: () => T): T | undefined => {
      try {
        return fn();
      } catch {
        return undefined; // a variable or vars file that cannot be read yet is reported by the task that needs it
      }
    };
    const vars = read(() => this.varsFor(host, taskScope, false));
    if (!vars) return;
    const scope = this.scope(vars, taskScope);
    for (const name of SECRET_VARS) if (name in vars) this.masker.addAll(read(() => toPlain(scope.lookup(name))));
  }

  private groupNamesOf(host: string): string[] {
    let names = this.groupNames.get(host);
    if (!names) this.groupNames.set(host, (names = this.inventory.groupNames(host)));
    return names;
  }

  /**
   * play_hosts and its kin. Made again only when the batch or the set of its failed or unreachable hosts changed
   * (checked without allocating): building them for every host and task made a run's work grow with hosts².
   * Shared between hosts' variables, as `groups` is.
   */
  private playHostLists(): Record<string, string[]> {
    const cached = this.hostLists;
    if (cached && cached.batch === this.batch && cached.size === this.batch.length && sameActive(this.playHosts, cached.active)) return cached.lists;
    // As ansible-core: the batch and the whole play, each without the hosts that failed or became unreachable in this
    // play (play_hosts is the batch's old name).
    const active = this.playHosts.filter((h) => !h.failed && !h.unreachable);
    const activeNames = new Set(active.map((h) => h.name));
    const batch = this.batch.filter((h) => activeNames.has(h.name)).map((h) => h.name);
    const lists = {
      play_hosts: batch,
      ansible_play_batch: [...batch],
      ansible_play_hosts: active.map((h) => h.name),
      ansible_play_hosts_all: this.playHosts.map((h) => h.name),
    };
    this.hostLists = { batch: this.batch, size: this.batch.length, active, lists };
    return lists;
  }

  /** A host's variables for a task with the given inherited keywords, in precedence order (engine/vars/scope.ts). */
  varsFor(host: HostState, scope: Inherited, withHostvars = true): Record<string, unknown> {
    const play = this.play;
    const role = scope.role;
    const roleChain = role ? [...role.dependencies, role] : [];
    const magic: Record<string, unknown> = {
      inventory_hostname: host.name,
      inventory_hostname_short: host.name.split('.')[0],
      group_names: this.groupNamesOf(host.name),
      groups: this.groups,
      ...this.playHostLists(),
      ansible_play_name: play.name,
      playbook_dir: play.baseDir,
      ansible_check_mode: this.options.check,
      ansible_diff_mode: this.options.diff,
      ansible_verbosity: this.options.verbosity,
      omit: OMIT,
    };
    if (role) {
      magic.role_name = role.name;
      magic.role_path = role.path;
    }
    const layers = {
      roleDefaults: [...this.roles.map((r) => r.defaults), ...roleChain.map((r) => r.defaults)],
      inventory: host.inventoryVars,
      facts: host.facts,
      playVars: play.vars,
      playVarsFiles: {},
      roleVars: [...this.roles.map((r) => r.vars), ...roleChain.map((r) => r.vars)],
      taskVars: scope.vars,
      hostFacts: host.hostFacts,
      params: roleChain.map((r) => r.params),
      extraVars: this.options.extraVars,
      magic,
    };
    if (play.varsFiles.length > 0) layers.playVarsFiles = this.playVarsFiles(mergeLayers(layers));
    const vars = mergeLayers(layers);
    if (withHostvars) vars.hostvars = this.hostvars();
    if (play.connection) vars.ansible_connection = play.connection;
    if (play.remoteUser && vars.ansible_user === undefined) vars.ansible_user = play.remoteUser;
    if (play.port !== undefined && vars.ansible_port === undefined) vars.ansible_port = play.port;
    return vars;
  }
}

/** Whether `active` is still exactly the play's hosts that have neither failed nor become unreachable. */
function sameActive(hosts: HostState[], active: HostState[]): boolean {
  let i = 0;
  for (const h of hosts) {
    if (h.failed || h.unreachable) continue;
    if (active[i++] !== h) return false;
  }
  return i === active.length;
}
