// What the run knows of one host: its variables by layer, its state in the play, its counts for the recap.

import type { TaskNode } from '../load/model.ts';
import { emptyCounts } from '../core/counts.ts';
import type { HostCounts } from '../core/events.ts';

export class HostState {
  /** Gathered facts (setup): ansible_facts and the ansible_* names. */
  facts: Record<string, unknown> = { ansible_facts: {} }; // defined (empty) before any gathering, as in Ansible
  /** set_fact values and registered results: they outlive the play, as in Ansible. */
  hostFacts: Record<string, unknown> = {};
  failed = false;
  unreachable = false;
  /** end_host / end_play: no more tasks for this host in this play. */
  ended = false;
  /** The run was interrupted while a task ran here: the host did not finish. */
  interrupted = false;
  readonly notified = new Set<TaskNode>();
  readonly counts: HostCounts = emptyCounts();

  constructor(
    readonly name: string,
    readonly inventoryVars: Record<string, unknown>,
  ) {}

  get active(): boolean {
    return !this.failed && !this.unreachable && !this.ended && !this.interrupted;
  }
}
