// async_status: how a task started with `async` and `poll: 0` is doing, by its job id (`ansible_job_id`); when it has
// ended, its result (and its failure, if it failed). `mode: cleanup` forgets the job.

import { ModuleError, defineModule } from './contract.ts';

interface AsyncStatusArgs {
  jid: string;
  mode: 'status' | 'cleanup';
}

export default defineModule<AsyncStatusArgs>({
  name: 'async_status',
  controllerOnly: true,
  spec: {
    args: {
      jid: { type: 'str', required: true, description: 'The job id a task with async and poll: 0 registered (ansible_job_id).' },
      mode: { type: 'str', default: 'status', choices: ['status', 'cleanup'] },
    },
  },
  async plan(args, ctx) {
    const job = ctx.asyncJob?.(args.jid);
    if (!job) throw new ModuleError(`could not find job ${args.jid}`, { ansible_job_id: args.jid, started: 1, finished: 1 });
    const ids = { ansible_job_id: args.jid, started: 1 };
    if (args.mode === 'cleanup') {
      ctx.forgetAsyncJob?.(args.jid);
      return { changed: false, result: { ...ids, erased: args.jid } };
    }
    if (!job.finished) return { changed: false, result: { ...ids, finished: 0 } };
    const result = { ...job.result, ...ids, finished: 1 };
    if (job.failed) throw new ModuleError(job.msg ?? 'the job failed', result);
    return { changed: job.changed, result };
  },
});
