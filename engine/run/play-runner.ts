// One play on one batch of hosts: facts, sections (pre_tasks, roles + tasks, post_tasks), handlers after each,
// blocks with rescue/always, includes, meta actions; linear (task by task across hosts) or free (each host alone).

import pLimit from 'p-limit';
import type { BlockNode, IncludeRoleNode, IncludeTasksNode, Inherited, MetaNode, Node, TaskNode } from '../load/model.ts';
import { count } from '../core/counts.ts';
import type { TaskRef } from '../core/events.ts';
import { displayPath } from '../core/source.ts';
import { conditionHolds, renderPlain } from '../vars/language.ts';
import type { PlayContext } from './context.ts';
import type { HostState } from './host.ts';
import { announceReads } from './read-ahead.ts';
import { selectedByTags } from './tags.ts';
import { taskRef, TaskExecutor } from './task-executor.ts';
import { itemVars, loopItems } from './loop.ts';
import { hasTemplatedKeywords, resolveKeywords } from './keywords.ts';

export class PlayRunner {
  private readonly executor: TaskExecutor;

  constructor(private readonly pc: PlayContext) {
    this.executor = new TaskExecutor(pc);
  }

  async run(batch: HostState[]): Promise<void> {
    const play = this.pc.play;
    if (this.pc.gatherFacts) await this.runTask(this.factsTask(), batch);
    const strategy = this.pc.options.strategy ?? play.strategy;
    const runSections = async (hosts: HostState[]): Promise<void> => {
      for (const section of play.sections) {
        await this.runNodes(section, hosts);
        await this.flushHandlers(hosts);
      }
      if (!this.pc.interrupted) for (const h of hosts) this.pc.completed.add(h);
    };
    if (strategy === 'free') await Promise.all(batch.map((h) => runSections([h])));
    else await runSections(batch);
  }

  private factsTask(): TaskNode {
    const play = this.pc.play;
    return {
      kind: 'task', name: 'Gathering Facts', pos: play.pos, scope: { ...play.scope, when: [], tags: ['always'] },
      module: 'setup', args: {}, argPos: {}, notify: [], listen: [],
    };
  }

  private alive(hosts: HostState[]): HostState[] {
    return this.pc.aborted || this.pc.interrupted ? [] : hosts.filter((h) => h.active);
  }

  async runNodes(nodes: Node[], hosts: HostState[]): Promise<void> {
    announceReads(this.pc, nodes, this.alive(hosts));
    for (const node of nodes) {
      const active = this.alive(hosts);
      if (active.length === 0) return;
      await this.runNode(node, active);
    }
  }

  private async runNode(node: Node, hosts: HostState[]): Promise<void> {
    switch (node.kind) {
      case 'task':
        return this.runTask(node, hosts);
      case 'block':
        return this.runBlock(node, hosts);
      case 'include_tasks':
        return this.runInclude(node, hosts);
      case 'include_role':
        return this.runIncludeRole(node, hosts);
      case 'meta':
        return this.runMeta(node, hosts);
    }
  }

  async runTask(written: TaskNode, hosts: HostState[], handler = false): Promise<void> {
    const pc = this.pc;
    // run_once, throttle and any_errors_fatal written as `{{ }}` decide for the batch: the first host's values.
    const task = hasTemplatedKeywords(written) ? this.resolvedFor(hosts[0], written) : written;
    if (!handler && !selectedByTags(task.scope.tags, pc.options)) return;
    if (pc.interrupted) return;
    const firstVars = task.name?.includes('{{') ? this.safeVars(hosts[0], task) : undefined;
    pc.reporter.event({ type: 'task', task: taskRef(task, handler, firstVars, pc), hosts: hosts.map((h) => h.name) });
    const failedBefore = new Set(hosts.filter((h) => h.failed || h.unreachable));
    if (task.scope.runOnce) {
      const [first, ...rest] = hosts;
      const result = await this.executor.run(written, first, handler);
      // run_once: the one result, its facts and its failure count for every host of the batch, as in Ansible.
      for (const h of rest) {
        if (task.register) h.hostFacts[task.register] = result;
        if (result.ansible_facts) Object.assign(h.hostFacts, result.ansible_facts as Record<string, unknown>);
        if (first.failed || first.unreachable) {
          h.failed = true;
          count(h.counts, 'failed', false);
          pc.reporter.event({ type: 'result', host: h.name, task: taskRef(task, handler, firstVars, pc), status: 'failed', msg: `run_once task failed on ${first.name}` });
        }
      }
    } else {
      const limit = task.throttle ? pLimit(task.throttle) : undefined; // throttle: a cap below --forks
      await Promise.all(hosts.map((h) => pc.limit(() => (limit ? limit(() => this.executor.run(written, h, handler)) : this.executor.run(written, h, handler)))));
    }
    const newlyFailed = hosts.filter((h) => (h.failed || h.unreachable) && !failedBefore.has(h));
    if (newlyFailed.length > 0 && (pc.play.anyErrorsFatal || task.scope.anyErrorsFatal)) {
      pc.reporter.event({ type: 'warning', message: `any_errors_fatal: ${newlyFailed.map((h) => h.name).join(', ')} failed; ending the play` });
      pc.aborted = true;
    }
    const max = pc.play.maxFailPercentage;
    if (max !== undefined && pc.batch.length > 0) {
      const failed = pc.batch.filter((h) => h.failed || h.unreachable).length;
      if ((failed / pc.batch.length) * 100 > max) {
        pc.reporter.event({ type: 'warning', message: `max_fail_percentage ${max}% exceeded (${failed} of ${pc.batch.length} hosts failed); ending the play` });
        pc.aborted = true;
      }
    }
  }

  private resolvedFor(host: HostState | undefined, task: TaskNode): TaskNode {
    try {
      return host ? resolveKeywords(task, this.pc.scope(this.pc.varsFor(host, task.scope), task.scope)) : task;
    } catch {
      return task; // each host's run reports the error at the keyword's place
    }
  }

  private async runBlock(block: BlockNode, hosts: HostState[]): Promise<void> {
    const entered = hosts.filter((h) => this.whenHolds(block.scope, h));
    if (entered.length === 0) return;
    await this.runNodes(block.block, entered);
    const failed = entered.filter((h) => h.failed && !h.unreachable);
    if (block.rescue.length > 0 && failed.length > 0 && !this.pc.aborted) {
      for (const h of failed) {
        h.failed = false;
        h.counts.failed--;
        h.counts.rescued++;
      }
      await this.runNodes(block.rescue, failed);
    }
    if (block.always.length > 0) {
      const stillFailed = entered.filter((h) => h.failed && !h.unreachable);
      for (const h of stillFailed) h.failed = false;
      await this.runNodes(block.always, entered.filter((h) => !h.unreachable && !h.ended));
      for (const h of stillFailed) h.failed = true;
    }
  }

  private safeVars(host: HostState | undefined, task: TaskNode): Record<string, unknown> | undefined {
    try {
      return host ? this.pc.varsFor(host, task.scope) : undefined;
    } catch {
      return undefined;
    }
  }

  /** A block's own `when` decides whether a host enters it (its tasks check it again, harmlessly). */
  private whenHolds(scope: Inherited, host: HostState): boolean {
    if (scope.when.length === 0) return true;
    try {
      const vars = this.pc.scope(this.pc.varsFor(host, scope), scope);
      return scope.when.every((c) => conditionHolds(c.expr, vars));
    } catch {
      return true; // the block's first task reports the error with its position
    }
  }

  private async runInclude(node: IncludeTasksNode, hosts: HostState[]): Promise<void> {
    const pc = this.pc;
    if (!selectedByTags(node.scope.tags, pc.options)) return;
    // Ansible reports an include_tasks as a task: each file included for a host (each loop item's) counts ok, a
    // host whose condition is false counts skipped.
    const ref: TaskRef = { name: node.name ?? 'include_tasks', module: 'include_tasks', file: displayPath(node.pos.file), line: node.pos.line, handler: false };
    pc.reporter.event({ type: 'task', task: ref, hosts: hosts.map((h) => h.name) });
    const report = (host: HostState, status: 'ok' | 'skipped', msg: string, item?: unknown): void => {
      count(host.counts, status, false);
      pc.reporter.event({ type: 'result', host: host.name, task: ref, status, msg, ...(item === undefined ? {} : { item }) });
    };
    // Per host: the include's condition and file name (which may use variables), then one run per distinct file.
    const groups = new Map<string, { hosts: HostState[]; vars: Record<string, unknown> }[]>();
    for (const host of hosts) {
      const vars = pc.varsFor(host, node.scope);
      const scope = pc.scope(vars, node.scope);
      if (!node.scope.when.every((c) => conditionHolds(c.expr, scope))) {
        report(host, 'skipped', 'Conditional result was False');
        continue;
      }
      const items = node.loop ? loopItems(node.loop, scope) : [undefined];
      if (items.length === 0) report(host, 'skipped', 'No items in the list');
      items.forEach((item, i) => {
        const each = node.loop ? itemVars(node.loop, items, i, scope) : {};
        const file = String(renderPlain(node.file, pc.scope({ ...vars, ...each }, node.scope)));
        report(host, 'ok', `included: ${file}`);
        const key = `${file}\0${i}\0${node.loop ? JSON.stringify(item) : ''}`;
        const list = groups.get(key) ?? [];
        list.push({ hosts: [host], vars: each });
        groups.set(key, list);
      });
    }
    for (const [key, entries] of groups) {
      const file = key.split('\0')[0];
      const itemVars = entries[0].vars;
      const scope: Inherited = { ...node.scope, when: [], vars: { ...node.scope.vars, ...itemVars } };
      const loaded = await pc.play.includes.includeTasks(file, node, scope, pc.roles);
      pc.adopt(loaded);
      await this.runNodes(loaded.nodes, entries.flatMap((e) => e.hosts));
    }
  }

  private async runIncludeRole(node: IncludeRoleNode, hosts: HostState[]): Promise<void> {
    const byRole = new Map<string, HostState[]>();
    for (const host of hosts) {
      const scope = this.pc.scope(this.pc.varsFor(host, node.scope), node.scope);
      if (!node.scope.when.every((c) => conditionHolds(c.expr, scope))) continue;
      const role = String(renderPlain(node.role, scope));
      byRole.set(role, [...(byRole.get(role) ?? []), host]);
    }
    for (const [role, roleHosts] of byRole) {
      const loaded = await this.pc.play.includes.includeRole(role, node, this.pc.roles);
      this.pc.adopt(loaded);
      await this.runNodes(loaded.nodes, roleHosts);
    }
  }

  private async runMeta(node: MetaNode, hosts: HostState[]): Promise<void> {
    const applies = hosts.filter((h) => this.whenHolds(node.scope, h));
    switch (node.action) {
      case 'flush_handlers':
        return this.flushHandlers(applies);
      case 'end_play':
        if (applies.length > 0) this.pc.aborted = true;
        return;
      case 'end_host':
        for (const h of applies) h.ended = true;
        return;
      case 'clear_host_errors':
        for (const h of this.pc.batch) if (!h.unreachable) h.failed = false;
        return;
      default:
        return;
    }
  }

  /** Run every notified handler once per host, in the order the handlers are defined; repeat while handlers notify others. */
  async flushHandlers(hosts: HostState[]): Promise<void> {
    const force = this.pc.options.forceHandlers || this.pc.play.forceHandlers;
    for (let pass = 0; pass < 10; pass++) {
      let ran = false;
      for (const handler of this.pc.handlers) {
        const targets = hosts.filter((h) => h.notified.has(handler) && !h.unreachable && !h.interrupted && (force || !h.failed) && !this.pc.aborted);
        for (const h of hosts) h.notified.delete(handler);
        if (targets.length === 0) continue;
        ran = true;
        await this.runTask(handler, targets, true);
      }
      if (!ran) return;
    }
  }
}
