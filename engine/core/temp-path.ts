// The one name of a temp file that is written and then renamed over its target: beside it (same file system, so the
// rename is atomic), hidden, and marked as kplay's (`.<name>.kplay-<random>`), so a leftover is easy to recognise.

import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';

export function tempBeside(path: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.kplay-${randomBytes(6).toString('hex')}`);
}
