// Replays a scripted run into a reporter on this process's stdout, paced like a real run: the live reporter under
// a real pseudo-terminal is tested by running this in tmux. Usage: replay.ts [hosts] (a fleet of that many hosts).

import { setTimeout as sleep } from 'node:timers/promises';
import { createReporter } from '../../engine/report/create.ts';
import { fleetRun, scriptedRun, secrets } from './scripted-run.ts';

const hosts = Number(process.argv[2] ?? 0);
const reporter = await createReporter({
  output: 'text',
  tty: process.stdout.isTTY === true,
  color: process.stdout.isTTY === true,
  verbosity: 0,
  diff: true,
  secrets: secrets(),
});
for (const event of hosts ? fleetRun(hosts) : scriptedRun()) {
  reporter.event(event);
  await sleep(Number(process.env.REPLAY_DELAY ?? (hosts ? 2 : 15)));
}
await reporter.close();
