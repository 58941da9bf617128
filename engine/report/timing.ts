// Stamps every event with its time as the runner emits it: `time`, `elapsed` since the run started, and `duration`
// (a result: its host's time on the task or loop item; a task: the previous task of the play; the recap: the run).

import type { Reporter, RunEvent } from '../core/events.ts';

export class Stamper {
  #start = Date.now();
  /** When each host started what its next result reports (a task, or the previous loop item's end). */
  readonly #hostSince = new Map<string, number>();
  #taskStart?: number;
  /** The ISO time of the last millisecond stamped: with many hosts, many events share one (toISOString costs). */
  #iso = { at: NaN, text: '' };

  constructor(private readonly now: () => number = Date.now) {}

  stamp(event: RunEvent): RunEvent {
    const now = this.now();
    let duration = 0;
    switch (event.type) {
      case 'start':
        this.#start = now;
        break;
      case 'play':
        this.#taskStart = undefined;
        break;
      case 'task':
        duration = this.#taskStart === undefined ? 0 : now - this.#taskStart;
        this.#taskStart = now;
        break;
      case 'host_task':
        this.#hostSince.set(event.host, now);
        break;
      case 'result':
        duration = now - (this.#hostSince.get(event.host) ?? now);
        if (event.item !== undefined) this.#hostSince.set(event.host, now);
        break;
      case 'recap':
        duration = now - this.#start;
        break;
      default:
        break;
    }
    if (this.#iso.at !== now) this.#iso = { at: now, text: new Date(now).toISOString() };
    return { ...event, time: this.#iso.text, elapsed: now - this.#start, duration };
  }
}

/** A reporter that stamps events before handing them on. */
export class TimedReporter implements Reporter {
  readonly #stamper = new Stamper();

  constructor(private readonly inner: Reporter) {}

  event(event: RunEvent): void {
    this.inner.event(this.#stamper.stamp(event));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** `1.2s`, `42s`, `3m05s`, `1h02m`: short enough for a live row. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
