// A lab fleet for the length of one part of the bench, stopped afterwards even on Ctrl-C (nothing left behind).

import { cleanupStale, startFleet, type FleetOptions, type Fleet } from '../test/lab/fleet.ts';

/**
 * Where the tools write on a bench host (the workload's /srv, home folders with Ansible's temp files, /tmp): in memory,
 * so a run measures the tools and not this machine's journal-less root file system (see FleetOptions.tmpfs).
 */
const IN_MEMORY = ['/srv', '/root', '/tmp'];

/** Names of the fleets starting or up: a 1000-host fleet takes minutes to start, and Ctrl-C may come meanwhile. */
const running = new Set<string>();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`[bench] ${signal}: stopping ${running.size} fleet(s)\n`);
    void Promise.allSettled([...running].map((name) => cleanupStale(name))).finally(() => process.exit(130));
  });
}

export async function withFleet<T>(options: FleetOptions, use: (fleet: Fleet) => Promise<T>): Promise<T> {
  const name = options.name ?? 'fleet';
  running.add(name);
  try {
    const fleet = await startFleet({ tmpfs: IN_MEMORY, ...options });
    try {
      return await use(fleet);
    } finally {
      await fleet.stop();
    }
  } finally {
    running.delete(name);
  }
}
