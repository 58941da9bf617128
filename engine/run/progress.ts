// What the live view can tell of a long task before it ends: a wait_for's deadline, so its row counts down.

import type { ProgressInfo } from '../core/events.ts';

/** The progress known when `module` starts with these (checked) arguments, if any. */
export function startProgress(module: string, args: Record<string, unknown>, check: boolean): ProgressInfo | undefined {
  if (module !== 'wait_for' || check) return undefined; // in --check wait_for does not wait
  const timeout = typeof args.timeout === 'number' ? args.timeout : undefined;
  return timeout === undefined ? undefined : { until: Date.now() + timeout * 1000 };
}
