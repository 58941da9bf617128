// A run interrupted by SIGINT or SIGTERM: no task starts after it; what was in flight ends as interrupted (not failed),
// and the hosts that did not finish are reported, so `--limit @failed` completes exactly them. Waits on the controller
// (a retry's delay, a loop's pause, the pause module, reboot's waits) end at once: they listen to `signal`.

export class RunInterrupt {
  /** The signal that interrupted the run, once one has. */
  signal: NodeJS.Signals | undefined;
  readonly #abort = new AbortController();

  get interrupted(): boolean {
    return this.signal !== undefined;
  }

  /** Aborted when the run is interrupted. */
  get abortSignal(): AbortSignal {
    return this.#abort.signal;
  }

  stop(signal: NodeJS.Signals): void {
    this.signal = signal;
    this.#abort.abort();
  }
}
