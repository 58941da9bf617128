// A file change as a unified diff, as `--diff` shows it.

import { createTwoFilesPatch } from 'diff';
import type { FileDiff } from '../core/effects.ts';
import type { Paint } from './style.ts';

/** The unified diff lines of one file (`--- before: path`, `+++ after: path`, hunks); none when nothing differs. */
export function formatDiff(change: FileDiff, paint: Paint): string[] {
  if (change.prepared !== undefined) return change.prepared.split('\n').filter((line) => line !== '');
  if (change.before === change.after) return [];
  const patch = createTwoFilesPatch(`before: ${change.path}`, `after: ${change.path}`, change.before, change.after);
  // jsdiff opens with a `====` rule; Ansible's diff starts at `---`.
  const lines = patch.split('\n');
  const start = lines.findIndex((line) => line.startsWith('--- '));
  return lines
    .slice(start)
    .filter((line, i, all) => line !== '' || i < all.length - 1)
    .map((line) => {
      if (line.startsWith('+')) return paint('green', line);
      if (line.startsWith('-')) return paint('red', line);
      if (line.startsWith('@@')) return paint('cyan', line);
      return line;
    });
}
