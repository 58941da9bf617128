// What a task's run came to on one host: its status, the registered result, message and diff; changed_when and
// failed_when applied to it (once, for a plan and for a module's failure alike), a loop's items folded into one, and
// the result event reporters get.

import { worstStatus } from '../core/counts.ts';
import type { FileDiff } from '../core/effects.ts';
import type { RunEvent, TaskRef, TaskStatus } from '../core/events.ts';
import type { Condition, TaskNode } from '../load/model.ts';
import type { Executed } from './execute-plan.ts';
import { markUnsafe } from '../jinja/index.ts';

export interface Outcome {
  status: TaskStatus;
  result: Record<string, unknown>;
  msg?: string;
  diff?: FileDiff[];
  /** Cut short by an interruption of the run (not the host's failure). */
  interrupted?: boolean;
}

/** Decides whether conditions hold over the given variables (errors reported at each condition's line). */
export type Judge = (conditions: readonly Condition[], vars: Record<string, unknown>) => boolean;

export const skippedOutcome = (reason: string, msg?: string): Outcome => ({
  status: 'skipped',
  result: { skipped: true, changed: false, ...(msg ? { msg } : { skip_reason: reason }) },
  msg,
});

export const failedOutcome = (msg: string, result: Record<string, unknown> = {}): Outcome => ({ status: 'failed', result: { ...result, failed: true, msg }, msg });

export const unreachableOutcome = (msg: string): Outcome => ({ status: 'unreachable', result: { unreachable: true, msg }, msg });

/**
 * The result as `register` keeps it: Ansible's registered results say `failed: false` when they did not fail (a
 * loop's items too, and the loop says `skipped: false`); a skipped result has neither.
 */
export function registeredResult(outcome: Outcome): Record<string, unknown> {
  const result = outcome.result;
  if (outcome.status === 'skipped' || result.skipped === true) return result;
  if (Array.isArray(result.results)) {
    const items = (result.results as unknown[]).map((item) =>
      item !== null && typeof item === 'object' && !('failed' in item) && (item as Record<string, unknown>).skipped !== true ? { ...item, failed: false } : item,
    );
    return { ...result, results: items, skipped: result.skipped ?? false };
  }
  return 'failed' in result ? result : { ...result, failed: false };
}

/** The outcome before changed_when/failed_when: from an executed plan, or from the module's own failure. */
export function planOutcome({ plan, applied }: Executed): Outcome {
  const result: Record<string, unknown> = { changed: plan.changed, ...(plan.msg ? { msg: plan.msg } : {}), ...plan.result, ...(applied ?? {}) };
  if (plan.facts) result.ansible_facts = isMap(plan.facts.ansible_facts) ? plan.facts.ansible_facts : plan.facts;
  // apply() may find it changed nothing after all (uri without dest): its word wins.
  const changed = typeof applied?.changed === 'boolean' ? applied.changed : plan.changed;
  result.changed = changed;
  return { status: changed ? 'changed' : 'ok', result, msg: plan.msg, diff: plan.diff };
}

/**
 * changed_when and failed_when over the task's variables plus the result (also under its `register` name). A module's
 * failure stands when failed_when holds (or there is none); when it does not, the task is ok or changed.
 */
export function applyConditions(task: TaskNode, outcome: Outcome, vars: Record<string, unknown>, holds: Judge): Outcome {
  if (!task.changedWhen && !task.failedWhen) return outcome;
  const moduleFailed = outcome.status === 'failed';
  // The result is the host's data: unsafe, under its register name and as bare names (rc, stdout...).
  const result = markUnsafe(outcome.result);
  const bare = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, markUnsafe(v)]));
  const bound = { ...vars, ...(task.register ? { [task.register]: result } : {}), ...bare };
  const failed = task.failedWhen ? holds(task.failedWhen, bound) : moduleFailed;
  // A failure stands; changed_when still says whether it changed (Ansible evaluates it on a failed result too).
  if (moduleFailed && failed) return task.changedWhen ? { ...outcome, result: { ...outcome.result, changed: holds(task.changedWhen, bound) } } : outcome;
  const changedBefore = moduleFailed ? outcome.result.changed === true : outcome.status === 'changed';
  const changed = task.changedWhen ? holds(task.changedWhen, bound) : changedBefore;
  const judged: Record<string, unknown> = { ...outcome.result, changed };
  if (failed) judged.failed = true;
  else if (moduleFailed) judged.failed = false;
  const status: TaskStatus = failed ? 'failed' : changed ? 'changed' : 'ok';
  const msg = failed ? String(judged.msg ?? 'failed_when condition is true') : moduleFailed ? undefined : outcome.msg;
  return { status, result: judged, msg, diff: moduleFailed ? undefined : outcome.diff };
}

/** A loop's outcome: its worst item (all skipped is skipped), every item's result under `results`. */
export function loopOutcome(items: readonly Outcome[], results: Record<string, unknown>[]): Outcome {
  const status = worstStatus(items.map((o) => o.status));
  const diffs = items.flatMap((o) => o.diff ?? []);
  const result: Record<string, unknown> = { changed: status === 'changed', results, msg: 'All items completed' };
  if (status === 'failed') {
    result.failed = true;
    result.msg = 'One or more items failed';
  }
  if (status === 'skipped') result.skipped = true;
  return { status, result, msg: status === 'failed' ? String(result.msg) : undefined, diff: diffs.length ? diffs : undefined };
}

/** The result event of a task (or of one loop item): nothing of it shown under no_log. */
export function resultEvent(host: string, task: TaskRef, outcome: Outcome, ignored: boolean, noLog: boolean, item?: { label: unknown }): RunEvent {
  return {
    type: 'result',
    host,
    task,
    status: outcome.status,
    ...(item ? { item: noLog ? undefined : item.label } : {}),
    msg: noLog ? undefined : outcome.msg,
    diff: noLog ? undefined : outcome.diff,
    result: noLog ? undefined : outcome.result,
    ignored: ignored || undefined,
    censored: noLog || undefined,
  };
}

export function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
