// One module call, the same for a real run and --check: arguments coerced from the module's spec, plan(), what the
// plan leaves kept for the later tasks of a --check run (the connection overlay), then apply() unless checking.
// The task executor and the module tests' helper (test/modules/context.ts) both call this one function.

import type { SourcePos } from '../core/source.ts';
import { recordEffects } from '../connection/planned.ts';
import { checkArgs } from '../load/args.ts';
import type { Module, ModuleContext, Plan } from '../modules/contract.ts';

export interface Executed {
  plan: Plan;
  /** What apply() returned (undefined when it did not run or returned nothing). */
  applied?: Record<string, unknown>;
  /** --check, and the plan cannot say what the task would do: the task is reported skipped with this reason. */
  unpredictable?: string;
}

export interface ExecuteOptions {
  check: boolean;
  /** Where an argument was written, for messages (undefined: the task's own line). */
  argPos?: (key?: string, which?: 'key' | 'value') => SourcePos | undefined;
  /** Sees the coerced arguments before plan() (the runner masks secret ones). */
  onArgs?: (args: Record<string, unknown>) => void;
}

/** `context` may be made only once the arguments are known good (the runner connects to the host there). */
export async function executePlan(
  module: Module,
  rawArgs: Record<string, unknown>,
  context: ModuleContext | (() => Promise<ModuleContext>),
  options: ExecuteOptions,
): Promise<Executed> {
  const args = checkArgs(module, rawArgs, options.argPos ?? (() => undefined), 'run');
  options.onArgs?.(args);
  const ctx = typeof context === 'function' ? await context() : context;
  const plan = await module.plan(args, ctx);
  if (plan.unpredictable && options.check) return { plan, unpredictable: plan.unpredictable };
  const apply = !options.check && plan.apply !== undefined && (plan.changed || plan.applyUnchanged === true);
  const applied = apply ? ((await plan.apply!()) ?? undefined) : undefined;
  recordEffects(ctx.conn, plan.effects);
  if (module.controllerOnly !== true) recordEffects(ctx.controller, plan.effects);
  return { plan, applied };
}
