// One task on one host: when, loop, arguments, plan, apply (or stop there in --check), retries, register, notify.

import { checkArgs, OMIT } from '../load/args.ts';
import type { Condition, TaskNode } from '../load/model.ts';
import { formatPos, InputError, type SourcePos } from '../core/source.ts';
import { displayPath } from '../load/yaml.ts';
import type { BecomeOptions, Connection, ExecOptions } from '../connection/connection.ts';
import { UnreachableError } from '../connection/connection.ts';
import { PlannedConnection } from '../connection/planned.ts';
import { ModuleError, type FileDiff, type Module, type ModuleContext } from '../modules/contract.ts';
import { conditionsHold, createScope, evaluate, ExpressionError, renderValue, UndefinedVariableError } from '../vars/expression.ts';
import { findFile } from './find-file.ts';
import { crashMessage } from './crash.ts';
import { startProgress } from './progress.ts';
import { describeConnection } from './connection-info.ts';
import { ConnectionPool } from './connections.ts';
import type { PlayContext } from './context.ts';
import type { TaskRef, TaskStatus } from '../core/events.ts';
import type { HostState } from './host.ts';

interface Outcome {
  status: TaskStatus;
  result: Record<string, unknown>;
  msg?: string;
  diff?: FileDiff[];
}

/** A task as reports show it; a name with `{{ }}` is rendered with the given variables when it can be. */
export function taskRef(task: TaskNode, handler = false, vars?: Record<string, unknown>): TaskRef {
  let name = task.name ?? task.module;
  if (vars && name.includes('{{')) {
    try {
      name = String(renderValue(name, createScope(vars).strict));
    } catch {
      // a name that cannot be rendered (a variable set later) is shown as written
    }
  }
  return { name, module: task.module, file: displayPath(task.pos.file), line: task.pos.line, handler };
}

function withoutOmitted(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== OMIT));
}

/** A connection that adds a task's `environment:` and `timeout:` to every command. */
function withExecDefaults(conn: Connection, defaults: Pick<ExecOptions, 'env' | 'timeoutMs'>): Connection {
  return new Proxy(conn, {
    get(target, key, receiver) {
      if (key === 'exec') {
        return (command: string, options: ExecOptions = {}) =>
          target.exec(command, { timeoutMs: defaults.timeoutMs, ...options, env: { ...defaults.env, ...options.env } });
      }
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function errorMessage(error: unknown, task: TaskNode, verbosity = 0): string {
  if (error instanceof InputError) {
    // An error inside a template file names the template; say which task rendered it too.
    if (error.pos && error.pos.file !== displayPath(task.pos.file)) {
      return `${error.message} (task "${task.name ?? task.module}" at ${displayPath(task.pos.file)}:${task.pos.line})`;
    }
    return error.message;
  }
  if (error instanceof UndefinedVariableError || error instanceof ExpressionError) {
    return `${formatPos({ ...task.pos, file: displayPath(task.pos.file) })}: task "${task.name ?? task.module}": ${error.message}`;
  }
  return error instanceof Error ? crashMessage(error, verbosity) : String(error);
}

export class TaskExecutor {
  constructor(private readonly pc: PlayContext) {}

  /** Run `task` on `host` and report it. Returns the registered result. */
  async run(task: TaskNode, host: HostState, handler = false): Promise<Record<string, unknown>> {
    const pc = this.pc;
    let ref = taskRef(task, handler);
    const noLog = task.scope.noLog === true;
    let outcome: Outcome;
    let vars: Record<string, unknown> = {};
    try {
      vars = pc.varsFor(host, task.scope);
      ref = taskRef(task, handler, vars);
      pc.reporter.event({ type: 'host_task', host: host.name, task: ref });
      outcome = task.loop ? await this.runLoop(task, host, vars, ref, noLog) : await this.runWithRetries(task, host, vars, {});
    } catch (error) {
      const msg = errorMessage(error, task, pc.options.verbosity);
      outcome = { status: 'failed', result: { failed: true, msg }, msg };
    }
    const ignored = outcome.status === 'failed' && task.scope.ignoreErrors === true;
    if (!task.loop || outcome.result.results === undefined) {
      pc.reporter.event({
        type: 'result',
        host: host.name,
        task: ref,
        status: outcome.status,
        msg: noLog ? undefined : outcome.msg,
        diff: noLog ? undefined : outcome.diff,
        result: noLog ? undefined : outcome.result,
        ignored: ignored || undefined,
        censored: noLog || undefined,
      });
    }
    this.count(host, outcome.status, ignored);
    if (task.register) host.hostFacts[task.register] = outcome.result;
    if (outcome.status === 'changed') this.notify(task, host, vars);
    return outcome.result;
  }

  private count(host: HostState, status: TaskStatus, ignored: boolean): void {
    const c = host.counts;
    if (status === 'failed') {
      if (ignored) c.ignored++;
      else {
        c.failed++;
        host.failed = true;
      }
    } else if (status === 'unreachable') {
      c.unreachable++;
      host.unreachable = true;
    } else if (status === 'skipped') c.skipped++;
    else {
      c.ok++;
      if (status === 'changed') c.changed++;
    }
  }

  private notify(task: TaskNode, host: HostState, vars: Record<string, unknown>): void {
    if (task.notify.length === 0) return;
    const scope = createScope(vars).strict;
    for (const raw of task.notify) {
      const name = String(renderValue(raw, scope));
      const handlers = this.pc.play.handlers.filter((h) => h.name === name || h.listen.includes(name));
      if (handlers.length === 0) {
        this.pc.reporter.event({ type: 'warning', host: host.name, message: `notify: no handler named "${name}"` });
      }
      for (const h of handlers) host.notified.add(h);
    }
  }

  private async runLoop(task: TaskNode, host: HostState, vars: Record<string, unknown>, ref: TaskRef, noLog: boolean): Promise<Outcome> {
    const loop = task.loop!;
    const items = renderValue(loop.items, createScope(vars).strict);
    if (!Array.isArray(items)) {
      throw new InputError(loop.pos, `loop takes a list, got ${items === null ? 'null' : typeof items}`);
    }
    const results: Record<string, unknown>[] = [];
    const statuses: TaskStatus[] = [];
    const diffs: FileDiff[] = [];
    for (let i = 0; i < items.length; i++) {
      const itemVars: Record<string, unknown> = { [loop.loopVar]: items[i], ansible_loop_var: loop.loopVar };
      if (loop.indexVar) itemVars[loop.indexVar] = i;
      let outcome: Outcome;
      try {
        outcome = await this.runWithRetries(task, host, vars, itemVars);
      } catch (error) {
        const msg = errorMessage(error, task, this.pc.options.verbosity);
        outcome = { status: 'failed', result: { failed: true, msg }, msg };
      }
      const label = loop.label !== undefined ? renderValue(loop.label, createScope({ ...vars, ...itemVars }).strict) : items[i];
      results.push({ ...outcome.result, [loop.loopVar]: items[i], item: items[i], ansible_loop_var: loop.loopVar });
      statuses.push(outcome.status);
      if (outcome.diff) diffs.push(...outcome.diff);
      this.pc.reporter.event({
        type: 'result',
        host: host.name,
        task: ref,
        status: outcome.status,
        item: noLog ? undefined : label,
        msg: noLog ? undefined : outcome.msg,
        diff: noLog ? undefined : outcome.diff,
        result: noLog ? undefined : outcome.result,
        ignored: (outcome.status === 'failed' && task.scope.ignoreErrors) || undefined,
        censored: noLog || undefined,
      });
      if (outcome.status === 'unreachable') break;
    }
    const status: TaskStatus = statuses.includes('unreachable')
      ? 'unreachable'
      : statuses.includes('failed')
        ? 'failed'
        : statuses.includes('changed')
          ? 'changed'
          : statuses.length > 0 && statuses.every((s) => s === 'skipped')
            ? 'skipped'
            : 'ok';
    const result: Record<string, unknown> = { changed: status === 'changed', results, msg: 'All items completed' };
    if (status === 'failed') {
      result.failed = true;
      result.msg = 'One or more items failed';
    }
    if (status === 'skipped') result.skipped = true;
    return { status, result, msg: status === 'failed' ? String(result.msg) : undefined, diff: diffs.length ? diffs : undefined };
  }

  private async runWithRetries(task: TaskNode, host: HostState, vars: Record<string, unknown>, itemVars: Record<string, unknown>): Promise<Outcome> {
    const attempts = task.until ? (task.retries ?? 3) + 1 : 1;
    let outcome: Outcome = { status: 'skipped', result: {} };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      outcome = await this.runOnce(task, host, vars, itemVars);
      if (!task.until || outcome.status === 'skipped' || outcome.status === 'unreachable') return outcome;
      const bound = task.register ? { [task.register]: outcome.result } : {};
      const scope = createScope({ ...vars, ...itemVars, ...bound }).strict;
      if (conditionsHold(task.until.map((c) => c.expr), scope)) {
        outcome.result.attempts = attempt;
        return outcome;
      }
      if (attempt < attempts) await new Promise((r) => setTimeout(r, (task.delay ?? 5) * 1000));
    }
    outcome.result.attempts = attempts;
    return { ...outcome, status: 'failed', msg: `retry limit reached (${attempts} attempts)`, result: { ...outcome.result, failed: true, msg: 'Retry limit reached' } };
  }

  /** Run `fn`; an undefined variable or a failing expression in it is reported at `pos` (or the task's line). */
  private at<T>(task: TaskNode, pos: SourcePos | undefined, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof UndefinedVariableError || error instanceof ExpressionError) {
        const where = pos ?? task.pos;
        throw new InputError({ ...where, file: displayPath(where.file) }, `task "${task.name ?? task.module}": ${error.message}`);
      }
      throw error;
    }
  }

  /** Every condition of a list holds; an error is reported at the condition's own position. */
  private conditionsAt(task: TaskNode, conditions: readonly Condition[], scope: Record<string, unknown>): boolean {
    return conditions.every((c) => this.at(task, c.pos, () => conditionsHold([c.expr], scope)));
  }

  private connectionFor(hostName: string): Promise<Connection> {
    return this.pc.pool.get(hostName, () => {
      const target = this.pc.allHosts.get(hostName);
      // A host outside the inventory: localhost is this machine (as in Ansible); any other name is an address.
      const vars = target
        ? this.pc.varsFor(target, this.pc.play.scope, false)
        : ConnectionPool.isLocal(hostName, {})
          ? { ansible_connection: 'local' }
          : { ansible_host: hostName };
      const view = createScope(vars).view;
      const connVars: Record<string, unknown> = {};
      for (const key of Object.keys(vars)) if (key.startsWith('ansible_') || key.startsWith('kplay_')) connVars[key] = view[key];
      if (this.pc.options.verbosity >= 3) this.pc.reporter.event({ type: 'connection', host: hostName, message: describeConnection(hostName, connVars) });
      return connVars;
    });
  }

  private async runOnce(task: TaskNode, host: HostState, vars: Record<string, unknown>, itemVars: Record<string, unknown>): Promise<Outcome> {
    const pc = this.pc;
    const { strict, view } = createScope({ ...vars, ...itemVars });
    if (!this.conditionsAt(task, task.scope.when, strict)) {
      return { status: 'skipped', result: { skipped: true, changed: false, skip_reason: 'Conditional result was False' } };
    }
    const module = pc.registry.get(task.module) as Module;
    const rendered: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(task.args)) {
      rendered[key] = this.at(task, task.argPos[key]?.value, () => renderValue(value, strict));
    }
    const args = checkArgs(module, withoutOmitted(rendered), (key, which = 'key') => (key ? task.argPos[key]?.[which] : undefined) ?? task.pos, 'run');
    for (const [name, spec] of Object.entries(module.spec.args)) {
      if (spec.noLog && typeof args[name] === 'string') pc.masker.add(args[name] as string);
    }
    if (task.scope.noLog) for (const v of Object.values(args)) if (typeof v === 'string' && v.length > 3) pc.masker.add(v);
    const check = task.scope.checkMode ?? pc.options.check;
    const delegate = task.scope.delegateTo === undefined ? undefined : String(renderValue(task.scope.delegateTo, strict));
    try {
      let conn = module.controllerOnly ? pc.pool.controller() : await this.connectionFor(delegate ?? host.name);
      if (!check && conn instanceof PlannedConnection) conn = conn.real;
      if (task.scope.environment || task.timeout) {
        const env = (task.scope.environment ? renderValue(task.scope.environment, strict) : {}) as Record<string, unknown>;
        conn = withExecDefaults(conn, {
          env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
          timeoutMs: task.timeout ? task.timeout * 1000 : undefined,
        });
      }
      const become: BecomeOptions | undefined = task.scope.become
        ? { user: String(renderValue(task.scope.becomeUser ?? 'root', strict)), password: pc.options.becomePassword }
        : undefined;
      const controller = check ? pc.pool.controller() : realOf(pc.pool.controller());
      const ctx: ModuleContext = {
        conn,
        controller,
        hostName: host.name,
        vars: view,
        check,
        diff: pc.options.diff,
        become,
        findFile: (name, kind) =>
          findFile(name, kind, task, pc.play.baseDir, (path) => controller instanceof PlannedConnection && controller.plansToCreate(path)),
        evaluate: (expr) => evaluate(expr, strict),
        log: (message) => {
          if (pc.options.verbosity > 0) pc.reporter.event({ type: 'warning', host: host.name, message });
        },
      };
      const progress = startProgress(module.name, args, check);
      if (progress) pc.reporter.event({ type: 'progress', host: host.name, task: taskRef(task), progress });
      const plan = await module.plan(args, ctx);
      if (plan.unpredictable && check) {
        return { status: 'skipped', result: { skipped: true, changed: false, msg: plan.unpredictable }, msg: plan.unpredictable };
      }
      const extra = !check && plan.changed && plan.apply ? await plan.apply() : undefined;
      if (conn instanceof PlannedConnection) conn.record(plan.effects);
      if (ctx.controller instanceof PlannedConnection && module.controllerOnly !== true) ctx.controller.record(plan.effects);
      if (plan.facts) Object.assign(task.module === 'setup' || task.module === 'gather_facts' ? host.facts : host.hostFacts, plan.facts);
      let result: Record<string, unknown> = { changed: plan.changed, ...(plan.msg ? { msg: plan.msg } : {}), ...plan.result, ...(extra ?? {}) };
      if (plan.facts) result = { ...result, ansible_facts: plan.facts };
      let changed = plan.changed;
      let failed = false;
      if (task.changedWhen || task.failedWhen) {
        const bound = createScope({ ...vars, ...itemVars, ...(task.register ? { [task.register]: result } : {}), ...result }).strict;
        if (task.changedWhen) changed = this.conditionsAt(task, task.changedWhen, bound);
        if (task.failedWhen) failed = this.conditionsAt(task, task.failedWhen, bound);
        result.changed = changed;
        if (failed) result.failed = true;
      }
      return {
        status: failed ? 'failed' : changed ? 'changed' : 'ok',
        result,
        msg: failed ? String(result.msg ?? 'failed_when condition is true') : plan.msg,
        diff: (task.scope.diff ?? pc.options.diff) && changed ? plan.diff : undefined,
      };
    } catch (error) {
      if (error instanceof UnreachableError) {
        return { status: 'unreachable', result: { unreachable: true, msg: error.message }, msg: error.message };
      }
      if (error instanceof ModuleError) {
        const result: Record<string, unknown> = { ...error.result, failed: true, msg: error.message };
        if (task.failedWhen) {
          // failed_when decides, also for a module that failed (e.g. a command's non-zero rc that is expected)
          const bound = createScope({ ...vars, ...itemVars, ...(task.register ? { [task.register]: result } : {}), ...result }).strict;
          if (!conditionsHold(task.failedWhen.map((c) => c.expr), bound)) {
            const changed = task.changedWhen ? conditionsHold(task.changedWhen.map((c) => c.expr), bound) : result.changed === true;
            return { status: changed ? 'changed' : 'ok', result: { ...result, failed: false, changed } };
          }
        }
        return { status: 'failed', result, msg: error.message };
      }
      throw error;
    }
  }
}

function realOf(conn: Connection): Connection {
  return conn instanceof PlannedConnection ? conn.real : conn;
}
