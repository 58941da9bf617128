// Everything a play's run shares: options, hosts, connections, modules, reporter, and the variables of a host for a task.

import { resolve } from 'node:path';
import type { LimitFunction } from 'p-limit';
import type { Inventory } from '../inventory/inventory.ts';
import type { Inherited, Loaded, Play, RoleInstance, TaskNode } from '../load/model.ts';
import { loadVarsFile } from '../load/vars-file.ts';
import type { ModuleRegistry } from '../modules/registry.ts';
import type { Masker } from '../core/mask.ts';
import { LazyMap, OMIT, type Scope } from '../jinja/index.ts';
import { renderPlain, scopeOf } from '../vars/language.ts';
import { mergeLayers } from '../vars/scope.ts';
import type { ConnectionPool } from './connections.ts';
import type { Reporter } from '../core/events.ts';
import type { HostState } from './host.ts';
import type { RunInterrupt } from './interrupt.ts';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  /** Host names the run is limited to (already resolved from --limit), or undefined for no limit. */
  limit?: Set<string>;
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
  /** The play's handlers and roles, plus what include_role/include_tasks brought in during this run (the play is not changed). */
  readonly handlers: TaskNode[];
  readonly roles: RoleInstance[];

  /** Take in what a dynamic include loaded: its roles' defaults and vars, its handlers. */
  adopt(loaded: Loaded): void {
    this.handlers.push(...loaded.handlers);
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

  /** A host's variables for a task with the given inherited keywords, in precedence order (engine/vars/scope.ts). */
  varsFor(host: HostState, scope: Inherited, withHostvars = true): Record<string, unknown> {
    const play = this.play;
    const role = scope.role;
    const roleChain = role ? [...role.dependencies, role] : [];
    const magic: Record<string, unknown> = {
      inventory_hostname: host.name,
      inventory_hostname_short: host.name.split('.')[0],
      group_names: this.inventory.groupNames(host.name),
      groups: this.groups,
      play_hosts: this.batch.filter((h) => !h.failed && !h.unreachable).map((h) => h.name),
      ansible_play_hosts: this.batch.filter((h) => !h.failed && !h.unreachable).map((h) => h.name),
      ansible_play_batch: this.batch.map((h) => h.name),
      ansible_play_hosts_all: this.playHosts.map((h) => h.name),
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
    return vars;
  }
}
