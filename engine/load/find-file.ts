// Where a `src:` is looked for, as Ansible does: the role's files/ or templates/, then beside the playbook.

import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ModuleError } from '../modules/contract.ts';
import type { TaskNode } from './model.ts';

/** `planned`: in --check, whether an earlier task of the run would create the file on the controller. */
export function findFile(
  name: string,
  kind: 'files' | 'templates' | 'vars',
  task: TaskNode,
  playbookDir: string,
  planned: (path: string) => boolean = () => false,
): string {
  const exists = (path: string): boolean => existsSync(path) || planned(path);
  if (isAbsolute(name)) {
    if (exists(name)) return name;
    throw new ModuleError(`could not find ${name}`);
  }
  const role = task.scope.role;
  const dirs = [
    ...(role ? [join(role.path, kind), role.path] : []),
    join(playbookDir, kind),
    playbookDir,
  ];
  for (const dir of dirs) {
    const candidate = resolve(dir, name);
    if (exists(candidate)) return candidate;
  }
  throw new ModuleError(`could not find "${name}" (looked in ${dirs.join(', ')})`);
}
