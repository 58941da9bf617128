// What a run tells the reporters. Every reporter (listr2, plain, json) consumes exactly these.

import type { FileDiff } from './effects.ts';

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface HostCounts {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  rescued: number;
  ignored: number;
}

export interface TaskRef {
  name: string;
  /** The module the task runs (reporters always show a `debug` task's message). */
  module: string;
  /** file:line of the task. */
  file: string;
  line: number;
  handler?: boolean;
}

export type RunEvent =
  | { type: 'start'; playbook: string; check: boolean; diff: boolean }
  | { type: 'play'; name: string; hosts: string[] }
  | { type: 'task'; task: TaskRef; hosts: string[] }
  | { type: 'host_task'; host: string; task: TaskRef }
  | {
      type: 'result';
      host: string;
      task: TaskRef;
      status: TaskStatus;
      msg?: string;
      /** Set for one iteration of a loop. */
      item?: unknown;
      diff?: FileDiff[];
      /** The registered values, shown with -v. */
      result?: Record<string, unknown>;
      ignored?: boolean;
      delegatedTo?: string;
      /** no_log: everything but the status is hidden. */
      censored?: boolean;
    }
  | { type: 'warning'; message: string; host?: string }
  | { type: 'recap'; hosts: Record<string, HostCounts> };

export interface Reporter {
  event(event: RunEvent): void;
  /** Flush and stop (the listr2 renderer needs this). */
  close(): Promise<void>;
}
