// Users' own filters and tests, the Ansible way: `filter_plugins/*.ts|js` and `test_plugins/*.ts|js` beside the
// playbook or in a role. A file exports `filters` and/or `tests` objects of named functions, or Ansible's shape: a
// default export (class or object) whose `filters()` / `tests()` returns them.

import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../core/source.ts';
import { loadError } from '../core/load-error.ts';
import { importModule, typescriptLoader } from '../core/import-module.ts';

/** User-shaped filter and test functions: plain functions of the value and arguments. */
export type UserFilter = (value: unknown, ...args: unknown[]) => unknown;
export type UserTest = (value: unknown, ...args: unknown[]) => unknown;

export interface Plugins {
  filters: Record<string, UserFilter>;
  tests: Record<string, UserTest>;
  /** Files that did not load (at their file:line:col): reported only if an expression needs a name none defines. */
  broken?: InputError[];
}

type Table = Record<string, unknown>;

function functionsOf(value: unknown, file: string, kind: string): Record<string, (value: unknown, ...args: unknown[]) => unknown> {
  const out: Record<string, (value: unknown, ...args: unknown[]) => unknown> = {};
  if (value === undefined || value === null) return out;
  if (typeof value !== 'object') throw new InputError({ file, line: 1, col: 1 }, `\`${kind}\` must be an object of named functions`);
  for (const [name, fn] of Object.entries(value as Table)) {
    if (typeof fn !== 'function') throw new InputError({ file, line: 1, col: 1 }, `${kind} '${name}' is not a function`);
    out[name] = fn as (value: unknown, ...args: unknown[]) => unknown;
  }
  return out;
}

/** Ansible's shape: `export default class FilterModule { filters() { return {...} } }` (or an object with filters()). */
function fromDefault(def: unknown, method: 'filters' | 'tests'): unknown {
  if (def === undefined || def === null) return undefined;
  let instance: unknown = def;
  if (typeof def === 'function') {
    try {
      instance = new (def as new () => unknown)();
    } catch {
      instance = def;
    }
  }
  const m = (instance as Table)[method];
  if (typeof m === 'function') return (m as () => unknown).call(instance);
  return undefined;
}

/** `filters`/`tests` of a module: a named export, the same on a CommonJS default export, or Ansible's shape. */
function exported(mod: Table, kind: 'filters' | 'tests'): unknown {
  if (mod[kind] !== undefined) return mod[kind];
  const def = mod.default as Table | undefined;
  if (def && typeof def === 'object' && def[kind] !== undefined && typeof def[kind] !== 'function') return def[kind];
  return fromDefault(def, kind);
}

/**
 * Load users' plugins: `dir` is a playbook's or role's folder (its `filter_plugins/` and `test_plugins/` are read), or
 * one of those two folders itself. No other file of the folder is imported.
 */
export async function loadPlugins(dir: string): Promise<Plugins> {
  const plugins: Plugins = { filters: {}, tests: {} };
  const own = ['filter_plugins', 'test_plugins'].includes(basename(dir)) ? [dir] : [];
  const dirs = [...own, join(dir, 'filter_plugins'), join(dir, 'test_plugins')].filter((d) => existsSync(d));
  for (const d of dirs) {
    let entries: string[];
    try {
      entries = readdirSync(d).sort();
    } catch {
      continue;
    }
    for (const file of entries) {
      const ext = extname(file);
      if ((ext !== '.ts' && ext !== '.js' && ext !== '.mjs') || file.endsWith('.d.ts')) continue;
      const path = join(d, file);
      let mod: Table;
      try {
        if (ext === '.ts') await typescriptLoader();
        mod = (await importModule(pathToFileURL(path).href)) as Table;
      } catch (error) {
        (plugins.broken ??= []).push(loadError(error, path, 'plugin'));
        continue;
      }
      Object.assign(plugins.filters, functionsOf(exported(mod, 'filters'), path, 'filters'));
      Object.assign(plugins.tests, functionsOf(exported(mod, 'tests'), path, 'tests'));
    }
  }
  return plugins;
}
