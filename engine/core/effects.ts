// What a task does to files: the diff shown with --diff and the state a plan leaves behind for the --check overlay.

/** One file's change, shown with --diff. Text only; secret content is never put here. */
export interface FileDiff {
  path: string;
  before: string;
  after: string;
  /** Text shown as it is instead of a before/after diff (Ansible's `prepared`, e.g. apt's plan of packages). */
  prepared?: string;
}

/** What a plan would leave at a path: later tasks of a --check run plan against it. */
export type FileEffect =
  | {
      path: string;
      state: 'file';
      content?: Buffer;
      /** The content is that of this other path on the same host (a copy with remote_src), read only if asked. */
      from?: string;
      /** Without `content` or `from`: the content's sha256 and size when known (a large file, streamed). */
      sha256?: string;
      size?: number;
      mode?: number;
      owner?: string;
      group?: string;
    }
  | { path: string; state: 'directory'; mode?: number; owner?: string; group?: string }
  | { path: string; state: 'link'; target: string }
  | { path: string; state: 'absent' }
  /** Not a file's state: whatever reads the files planned so far has re-read them (systemd's daemon-reload). */
  | { path: string; state: 'reloaded' };

/** An effect that is a path's state (all but `reloaded`). */
export type PathEffect = Exclude<FileEffect, { state: 'reloaded' }>;
