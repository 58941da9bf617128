// Ansible's counting, in one place for the runner (the recap it returns) and the reporters (live progress): `ok`
// counts every task that ran fine, changed or not; an ignored failure is `ignored` and `ok`; a loop counts as its worst item.

import type { HostCounts, TaskStatus } from './events.ts';

export function emptyCounts(): HostCounts {
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, rescued: 0, ignored: 0 };
}

/** Adds (or, with -1, takes back) one task's status; `changed`: what the failed task's result says. */
export function count(counts: HostCounts, status: TaskStatus, ignored: boolean, sign: 1 | -1 = 1, changed = false): void {
  switch (status) {
    case 'changed':
      counts.changed += sign;
      counts.ok += sign;
      break;
    case 'failed':
      // As Ansible's recap: an ignored failure counts as ok too.
      // An ignored failure that changed something (a command that exited 1) counts changed too, as in Ansible.
      if (ignored) {
        counts.ignored += sign;
        counts.ok += sign;
        if (changed) counts.changed += sign;
      } else counts.failed += sign;
      break;
    default:
      counts[status] += sign;
  }
}

/** How bad a status is: a loop is its worst item, and only all skipped is skipped (some skipped, some ok is ok). */
export const STATUS_RANK: Readonly<Record<TaskStatus, number>> = { skipped: 0, ok: 1, changed: 2, failed: 3, unreachable: 4 };

/** The worst of a loop's item statuses; no items at all is ok. */
export function worstStatus(statuses: readonly TaskStatus[]): TaskStatus {
  if (statuses.length === 0) return 'ok';
  return statuses.reduce((worst, s) => (STATUS_RANK[s] > STATUS_RANK[worst] ? s : worst));
}
