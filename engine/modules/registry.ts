// Finds a module by the name a task uses: built-ins, then a user's own modules from `modules/` folders (beside the
// playbook, in a role), loaded by file name like Ansible's `library/`.

import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { register as registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';
import { KPLAY_HOME } from '../home.ts';
import { displayPath, formatPos, InputError, type SourcePos } from '../core/source.ts';
import { loadError } from '../core/load-error.ts';
import { importModule, typescriptLoader } from '../core/import-module.ts';
import { builtinModules } from './builtin.ts';
import type { Module } from './contract.ts';

const PREFIXES = ['ansible.builtin.', 'ansible.legacy.', 'ansible.posix.', 'community.general.', 'kplay.'];
/** Ansible's other names for the same module. */
const ALIASES: Record<string, string> = { systemd_service: 'systemd', service: 'systemd' };

/**
 * Loading a user's module: `kplay` and `kplay/module` resolve to this kplay's public API (engine/module.ts), also
 * from a folder with no node_modules; and TypeScript loads through tsx (a `.ts` module, and the API itself). Set up
 * once, only when a user's module is met (it costs start-up).
 */
let userLoader: Promise<void> | undefined;
function userModuleLoader(): Promise<void> {
  userLoader ??= (async () => {
    const api = pathToFileURL(join(KPLAY_HOME, 'engine', 'module.ts')).href;
    const hook = `export async function resolve(specifier, context, next) {
  return specifier === 'kplay' || specifier === 'kplay/module' ? next(${JSON.stringify(api)}, context) : next(specifier, context);
}`;
    registerHooks(`data:text/javascript,${encodeURIComponent(hook)}`);
    await typescriptLoader();
  })();
  return userLoader;
}

function isModule(value: unknown): value is Module {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Partial<Module>;
  return typeof m.plan === 'function' && m.spec !== undefined && typeof m.spec.args === 'object';
}

export class ModuleRegistry {
  private readonly modules = new Map<string, Module>();
  /** Users' module files found but not imported yet: a file is imported only when a task uses its name, so one
   * broken file in a `modules/` folder fails only the playbooks that use it. */
  private readonly pending = new Map<string, string>();
  private readonly loadedDirs = new Set<string>();

  constructor() {
    for (const [name, module] of Object.entries(builtinModules)) this.modules.set(name, module as Module);
  }

  /** Note every `.ts`/`.js` module in `dir` (if it exists). A user module may replace a built-in of the same name. */
  async loadDir(dir: string): Promise<void> {
    if (this.loadedDirs.has(dir) || !existsSync(dir)) return;
    this.loadedDirs.add(dir);
    for (const file of readdirSync(dir).sort()) {
      const ext = extname(file);
      if ((ext !== '.ts' && ext !== '.js' && ext !== '.mjs') || file.endsWith('.d.ts')) continue;
      this.pending.set(basename(file, ext), join(dir, file));
    }
  }

  /**
   * Import the user's module of this name if it is not yet: before a task that uses it is checked. A file that does
   * not load is reported at its own file:line:col (a syntax error, or what its top level threw), naming the task.
   */
  async prepare(name: string, usedAt?: SourcePos): Promise<void> {
    const short = this.shortName(name);
    const path = this.pending.get(short);
    if (path === undefined) return;
    this.pending.delete(short);
    let exported: unknown;
    try {
      await userModuleLoader();
      const imported = (await importModule(pathToFileURL(path).href)) as { default?: unknown };
      exported = imported.default;
    } catch (error) {
      const failure = loadError(error, path, 'module');
      throw new InputError(failure.pos, `${failure.detail}${usedAt ? ` (used by the task at ${formatPos(usedAt)})` : ''}`);
    }
    if (!isModule(exported)) {
      throw new InputError(
        { file: displayPath(path), line: 1, col: 1 },
        'a module file must `export default` an object with `spec: { args }` and `plan(args, ctx)`',
      );
    }
    this.modules.set(short, { ...exported, name: short });
  }

  /** The name without its collection prefix (`ansible.builtin.copy` → `copy`). */
  shortName(name: string): string {
    let short = name;
    for (const prefix of PREFIXES) if (short.startsWith(prefix)) short = short.slice(prefix.length);
    return short;
  }

  /** A module by name; a user's module must have been prepare()d (the loader does it for every task). */
  get(name: string): Module | undefined {
    const short = this.shortName(name);
    if (this.pending.has(short)) throw new Error(`module ${short} used before it was loaded`);
    return this.modules.get(short) ?? this.modules.get(ALIASES[short] ?? '');
  }

  /** Whether `module` is the built-in of that name (a user module of the same name replaces it). */
  isBuiltin(name: string, module: Module): boolean {
    return builtinModules[name] === module;
  }

  has(name: string): boolean {
    return this.pending.has(this.shortName(name)) || this.get(name) !== undefined;
  }

  names(): string[] {
    return [...new Set([...this.modules.keys(), ...this.pending.keys()])].sort();
  }
}
