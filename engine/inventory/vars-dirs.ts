// group_vars/ and host_vars/ of one folder (beside an inventory source or the playbook), read lazily and cached.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InputError } from '../core/source.ts';
import { displayPath, isObject, loadYamlFile, posOf, typeName } from '../core/yaml.ts';

const VARS_EXTENSIONS = ['', '.yml', '.yaml', '.json'];

/** The group_vars/ and host_vars/ of one folder; files are read once, when first asked for. */
export class VarsDir {
  private readonly cache = new Map<string, Record<string, unknown>>();
  /** Each folder's entries, listed once: most hosts have no file there, and a stat per host and name costs at 1000 hosts. */
  private readonly listings = new Map<string, Set<string>>();
  private readonly groupFolder: string;
  private readonly hostFolder: string;

  constructor(readonly dir: string) {
    this.groupFolder = join(dir, 'group_vars');
    this.hostFolder = join(dir, 'host_vars');
  }

  groupVars(group: string): Record<string, unknown> {
    return this.load(this.groupFolder, group);
  }

  hostVars(host: string): Record<string, unknown> {
    return this.load(this.hostFolder, host);
  }

  private entries(folder: string): Set<string> {
    let names = this.listings.get(folder);
    if (!names) {
      try {
        names = new Set(readdirSync(folder));
      } catch {
        names = new Set(); // no such folder
      }
      this.listings.set(folder, names);
    }
    return names;
  }

  private load(folder: string, name: string): Record<string, unknown> {
    const key = `${folder}\0${name}`;
    let vars = this.cache.get(key);
    if (!vars) {
      vars = {};
      const present = this.entries(folder);
      // Ansible's order: `name`, `name.yml`, `name.yaml`, `name.json`; a folder contributes its files sorted by name.
      for (const ext of VARS_EXTENSIONS) {
        if (!present.has(name + ext)) continue;
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
