// Which paths a list of tasks will stat on each host, told to the host's connection ahead of time so that a far host
// answers them in one batch of pipelined reads (engine/connection/read-ahead.ts). A hint only: a path that cannot be
// worked out yet (a loop, a variable set by an earlier task, a delegated or become task) is simply not announced, and
// a wrong guess costs a read, never a wrong answer.

import type { Node, TaskNode } from '../load/model.ts';
import type { ReadAhead } from '../connection/read-ahead.ts';
import { renderPlain } from '../vars/language.ts';
import type { PlayContext } from './context.ts';
import type { HostState } from './host.ts';

/** Per module: the arguments (with their aliases) naming a path it stats, whether it compares content or only asks if it exists. */
const STATTED: Record<string, Array<{ args: string[]; checksum: boolean; existsOnly?: boolean }>> = {
  copy: [{ args: ['dest'], checksum: true }],
  template: [{ args: ['dest'], checksum: true }],
  file: [{ args: ['path', 'dest', 'name'], checksum: false }],
  command: [
    { args: ['creates'], checksum: false, existsOnly: true },
    { args: ['removes'], checksum: false, existsOnly: true },
  ],
  shell: [
    { args: ['creates'], checksum: false, existsOnly: true },
    { args: ['removes'], checksum: false, existsOnly: true },
  ],
};
const PREFIXES = ['ansible.builtin.', 'ansible.legacy.', 'kplay.'];
/** Tasks looked at per call: the batch a connection reads stays small (it reads at most 64 paths at once anyway). */
const TASKS_MAX = 64;

/** The plain tasks of a node list, blocks included (not their rescue or always: they run only on failure). */
function plainTasks(nodes: Node[], into: TaskNode[] = []): TaskNode[] {
  for (const node of nodes) {
    if (into.length >= TASKS_MAX) break;
    if (node.kind === 'task') into.push(node);
    else if (node.kind === 'block') plainTasks(node.block, into);
  }
  return into;
}

/** Tell each host's connection what `nodes` will stat there. Never throws: a path it cannot render is left out. */
export function announceReads(pc: PlayContext, nodes: Node[], hosts: HostState[]): void {
  const tasks = plainTasks(nodes).filter(
    (t) => !t.loop && t.scope.delegateTo === undefined && !t.scope.become && STATTED[PREFIXES.reduce((m, p) => m.replace(p, ''), t.module)],
  );
  if (tasks.length === 0) return;
  for (const host of hosts) {
    const reads: ReadAhead[] = [];
    for (const task of tasks) {
      const module = PREFIXES.reduce((m, p) => m.replace(p, ''), task.module);
      if (task.args.chdir !== undefined) continue; // creates/removes relative to it
      for (const { args, checksum, existsOnly } of STATTED[module]) {
        const raw = args.map((a) => task.args[a]).find((v) => v !== undefined);
        if (typeof raw !== 'string') continue;
        try {
          const path = raw.includes('{{') || raw.includes('{%') ? String(renderPlain(raw, pc.scope(pc.varsFor(host, task.scope), task.scope))) : raw;
          if (path.startsWith('/') && !/[*?[]/.test(path)) reads.push({ path, checksum, existsOnly });
        } catch {
          // a variable an earlier task sets: the task reads it itself
        }
      }
    }
    if (reads.length > 0) pc.pool.prefetch(host.name, reads);
  }
}
