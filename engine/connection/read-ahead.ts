// Read-ahead for far hosts: the stats (and checksums) a host's upcoming tasks will plan against, read together in one
// pipelined batch and kept until anything may have changed them. The runner announces paths (`Connection.prefetch`);
// the connection reads them on the first stat that needs one of them. What a task reads stays what is on the host
// when it plans, as far as this run can know: every command (of any task, handler or become user) drops all of a
// host's cached reads, a write drops that path's, a command or write on the controller (delegate_to localhost may
// touch a host's files through a shared folder) drops every host's. Reads as another user are never cached. Paths
// whose existence alone is asked (`creates`, `removes`) a far host's resident shell checks right after each command,
// in its round trip (resident-shell.ts existenceCheck); kept like a stat, until the next change.

import type { FileStat, ReadAhead } from './connection.ts';

export type { ReadAhead } from './connection.ts';

/** Paths read together at most. */
const BATCH_MAX = 64;
/** Characters of paths checked after one command at most: the resident shell reads its input a byte at a time. */
const EXISTENCE_CHARS_MAX = 2048;

let controllerChanges = 0;

/** The local connection calls this on every command and write: cached reads of every host are dropped. */
export function noteControllerChange(): void {
  controllerChanges++;
}

/** A host's cached reads: lstat results (with sha256 once read) and, for links, the followed stat. */
export class ReadCache {
  private readonly entries = new Map<string, FileStat>();
  /** Announced and not yet read: path → whether its checksum is wanted, whether only its existence is. */
  private readonly announced = new Map<string, { checksum: boolean; existsOnly: boolean }>();
  /** Whether paths exist, as the resident shell found right after the last command (existenceCheck). */
  private readonly existence = new Map<string, boolean>();
  /** Bumped by every invalidation: a batch sent before it must not be stored. */
  private epoch = 0;
  private seenControllerChanges = controllerChanges;

  /** The current epoch, to hand back to `store` with what a batch read. */
  begin(): number {
    this.sync();
    return this.epoch;
  }

  announce(reads: readonly ReadAhead[]): void {
    for (const { path, checksum = false, existsOnly = false } of reads) {
      const known = this.announced.get(path);
      this.announced.set(path, known ? { checksum: known.checksum || checksum, existsOnly: known.existsOnly && existsOnly } : { checksum, existsOnly });
    }
  }

  /** Whether anything is cached (not, right after a command). */
  get empty(): boolean {
    this.sync();
    return this.entries.size === 0;
  }

  /** Paths announced that no task has used and the cache does not hold (read together with a missed one). */
  pending(max = BATCH_MAX): ReadAhead[] {
    const missing: ReadAhead[] = [];
    // The nearest ones (announced first): a batch stays small however long the play.
    for (const [path, { checksum }] of this.announced) {
      if (missing.length >= Math.min(max, BATCH_MAX)) break;
      if (!this.held(path, false, checksum)) missing.push({ path, checksum });
    }
    return missing;
  }

  /** Announced paths whose existence alone is asked, not known now: checked right after a command (existenceCheck). */
  pendingExistence(): string[] {
    this.sync();
    const paths: string[] = [];
    let size = 0;
    for (const [path, { existsOnly }] of this.announced) {
      if (paths.length >= BATCH_MAX || size + path.length > EXISTENCE_CHARS_MAX) break;
      if (!existsOnly || this.entries.has(key(path, false)) || this.existence.has(path)) continue;
      paths.push(path);
      size += path.length;
    }
    return paths;
  }

  /** What existenceCheck found (one of `1`, `0`, `?` per path) right after the command that made the cache empty. */
  storeExistence(paths: readonly string[], found: string): void {
    paths.forEach((path, i) => {
      if (found[i] === '1' || found[i] === '0') this.existence.set(path, found[i] === '1');
    });
  }

  /** Whether `path` exists, if a stat or an existence check since the last change says (undefined: ask the host). */
  exists(path: string): boolean | undefined {
    this.sync();
    const known = this.entries.get(key(path, false))?.exists ?? this.existence.get(path);
    if (known !== undefined) this.announced.delete(path);
    return known;
  }

  lookup(path: string, follow: boolean, checksum: boolean): FileStat | undefined {
    this.sync();
    const stat = this.held(path, follow, checksum);
    // Used: after a command it is not read again ahead of time (a later task naming it reads it itself).
    if (stat) this.announced.delete(path);
    return stat;
  }

  private held(path: string, follow: boolean, checksum: boolean): FileStat | undefined {
    const own = this.entries.get(key(path, false));
    // Not a link: following it changes nothing.
    const stat = follow && own?.type === 'link' ? this.entries.get(key(path, true)) : own;
    if (!stat) return undefined;
    if (checksum && stat.exists && stat.type === 'file' && stat.sha256 === undefined) return undefined;
    return stat;
  }

  /** What a batch sent at `epoch` read; dropped if anything changed since. */
  store(epoch: number, path: string, follow: boolean, stat: FileStat): void {
    this.sync();
    if (epoch === this.epoch) this.entries.set(key(path, follow), stat);
  }

  /** Something may have changed `path` (a write), or anything (a command: no path). */
  invalidate(path?: string): void {
    this.epoch++;
    this.existence.clear();
    if (path === undefined) {
      this.entries.clear();
      return;
    }
    for (const follow of [false, true]) this.entries.delete(key(path, follow));
    // A link elsewhere may point here: followed stats go too.
    for (const k of [...this.entries.keys()]) if (k.endsWith('\0f')) this.entries.delete(k);
  }

  private sync(): void {
    if (this.seenControllerChanges === controllerChanges) return;
    this.seenControllerChanges = controllerChanges;
    this.invalidate();
  }
}

function key(path: string, follow: boolean): string {
  return `${path}\0${follow ? 'f' : 'l'}`;
}
