// Task keywords written as `{{ }}` (become, no_log, ignore_errors, run_once, retries, delay, throttle, timeout...):
// rendered with a host's variables when the task runs, giving a task whose keywords are plain values, as Ansible
// templates a task's fields before it runs it. Their syntax was checked when the playbook loaded.

import { InputError } from '../core/source.ts';
import type { Inherited, TaskNode, Templated } from '../load/model.ts';
import { toPlain, type Scope } from '../jinja/index.ts';
import { renderPlain } from '../vars/language.ts';
import { at } from './invocation.ts';

function flag(task: TaskNode, t: Templated, scope: Scope): boolean {
  const v = toPlain(at(task, t.pos, () => renderPlain(t.expr, scope)));
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  // Ansible's boolean(): these strings and nothing else.
  if (typeof v === 'string' && /^(yes|on|1|true|y|t)$/i.test(v.trim())) return true;
  if (typeof v === 'string' && /^(no|off|0|false|n|f|)$/i.test(v.trim())) return false;
  if (v === null || v === undefined) return false;
  throw new InputError(t.pos, `"${t.key}" takes true or false, got ${JSON.stringify(v)}`);
}

function whole(task: TaskNode, t: Templated, scope: Scope): number {
  const v = toPlain(at(task, t.pos, () => renderPlain(t.expr, scope)));
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new InputError(t.pos, `"${t.key}" takes a whole number, got ${JSON.stringify(v)}`);
  return n;
}

/** Whether a task has keywords to render before it runs. */
export function hasTemplatedKeywords(task: TaskNode): boolean {
  return task.scope.templated !== undefined || task.templatedNumbers !== undefined;
}

/** The task with its templated keywords rendered over `scope` (the same task when it has none). */
export function resolveKeywords(task: TaskNode, scope: Scope): TaskNode {
  if (!hasTemplatedKeywords(task)) return task;
  const inherited: Inherited = { ...task.scope };
  for (const [field, t] of Object.entries(task.scope.templated ?? {})) {
    if (t) inherited[field as keyof NonNullable<Inherited['templated']>] = flag(task, t, scope);
  }
  delete inherited.templated;
  const resolved: TaskNode = { ...task, scope: inherited };
  for (const [field, t] of Object.entries(task.templatedNumbers ?? {})) {
    if (t) resolved[field as keyof NonNullable<TaskNode['templatedNumbers']>] = whole(task, t, scope);
  }
  if (task.templatedNumbers?.retries === undefined && task.until && resolved.retries === undefined) resolved.retries = 3;
  delete resolved.templatedNumbers;
  return resolved;
}
