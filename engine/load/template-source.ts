// A `template:` task (or kubectl_apply's `template:`) whose file is known at load time: the file must exist and
// parse, so a missing template, a Jinja (or EJS) syntax error or an unknown filter is reported (at src, or inside the
// template at its own line and column) before any host is touched.

import { readFileSync } from 'node:fs';
import type { Module } from '../modules/contract.ts';
import { ModuleError } from '../modules/contract.ts';
import type { ModuleRegistry } from '../modules/registry.ts';
import { findFile } from './find-file.ts';
import { checkTemplate } from '../vars/template.ts';
import { language } from '../vars/language.ts';
import { isTemplated } from './args.ts';
import type { TaskNode } from './model.ts';
import { displayPath, InputError } from '../core/source.ts';
import { decodeKeepingBytes } from '../core/raw-text.ts';

export function checkTemplateSource(task: TaskNode, module: Module, registry: ModuleRegistry, playbookDir: string): void {
  const key = registry.isBuiltin('template', module) ? 'src' : registry.isBuiltin('kubectl_apply', module) ? 'template' : undefined;
  const src = key === undefined ? undefined : task.args[key];
  if (key === undefined || typeof src !== 'string' || isTemplated(src)) return;
  let path: string;
  try {
    // The same lookup the module does at run time: the role's templates/, then beside the playbook.
    path = findFile(src, 'templates', task, playbookDir);
  } catch (error) {
    if (!(error instanceof ModuleError)) throw error;
    throw new InputError(task.argPos[key]?.value ?? task.pos, `${task.module}: ${error.message}`);
  }
  const { text } = decodeKeepingBytes(readFileSync(path)); // as the module reads it
  if (path.endsWith('.ejs')) checkTemplate(text, path);
  else language().checkTemplate(text, displayPath(path));
}
