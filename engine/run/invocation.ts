// How one task is invoked on one host (and loop item): its `when`, its arguments rendered with the host's variables
// (`omit` dropped), the connection it acts through (delegate_to, environment, timeout, --check or check_mode) and
// the context its module plans in.

import { describeConnection } from './connection-info.ts';
import { displayPath, InputError, type SourcePos } from '../core/source.ts';
import type { BecomeOptions, Connection, ExecOptions } from '../connection/connection.ts';
import { forMode } from '../connection/planned.ts';
import { findFile } from '../load/find-file.ts';
import { OMIT } from '../load/args.ts';
import type { Condition, TaskNode } from '../load/model.ts';
import type { Module, ModuleContext } from '../modules/contract.ts';
import { conditionsHold, createScope, evaluate, ExpressionError, renderValue, UndefinedVariableError } from '../vars/expression.ts';
import { ConnectionPool } from './connections.ts';
import type { PlayContext } from './context.ts';
import type { HostState } from './host.ts';

/** Run `fn`; an undefined variable or a failing expression in it is reported at `pos` (or the task's line). */
export function at<T>(task: TaskNode, pos: SourcePos | undefined, fn: () => T): T {
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

/** Every condition of a list holds over `vars`; an error is reported at the condition's own position. */
export function conditionsAt(task: TaskNode, conditions: readonly Condition[], vars: Record<string, unknown>): boolean {
  const scope = createScope(vars).strict;
  return conditions.every((c) => at(task, c.pos, () => conditionsHold([c.expr], scope)));
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

/** One task on one host with one loop item's variables: what its module needs to plan. */
export class Invocation {
  readonly vars: Record<string, unknown>;
  private readonly scope: ReturnType<typeof createScope>;
  /** --check for this task: the run's, unless the task says check_mode. */
  readonly check: boolean;

  constructor(
    private readonly pc: PlayContext,
    readonly task: TaskNode,
    readonly host: HostState,
    hostVars: Record<string, unknown>,
    itemVars: Record<string, unknown>,
  ) {
    this.vars = { ...hostVars, ...itemVars };
    this.scope = createScope(this.vars);
    this.check = task.scope.checkMode ?? pc.options.check;
  }

  whenHolds(): boolean {
    return conditionsAt(this.task, this.task.scope.when, this.vars);
  }

  /** The task's arguments rendered with the host's variables; `omit` leaves an argument out. */
  renderArgs(): Record<string, unknown> {
    const rendered: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.task.args)) {
      const v = at(this.task, this.task.argPos[key]?.value, () => renderValue(value, this.scope.strict));
      if (v !== OMIT) rendered[key] = v;
    }
    return rendered;
  }

  /** Where an argument was written, for messages about it. */
  argPos = (key?: string, which: 'key' | 'value' = 'key'): SourcePos => (key ? this.task.argPos[key]?.[which] : undefined) ?? this.task.pos;

  async context(module: Module): Promise<ModuleContext> {
    const { pc, task, host } = this;
    const strict = this.scope.strict;
    const delegate = task.scope.delegateTo === undefined ? undefined : String(renderValue(task.scope.delegateTo, strict));
    let conn = forMode(module.controllerOnly ? pc.pool.controller() : await this.connectionFor(delegate ?? host.name), this.check);
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
    const controller = forMode(pc.pool.controller(), this.check);
    return {
      conn,
      controller,
      hostName: host.name,
      vars: this.scope.view,
      diff: pc.options.diff,
      become,
      // A `src:` an earlier task of this --check run makes on the controller counts as there.
      findFile: (name, kind) => findFile(name, kind, task, pc.play.baseDir, (path) => (controller.planned?.(path)?.state ?? 'absent') !== 'absent'),
      evaluate: (expr) => evaluate(expr, strict),
      reconnect: async () => {
        await pc.pool.forget(delegate ?? host.name);
        return forMode(await this.connectionFor(delegate ?? host.name), this.check);
      },
      log: (message) => {
        if (pc.options.verbosity > 0) pc.reporter.event({ type: 'warning', host: host.name, message });
      },
    };
  }

  private connectionFor(hostName: string): Promise<Connection> {
    const pc = this.pc;
    return pc.pool.get(hostName, () => {
      const target = pc.allHosts.get(hostName);
      // A host outside the inventory: localhost is this machine (as in Ansible); any other name is an address.
      const vars = target
        ? pc.varsFor(target, pc.play.scope, false)
        : ConnectionPool.isLocal(hostName, {})
          ? { ansible_connection: 'local' }
          : { ansible_host: hostName };
      const view = createScope(vars).view;
      const connVars: Record<string, unknown> = {};
      for (const key of Object.keys(vars)) if (key.startsWith('ansible_') || key.startsWith('kplay_')) connVars[key] = view[key];
      if (pc.options.verbosity >= 3) pc.reporter.event({ type: 'connection', host: hostName, message: describeConnection(hostName, connVars) });
      return connVars;
    });
  }
}
