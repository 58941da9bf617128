// A `template:` task whose `src` is known at load time: the file must exist and compile, so a missing template or
// an EJS syntax error is reported (at src, or inside the template) before any host is touched.

import { readFileSync } from 'node:fs';
import type { Module } from '../modules/contract.ts';
import { ModuleError } from '../modules/contract.ts';
import type { ModuleRegistry } from '../modules/registry.ts';
import { findFile } from './find-file.ts';
import { checkTemplate } from '../vars/template.ts';
import { isTemplated } from './args.ts';
import type { TaskNode } from './model.ts';
import { InputError } from '../core/source.ts';

export function checkTemplateSource(task: TaskNode, module: Module, registry: ModuleRegistry, playbookDir: string): void {
  const src = task.args.src;
  if (!registry.isBuiltin('template', module) || typeof src !== 'string' || isTemplated(src)) return;
  let path: string;
  try {
    // The same lookup the module does at run time: the role's templates/, then beside the playbook.
    path = findFile(src, 'templates', task, playbookDir);
  } catch (error) {
    if (!(error instanceof ModuleError)) throw error;
    throw new InputError(task.argPos.src?.value ?? task.pos, `template: ${error.message}`);
  }
  checkTemplate(readFileSync(path, 'utf8'), path);
}
