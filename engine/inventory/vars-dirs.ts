// group_vars/ and host_vars/ of one folder (beside an inventory source or the playbook), read lazily and cached.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InputError } from '../core/source.ts';
import { displayPath, isObject, loadYamlFile, posOf, typeName } from '../core/yaml.ts';

const VARS_EXTENSIONS = ['', '.yml', '.yaml', '.json'];

/** The group_vars/ and host_vars/ of one folder; files are read once, when first asked for. */
export class VarsDir {
  private readonly cache = new Map<string, Record<string, unknown>>();
  constructor(readonly dir: string) {}

  groupVars(group: string): Record<string, unknown> {
    return this.load(join(this.dir, 'group_vars'), group);
  }

  hostVars(host: string): Record<string, unknown> {
    return this.load(join(this.dir, 'host_vars'), host);
  }

  private load(folder: string, name: string): Record<string, unknown> {
    const key = join(folder, name);
    let vars = this.cache.get(key);
    if (!vars) {
      vars = {};
      // Ansible's order: `name`, `name.yml`, `name.yaml`, `name.json`; a folder contributes its files sorted by name.
      for (const ext of VARS_EXTENSIONS) {
        const path = join(folder, name + ext);
        if (!existsSync(path)) continue;
        const files = statSync(path).isDirectory() ? (ext === '' ? varsFilesIn(path) : []) : [path];
        for (const file of files) Object.assign(vars, readVarsFile(file));
      }
      this.cache.set(key, vars);
    }
    return vars;
  }
}

function varsFilesIn(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(folder).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const path = join(folder, entry);
    const ext = extname(entry);
    if (statSync(path).isDirectory()) {
      if (!ext) out.push(...varsFilesIn(path));
    } else if (VARS_EXTENSIONS.includes(ext)) out.push(path);
  }
  return out;
}

function readVarsFile(path: string): Record<string, unknown> {
  const data = loadYamlFile(path);
  if (data === null) return {};
  if (!isObject(data)) {
    throw new InputError(posOf(data as object) ?? { file: displayPath(path), line: 1, col: 1 }, `a vars file must be a map of variable names to values, got ${typeName(data)}`);
  }
  return data;
}
