// What one play gathers while it loads: the role instances it has (a role runs once per play with the same
// parameters) and the handlers its roles bring. A fresh one per play, or per dynamic include at run time (seeded with
// the roles the play already has), passed down explicitly: no loader keeps per-play state.

import type { RoleInstance, TaskNode } from './model.ts';

export class PlayParts {
  /** Role loads already done: path, parameters and tasks_from. */
  readonly keys = new Set<string>();
  readonly roles: RoleInstance[];
  readonly handlers: TaskNode[] = [];
  private readonly known: number;

  constructor(known: readonly RoleInstance[] = []) {
    this.roles = [...known];
    this.known = known.length;
  }

  /** The roles added since this was made (not the ones it was seeded with). */
  newRoles(): RoleInstance[] {
    return this.roles.slice(this.known);
  }
}
