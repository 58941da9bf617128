// A lab fleet for the length of one part of the bench, stopped afterwards even on Ctrl-C (nothing left behind).

import { startFleet, type Fleet, type FleetOptions } from '../test/lab/fleet.ts';

const running = new Set<Fleet>();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`[bench] ${signal}: stopping ${running.size} fleet(s)\n`);
    void Promise.allSettled([...running].map((fleet) => fleet.stop())).finally(() => process.exit(130));
  });
}

export async function withFleet<T>(options: FleetOptions, use: (fleet: Fleet) => Promise<T>): Promise<T> {
  const fleet = await startFleet(options);
  running.add(fleet);
  try {
    return await use(fleet);
  } finally {
    running.delete(fleet);
    await fleet.stop();
  }
}
