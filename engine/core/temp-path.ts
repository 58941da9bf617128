// The one name of a temp file that is written and then renamed over its target: beside it (same file system, so the
// rename is atomic), hidden, and marked as kplay's (`.<name>.kplay-<random>`), so a leftover is easy to recognise.
// Also the temp files being written on this machine (the controller) right now: an interrupted run removes them.

import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { posix } from 'node:path';

export function tempBeside(path: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.kplay-${randomBytes(6).toString('hex')}`);
}

/** Whether a file name is one `tempBeside` makes. */
export function isTempName(name: string): boolean {
  return /^\..+\.kplay-[0-9a-f]{12}$/.test(posix.basename(name));
}

const liveLocalTemps = new Set<string>();

/** A controller temp file is being written: removed by `removeLocalTemps` unless the returned `done` is called first. */
export function trackLocalTemp(path: string): () => void {
  liveLocalTemps.add(path);
  return () => liveLocalTemps.delete(path);
}

/** Remove every controller temp file still being written (synchronous: also safe in an exit handler). */
export function removeLocalTemps(): void {
  for (const path of liveLocalTemps) {
    try {
      rmSync(path, { force: true });
    } catch {
      // not ours to remove any more (a folder gone): nothing left to do
    }
  }
  liveLocalTemps.clear();
}
