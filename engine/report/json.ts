// --output json: one JSON object per line (NDJSON), each a RunEvent as it is, masked, with its time and duration
// (engine/report/timing.ts); the recap always last.

import type { Reporter, RunEvent } from '../core/events.ts';
import { redactEvent, type Masker } from '../core/mask.ts';
import { flush, writeLines } from './output.ts';

export class JsonReporter implements Reporter {
  /** Held back to close(), so the recap is the last line whatever comes after it. */
  #recap?: RunEvent;
  /** Lines of this turn of the event loop: written together (one system call, not one per event of every host). */
  #pending: string[] = [];

  constructor(
    private readonly masker: Masker,
    private readonly stream: NodeJS.WritableStream,
  ) {}

  event(event: RunEvent): void {
    if (event.type === 'recap') this.#recap = event;
    else this.#write(event);
  }

  async close(): Promise<void> {
    if (this.#recap) this.#write(this.#recap);
    this.#recap = undefined;
    this.#drain();
    await flush(this.stream);
  }

  #write(event: RunEvent): void {
    // A censored result keeps only its status, host and task; its times are no secret.
    const { time, elapsed, duration } = event;
    if (this.#pending.length === 0) setImmediate(() => this.#drain());
    this.#pending.push(JSON.stringify({ ...redactEvent(event, this.masker), time, elapsed, duration }));
  }

  #drain(): void {
    writeLines(this.stream, this.#pending);
    this.#pending = [];
  }
}
