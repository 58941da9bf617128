// Dependencies that only some runs need (ini and csv lookups, ipaddr filters, seeded random, node-forge for
// certificates), loaded on first use:
// a run that never calls them does not parse them at start-up. They stay out of the bundle (a require by name at
// run time, from this file's place, finds them in node_modules).

import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** A getter that requires `name` the first time it is called. */
export function lazy<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(name) as T);
}
