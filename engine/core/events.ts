// What a run tells the reporters. Every reporter (live, plain, json) consumes exactly these.

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

/** When an event happened; stamped by the reporters' front (engine/report/timing.ts) as the runner emits it. */
export interface EventTimes {
  /** ISO 8601 time of the event. */
  time?: string;
  /** Milliseconds since the run started. */
  elapsed?: number;
  /**
   * Milliseconds the reported thing took: a result, its host's time on the task (a loop item, on that item); a
   * recap, the whole run; a task, the previous task of the play (from its start to this one's); 0 for the rest.
   */
  duration?: number;
}

/** What a long task is doing now (bytes of a download, seconds left of a wait), for the live view. */
export interface ProgressInfo {
  /** Bytes done and, when known, in all. */
  bytes?: { done: number; total?: number };
  /** Seconds left before a wait gives up. */
  secondsLeft?: number;
  /** When (epoch ms) a wait gives up: the live view counts down to it. */
  until?: number;
  text?: string;
}

export type RunEvent = (
  | { type: 'start'; playbook: string; check: boolean; diff: boolean }
  /** `tasks`: how many tasks the play's sections hold as loaded (includes and handlers may add to it). */
  | { type: 'play'; name: string; hosts: string[]; tasks?: number }
  | { type: 'task'; task: TaskRef; hosts: string[] }
  | { type: 'host_task'; host: string; task: TaskRef }
  | { type: 'progress'; host: string; task: TaskRef; progress: ProgressInfo }
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
  /** -vvv: how kplay connects to a host, on its first connection. */
  | { type: 'connection'; host: string; message: string }
  /** Bad input found before any host was touched (for --output json; text prints it on stderr). */
  | { type: 'error'; message: string; file?: string; line?: number; col?: number; hint?: string }
  | { type: 'recap'; hosts: Record<string, HostCounts> }
) &
  EventTimes;

export interface Reporter {
  event(event: RunEvent): void;
  /** Flush and stop (the live view closes its area and shows the cursor). */
  close(): Promise<void>;
}
