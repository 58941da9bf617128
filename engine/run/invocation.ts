// How one task is invoked on one host (and loop item): its `when`, its arguments rendered with the host's variables
// (`omit` dropped), the connection it acts through (delegate_to, environment, timeout, --check or check_mode) and
// the context its module plans in.

import { describeConnection } from './connection-info.ts';
import { displayedPos, InputError, type SourcePos } from '../core/source.ts';
import { SECRET_VARS } from '../core/mask.ts';
import { CommandTimeoutError, type BecomeOptions, type Connection, type ExecOptions } from '../connection/connection.ts';
import { forMode } from '../connection/planned.ts';
import { findFile } from '../load/find-file.ts';
import type { Condition, TaskNode } from '../load/model.ts';
import { ModuleError, type Module, type ModuleContext } from '../modules/contract.ts';
import { containsUnsafe, OMIT, TemplateError, toPlain, type Scope } from '../jinja/index.ts';
import { conditionHolds, dropOmit, evaluatePlain, language, plainView, renderPlain } from '../vars/language.ts';
import { ConnectionPool } from './connections.ts';
import type { PlayContext } from './context.ts';
import type { HostState } from './host.ts';

/** Run `fn`; an undefined variable or a failing expression in it is reported at `pos` (or the task's line). */
export function at<T>(task: TaskNode, pos: SourcePos | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof TemplateError) {
      const where = pos ?? task.pos;
      throw new InputError(displayedPos(where), `task "${task.name ?? task.module}": ${error.message}`);
    }
    throw error;
  }
}

/** Every condition of a list holds over `scope`; an error is reported at the condition's own position. */
export function conditionsAt(task: TaskNode, conditions: readonly Condition[], scope: Scope): boolean {
  return conditions.every((c) => at(task, c.pos, () => conditionHolds(c.expr, scope)));
}

/** A connection that adds a task's `environment:` and `timeout:` to every command. */
function withExecDefaults(conn: Connection, defaults: Pick<ExecOptions, 'env' | 'timeoutMs'>): Connection {
  return new Proxy(conn, {
    get(target, key, receiver) {
      if (key === 'exec') {
        return (command: string, options: ExecOptions = {}) =>
          target.exec(command, { timeoutMs: defaults.timeoutMs, ...options, env: { ...defaults.env, ...options.env } }).catch((error: unknown) => {
            // The task's own `timeout:` ran out: a task failure as Ansible words it, not a crash.
            if (error instanceof CommandTimeoutError && options.timeoutMs === undefined && defaults.timeoutMs !== undefined) {
              throw new ModuleError(`the task did not finish within its timeout (${defaults.timeoutMs / 1000} s) and was ended`);
            }
            throw error;
          });
      }
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** One task on one host with one loop item's variables: what its module needs to plan. */
export class Invocation {
  readonly vars: Record<string, unknown>;
  readonly scope: Scope;
  /** Arguments whose rendered value holds data from a host (set_fact keeps such facts unsafe). */
  readonly unsafeArgs = new Set<string>();
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
    this.scope = pc.scope(this.vars, task.scope);
    this.check = task.scope.checkMode ?? pc.options.check;
  }

  whenHolds(): boolean {
    return conditionsAt(this.task, this.task.scope.when, this.scope);
  }

  /**
   * The task's arguments rendered with the host's variables, as plain values; `omit` leaves an argument (or a list
   * item, or a map entry inside one) out. assert's `that` stays as written: each line is a conditional.
   */
  renderArgs(): Record<string, unknown> {
    const rendered: Record<string, unknown> = {};
    const assertThat = this.pc.registry.isBuiltin('assert', this.pc.registry.get(this.task.module) as Module);
    for (const [key, value] of Object.entries(this.task.args)) {
      if (assertThat && key === 'that') {
        rendered[key] = value;
        continue;
      }
      const v = at(this.task, this.task.argPos[key]?.value, () => language().renderValue(value, this.scope));
      if (v === OMIT) continue;
      if (containsUnsafe(v)) this.unsafeArgs.add(key);
      rendered[key] = at(this.task, this.task.argPos[key]?.value, () => dropOmit(toPlain(v)));
    }
    return rendered;
  }

  /** Where an argument was written, for messages about it. */
  argPos = (key?: string, which: 'key' | 'value' = 'key'): SourcePos => (key ? this.task.argPos[key]?.[which] : undefined) ?? this.task.pos;

  async context(module: Module): Promise<ModuleContext> {
    const { pc, task, host } = this;
    const scope = this.scope;
    const delegate = task.scope.delegateTo === undefined ? undefined : String(renderPlain(task.scope.delegateTo, scope));
    let conn = forMode(module.controllerOnly ? pc.pool.controller() : await this.connectionFor(delegate ?? host.name), this.check);
    if (task.scope.environment || task.timeout) {
      const env = (task.scope.environment ? renderPlain(task.scope.environment, scope) : {}) as Record<string, unknown>;
      conn = withExecDefaults(conn, {
        env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
        timeoutMs: task.timeout ? task.timeout * 1000 : undefined,
      });
    }
    const become: BecomeOptions | undefined = task.scope.become
      ? { user: String(renderPlain(task.scope.becomeUser ?? 'root', scope)), password: this.becomePassword() }
      : undefined;
    const controller = forMode(pc.pool.controller(), this.check);
    return {
      conn,
      controller,
      hostName: host.name,
      vars: plainView(scope, this.vars),
      diff: pc.options.diff,
      become,
      // A `src:` an earlier task of this --check run makes on the controller counts as there.
      findFile: (name, kind) => findFile(name, kind, task, pc.play.baseDir, (path) => (controller.planned?.(path)?.state ?? 'absent') !== 'absent'),
      evaluate: (expr) => evaluatePlain(expr, scope),
      condition: (conditional) => conditionHolds(conditional, scope),
      renderTemplate: (text, file, extra) => language().renderTemplate(text, file, scope, extra),
      reconnect: async () => {
        await pc.pool.forget(delegate ?? host.name);
        return forMode(await this.connectionFor(delegate ?? host.name), this.check);
      },
      log: (message) => {
        if (pc.options.verbosity > 0) pc.reporter.event({ type: 'warning', host: host.name, message });
      },
      interrupted: pc.options.interrupt?.abortSignal,
      asyncJob: (jid) => {
        const job = pc.options.jobs?.get(jid, host.name);
        if (!job) return undefined;
        const o = job.outcome;
        return o ? { finished: true, failed: o.status === 'failed', changed: o.status === 'changed', result: o.result, msg: o.msg } : { finished: false };
      },
      forgetAsyncJob: (jid) => pc.options.jobs?.forget(jid),
    };
  }

  /** The become password: the host's or task's variable (Ansible's names), else -K's or the file's; a secret. */
  private becomePassword(): string | undefined {
    const { pc, scope } = this;
    for (const name of ['ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass']) {
      if (!(name in this.vars)) continue;
      const value = toPlain(scope.lookup(name));
      if (value === undefined || value === null || value === '') continue;
      pc.masker.add(String(value));
      return String(value);
    }
    return pc.options.becomePassword;
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
      const scope = pc.scope(vars);
      const connVars: Record<string, unknown> = {};
      for (const key of Object.keys(vars)) if (key.startsWith('ansible_') || key.startsWith('kplay_')) connVars[key] = toPlain(scope.lookup(key));
      for (const key of SECRET_VARS) if (connVars[key] !== undefined && connVars[key] !== null) pc.masker.addAll(connVars[key]);
      if (pc.options.verbosity >= 3) pc.reporter.event({ type: 'connection', host: hostName, message: describeConnection(hostName, connVars) });
      return connVars;
    });
  }
}
