// One task on one host: its variables, loop and retries around each invocation (engine/run/invocation.ts), the plan
// executed (execute-plan.ts), the outcome judged and reported once (outcome.ts), counted, registered and notified.

import { crashMessage } from './crash.ts';
import { startProgress } from './progress.ts';
import { count } from '../core/counts.ts';
import type { ProgressInfo, TaskRef } from '../core/events.ts';
import { displayedPos, displayPath, formatPos, InputError } from '../core/source.ts';
import { InterruptedError, UnreachableError } from '../connection/connection.ts';
import type { TaskNode } from '../load/model.ts';
import { argSpec, noLogArgs } from '../load/args.ts';
import { ModuleError, type ArgSpec, type Module } from '../modules/contract.ts';
import { isUndefinedError, renderPlain } from '../vars/language.ts';
import { markUnsafe, TemplateError } from '../jinja/index.ts';
import { itemResultKeys, itemVars, loopItems, pauseSeconds } from './loop.ts';
import { resolveKeywords } from './keywords.ts';
import type { PlayContext } from './context.ts';
import { executePlan } from './execute-plan.ts';
import { sleepUnless } from '../core/sleep.ts';
import { AsyncJobs } from './async-jobs.ts';
import type { HostState } from './host.ts';
import { conditionsAt, Invocation } from './invocation.ts';
import {
  applyConditions,
  failedOutcome,
  loopOutcome,
  isMap,
  planOutcome,
  registeredResult,
  resultEvent,
  skippedOutcome,
  unreachableOutcome,
  type Outcome,
} from './outcome.ts';

/** A task as reports show it; a name with `{{ }}` is rendered with the given variables when it can be. */
export function taskRef(task: TaskNode, handler = false, vars?: Record<string, unknown>, pc?: PlayContext): TaskRef {
  let name = task.name ?? task.written ?? task.module;
  if (vars && pc && name.includes('{{')) {
    try {
      name = String(renderPlain(name, pc.scope(vars, task.scope)));
    } catch {
      // a name that cannot be rendered (a variable set later) is shown as written
    }
  }
  return { name, module: task.module, file: displayPath(task.pos.file), line: task.pos.line, handler };
}

function errorMessage(error: unknown, task: TaskNode, verbosity = 0): string {
  if (error instanceof InputError) {
    // An error inside a template file names the template; say which task rendered it too.
    if (error.pos && error.pos.file !== displayPath(task.pos.file)) {
      return `${error.message} (task "${task.name ?? task.module}" at ${displayPath(task.pos.file)}:${task.pos.line})`;
    }
    return error.message;
  }
  if (error instanceof TemplateError) {
    // An error inside a template file names the file's own line and column; say which task rendered it too.
    const inFile = /^(\/[^:]+):(\d+):(\d+): ([\s\S]*)$/.exec(error.message);
    if (inFile) {
      return `${displayPath(inFile[1])}:${inFile[2]}:${inFile[3]}: ${inFile[4]} (task "${task.name ?? task.module}" at ${displayPath(task.pos.file)}:${task.pos.line})`;
    }
    return `${formatPos(displayedPos(task.pos))}: task "${task.name ?? task.module}": ${error.message}`;
  }
  return error instanceof Error ? crashMessage(error, verbosity) : String(error);
}

export class TaskExecutor {
  constructor(private readonly pc: PlayContext) {}

  /** Run `task` on `host` and report it. Returns the registered result. */
  async run(written: TaskNode, host: HostState, handler = false): Promise<Record<string, unknown>> {
    const pc = this.pc;
    let task = written;
    let ref = taskRef(task, handler);
    let outcome: Outcome;
    let vars: Record<string, unknown> = {};
    try {
      vars = pc.varsFor(host, task.scope);
      ref = taskRef(task, handler, vars, pc);
      // Keywords written as `{{ }}` (no_log, ignore_errors, retries...) take this host's values.
      task = resolveKeywords(task, pc.scope(vars, task.scope));
      pc.reporter.event({ type: 'host_task', host: host.name, task: ref });
      outcome = task.loop ? await this.runLoop(task, host, vars, ref) : await this.runWithRetries(task, host, vars, {});
    } catch (error) {
      outcome = failedOutcome(errorMessage(error, task, this.pc.options.verbosity));
    }
    // Cut short by an interruption: neither failed nor counted; the host is unfinished (recorded for @failed).
    if (pc.interrupted && (outcome.status === 'failed' || outcome.status === 'unreachable' || outcome.interrupted)) {
      host.interrupted = true;
      pc.reporter.event({ type: 'warning', host: host.name, message: `task "${ref.name}" interrupted` });
      return outcome.result;
    }
    const ignored = outcome.status === 'failed' && task.scope.ignoreErrors === true;
    // A loop reported each item already; its one event is needed only when it never got to its items.
    if (!task.loop || !Array.isArray(outcome.result.results) || outcome.result.results.length === 0) this.report(host, ref, task, outcome);
    count(host.counts, outcome.status, ignored, 1, outcome.result.changed === true);
    if (outcome.status === 'failed' && !ignored) host.failed = true;
    if (outcome.status === 'unreachable' && task.scope.ignoreUnreachable !== true) host.unreachable = true;
    // What a host returned is data, never code: its strings are never rendered as templates (Ansible's unsafe).
    const registered = registeredResult(outcome);
    if (task.register) host.hostFacts[task.register] = markUnsafe(registered);
    if (outcome.status === 'changed') this.notify(task, host, vars);
    return registered;
  }

  private report(host: HostState, ref: TaskRef, task: TaskNode, outcome: Outcome, item?: { label: unknown }): void {
    const ignored = outcome.status === 'failed' && task.scope.ignoreErrors === true;
    // What a no_log task returned stays secret wherever it is printed later (a debug of its registered result).
    if (task.scope.noLog) this.pc.masker.addOutput(outcome.result);
    this.pc.reporter.event(resultEvent(host.name, ref, outcome, ignored, task.scope.noLog === true, item));
  }

  private notify(task: TaskNode, host: HostState, vars: Record<string, unknown>): void {
    if (task.notify.length === 0) return;
    const scope = this.pc.scope(vars, task.scope);
    for (const raw of task.notify) {
      const name = String(renderPlain(raw, scope));
      const handlers = this.pc.handlers.filter((h) => h.name === name || h.listen.includes(name));
      if (handlers.length === 0) {
        this.pc.reporter.event({ type: 'warning', host: host.name, message: `notify: no handler named "${name}"` });
      }
      for (const h of handlers) host.notified.add(h);
    }
  }

  private async runLoop(task: TaskNode, host: HostState, vars: Record<string, unknown>, ref: TaskRef): Promise<Outcome> {
    const loop = task.loop!;
    const scope = this.pc.scope(vars, task.scope);
    // Items keep their unsafe marks: an item from a host's output is never rendered later.
    let items: unknown[];
    try {
      items = loopItems(loop, scope);
    } catch (error) {
      // As ansible-core 2.14: an undefined loop keeps its error, `when` is evaluated without the item, and a false
      // `when` skips the task (one that fails or holds raises the loop's error).
      if (isUndefinedError(error) && task.scope.when.length > 0) {
        let holds = true;
        try {
          holds = conditionsAt(task, task.scope.when, scope);
        } catch {
          throw error;
        }
        if (!holds) return skippedOutcome('Conditional result was False');
      }
      throw error;
    }
    // Ansible: a loop with no items is skipped, with an empty `results`.
    if (items.length === 0) return { status: 'skipped', result: { skipped: true, changed: false, skipped_reason: 'No items in the list', results: [] } };
    const pause = items.length > 1 ? pauseSeconds(loop, scope) : 0;
    const outcomes: Outcome[] = [];
    const results: Record<string, unknown>[] = [];
    for (let i = 0; i < items.length; i++) {
      if (i > 0 && pause > 0) await sleepUnless(pause * 1000, this.pc.options.interrupt?.abortSignal);
      // No item starts after an interruption, as no task does.
      if (i > 0 && this.pc.interrupted) return { ...loopOutcome(outcomes, results), interrupted: true };
      const each = itemVars(loop, items, i, scope);
      let outcome: Outcome;
      try {
        outcome = await this.runWithRetries(task, host, vars, each);
      } catch (error) {
        outcome = failedOutcome(errorMessage(error, task, this.pc.options.verbosity));
      }
      if (this.pc.interrupted && outcome.status !== 'ok' && outcome.status !== 'changed' && outcome.status !== 'skipped') {
        return { ...outcome, interrupted: true };
      }
      const label = loop.label !== undefined ? renderPlain(loop.label, this.pc.scope({ ...vars, ...each }, task.scope)) : items[i];
      results.push({ ...outcome.result, ...itemResultKeys(loop, items[i], each) });
      outcomes.push(outcome);
      this.report(host, ref, task, outcome, { label });
      if (outcome.status === 'unreachable') break;
    }
    return loopOutcome(outcomes, results);
  }

  private async runWithRetries(task: TaskNode, host: HostState, vars: Record<string, unknown>, itemVars: Record<string, unknown>): Promise<Outcome> {
    const attempts = task.until ? (task.retries ?? 3) + 1 : 1;
    let outcome: Outcome = { status: 'skipped', result: {} };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      outcome = await this.runOnce(new Invocation(this.pc, task, host, vars, itemVars));
      if (!task.until || outcome.status === 'skipped' || outcome.status === 'unreachable') return outcome;
      const bound = task.register ? { [task.register]: markUnsafe(registeredResult(outcome)) } : {};
      if (conditionsAt(task, task.until, this.pc.scope({ ...vars, ...itemVars, ...bound }, task.scope))) {
        outcome.result.attempts = attempt;
        return outcome;
      }
      if (this.pc.interrupted) return { ...outcome, interrupted: true };
      if (attempt < attempts && !(await sleepUnless((task.delay ?? 5) * 1000, this.pc.options.interrupt?.abortSignal))) return { ...outcome, interrupted: true };
    }
    // Ansible 2.14 makes retries + 1 attempts and reports `attempts: retries` when they run out.
    outcome.result.attempts = attempts - 1;
    return { ...outcome, status: 'failed', msg: `retry limit reached (${attempts} attempts)`, result: { ...outcome.result, failed: true, msg: 'Retry limit reached' } };
  }

  private async runOnce(inv: Invocation): Promise<Outcome> {
    if (!inv.whenHolds()) return skippedOutcome('Conditional result was False');
    const { task } = inv;
    if (!task.async) return this.runModule(inv);
    const jobs = (this.pc.options.jobs ??= new AsyncJobs());
    // async + poll 0: started, and the play goes on; async_status reads it by its id.
    if (task.poll === 0) {
      const jid = jobs.start(inv.host.name, () => this.runModule(inv));
      return { status: 'changed', result: { ansible_job_id: jid, started: 1, finished: 0, changed: true } };
    }
    // async + poll: wait for it, at most `async` seconds (kplay sees the end at once, not at the next poll).
    const jid = jobs.start(inv.host.name, () => this.runModule(inv));
    const job = jobs.get(jid, inv.host.name)!;
    const ended = await Promise.race([job.done.then(() => true), sleepUnless(task.async * 1000, this.pc.options.interrupt?.abortSignal).then(() => false)]);
    // A job that ran out of time stays in the table: the run waits for it before its connections close.
    if (ended) jobs.forget(jid);
    if (!ended || !job.outcome) {
      const msg = `async task did not complete within the requested time - ${task.async}s`;
      return { ...failedOutcome(msg, { async_result: { ansible_job_id: jid, started: 1, finished: 0 }, changed: false }), interrupted: this.pc.interrupted };
    }
    return { ...job.outcome, result: { ...job.outcome.result, ansible_job_id: jid, started: 1, finished: 1 } };
  }

  private async runModule(inv: Invocation): Promise<Outcome> {
    const { pc, task, host } = { pc: this.pc, task: inv.task, host: inv.host };
    const module = pc.registry.get(task.module) as Module;
    let outcome: Outcome;
    try {
      // A module's progress (get_url's bytes) goes to the live view as the task's.
      const context = async () => ({ ...(await inv.context(module)), progress: (progress: ProgressInfo) => pc.reporter.event({ type: 'progress', host: host.name, task: taskRef(task), progress }) });
      const rendered = inv.renderArgs();
      this.maskArgs(module, task, rendered);
      const executed = await executePlan(module, rendered, context, {
        check: inv.check,
        argPos: inv.argPos,
        onArgs: (args) => {
          this.maskArgs(module, task, args);
          const progress = startProgress(module.name, args, inv.check);
          if (progress) pc.reporter.event({ type: 'progress', host: host.name, task: taskRef(task), progress });
        },
      });
      if (executed.unpredictable) return skippedOutcome('', executed.unpredictable);
      const { plan } = executed;
      for (const message of plan.warnings ?? []) pc.reporter.event({ type: 'warning', host: host.name, message });
      for (const secret of plan.secrets ?? []) pc.masker.add(secret);
      // The module found nothing to do by its own rule (unarchive's `creates`): skipped, as Ansible reports it.
      if (plan.skipped) return { status: 'skipped', result: { ...plan.result, skipped: true, changed: false, msg: plan.skipped }, msg: plan.skipped };
      if (plan.facts) {
        // Facts from a host are unsafe; set_fact's and include_vars' values are the playbook's own text, unsafe only
        // where they hold host data.
        const own = pc.registry.isBuiltin('set_fact', module) || pc.registry.isBuiltin('include_vars', module);
        addFacts(host, plan.facts, (key, value) => (!own || inv.unsafeArgs.has(key) ? markUnsafe(value) : value));
      }
      outcome = planOutcome(executed);
    } catch (error) {
      if (error instanceof InterruptedError) return { ...unreachableOutcome(error.message), interrupted: true };
      if (error instanceof UnreachableError) return unreachableOutcome(error.message);
      if (!(error instanceof ModuleError)) throw error;
      outcome = failedOutcome(error.message, error.result);
    }
    const judged = applyConditions(task, outcome, inv.vars, (conditions, vars) => conditionsAt(task, conditions, pc.scope(vars, task.scope)));
    const showDiff = (task.scope.diff ?? pc.options.diff) && judged.result.changed === true;
    return { ...judged, diff: showDiff ? judged.diff : undefined };
  }

  /**
   * Secret arguments are masked in everything reported: the module's noLog ones, and under no_log every argument that
   * may hold a secret. Called with the arguments as given (by name or alias, before their checks, whose messages may
   * quote a value) and again as checked.
   */
  private maskArgs(module: Module, task: TaskNode, args: Record<string, unknown>): void {
    if (!task.scope.noLog && noLogArgs(module).length === 0) return;
    for (const [key, value] of Object.entries(args)) {
      const spec = argSpec(module, key);
      if (spec?.noLog) this.pc.masker.addAll(value, 3);
      else if (task.scope.noLog && mayHoldSecret(spec)) this.pc.masker.addAll(value, 4);
    }
  }
}

/**
 * Whether a no_log task's argument is masked in everything reported: not a mode, number, boolean, choice or path.
 * Those hold no secret, and masking their values everywhere hid every `0600` (modes, timings) and the task's paths
 * in the rest of the run. Arguments the module does not know (free-form modules) count as secret.
 */
function mayHoldSecret(spec: ArgSpec | undefined): boolean {
  if (!spec) return true;
  return !spec.choices && (spec.type === 'str' || spec.type === 'raw' || spec.type === 'list' || spec.type === 'dict');
}

/**
 * Facts a module found on the host (setup, getent, service_facts, hostname) carry an `ansible_facts` map: they join
 * the gathered facts, merged into what is there (as Ansible does). Others (set_fact, include_vars) are host variables.
 */
function addFacts(host: HostState, facts: Record<string, unknown>, mark: (key: string, value: unknown) => unknown): void {
  const marked = Object.fromEntries(Object.entries(facts).map(([k, v]) => [k, mark(k, v)]));
  const found = marked.ansible_facts;
  if (!isMap(found)) {
    Object.assign(host.hostFacts, marked);
    return;
  }
  const before = host.facts.ansible_facts;
  Object.assign(host.facts, marked, { ansible_facts: { ...(isMap(before) ? before : {}), ...found } });
}
