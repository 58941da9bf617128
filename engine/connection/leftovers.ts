// Temp files a broken connection could not remove from its host (an sftp write cut short leaves its temp file):
// recorded on the controller, one file per `user@address:port`, and removed by the next connection to that host.
// Kept on the controller rather than found on the host: finding them there would mean listing every folder written.

import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Leftover {
  path: string;
  /** The user the file was written as, through sudo (undefined: the login user). */
  become?: string;
}

/** $KPLAY_STATE_DIR, else $XDG_STATE_HOME/kplay, else ~/.local/state/kplay. */
function stateDir(): string {
  if (process.env.KPLAY_STATE_DIR) return process.env.KPLAY_STATE_DIR;
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'kplay');
}

const fileOf = (key: string) => join(stateDir(), 'leftovers', key.replace(/[^A-Za-z0-9@.:_-]/g, '_'));

/** Note temp files left on a host; never fails the run (at worst a file stays, as before). */
export function recordLeftovers(key: string, leftovers: Leftover[]): void {
  if (leftovers.length === 0) return;
  try {
    mkdirSync(join(stateDir(), 'leftovers'), { recursive: true, mode: 0o700 });
    appendFileSync(fileOf(key), leftovers.map((l) => `${JSON.stringify(l)}\n`).join(''), { mode: 0o600 });
  } catch {
    // an unwritable state folder: the leftover cannot be remembered
  }
}

/** The temp files recorded for a host, taken out of the record (put back with `recordLeftovers` if not removed). */
export function takeLeftovers(key: string): Leftover[] {
  const file = fileOf(key);
  const taken = `${file}.${process.pid}`;
  try {
    renameSync(file, taken); // two runs at once: only one takes them
  } catch {
    return [];
  }
  try {
    return readFileSync(taken, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        try {
          const l = JSON.parse(line) as Leftover;
          return typeof l.path === 'string' ? [l] : [];
        } catch {
          return [];
        }
      });
  } finally {
    rmSync(taken, { force: true });
  }
}
