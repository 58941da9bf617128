// Tasks with `async` and `poll: 0`: started, then left to run while the play goes on; `async_status` reads them by
// job id. kplay's modules are driven from the controller, so a job is a task running in this process (not a
// process left on the host, as Ansible's async_wrapper is): the run waits for unfinished jobs before it ends.

import { randomInt } from 'node:crypto';
import { failedOutcome, type Outcome } from './outcome.ts';

export interface AsyncJob {
  jid: string;
  host: string;
  /** Set once the task has ended. */
  outcome?: Outcome;
  readonly done: Promise<void>;
}

export class AsyncJobs {
  readonly #jobs = new Map<string, AsyncJob>();

  /** Start `run` as a job of `host`; its id, in Ansible's shape (`j` + 12 digits + `.` + pid). */
  start(host: string, run: () => Promise<Outcome>): string {
    const jid = `j${String(randomInt(1e11, 1e12 - 1))}.${process.pid}`;
    const job: AsyncJob = {
      jid,
      host,
      done: run().then(
        (outcome) => void (job.outcome = outcome),
        (error: unknown) => void (job.outcome = failedOutcome(error instanceof Error ? error.message : String(error))),
      ),
    };
    this.#jobs.set(jid, job);
    return jid;
  }

  /** The job of `host` with this id (a job id of another host is not found, as on Ansible's hosts). */
  get(jid: string, host: string): AsyncJob | undefined {
    const job = this.#jobs.get(jid);
    return job?.host === host ? job : undefined;
  }

  /** async_status mode=cleanup: forget it. */
  forget(jid: string): void {
    this.#jobs.delete(jid);
  }

  /** Wait for every job still running. */
  async settle(): Promise<void> {
    await Promise.all([...this.#jobs.values()].map((j) => j.done));
  }
}
