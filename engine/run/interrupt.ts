// A run interrupted by SIGINT or SIGTERM: no task starts after it; what was in flight ends as interrupted (not failed),
// and the hosts that did not finish are reported, so `--limit @failed` completes exactly them.

export class RunInterrupt {
  /** The signal that interrupted the run, once one has. */
  signal: NodeJS.Signals | undefined;

  get interrupted(): boolean {
    return this.signal !== undefined;
  }
}
