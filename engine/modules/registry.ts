// Finds a module by the name a task uses: built-ins, then a user's own modules from `modules/` folders (beside the
// playbook, in a role), loaded by file name like Ansible's `library/`.

import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { register as registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';
import { KPLAY_HOME } from '../home.ts';
import { displayPath, InputError } from '../core/source.ts';
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
    const { register } = await import('tsx/esm/api');
    if (!process.env.KPLAY_TS_LOADED) register();
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
  private readonly loadedDirs = new Set<string>();

  constructor() {
    for (const [name, module] of Object.entries(builtinModules)) this.modules.set(name, module as Module);
  }

  /** Load every `.ts`/`.js` module in `dir` (if it exists). A user module may replace a built-in of the same name. */
  async loadDir(dir: string): Promise<void> {
    if (this.loadedDirs.has(dir) || !existsSync(dir)) return;
    this.loadedDirs.add(dir);
    for (const file of readdirSync(dir).sort()) {
      const ext = extname(file);
      if ((ext !== '.ts' && ext !== '.js' && ext !== '.mjs') || file.endsWith('.d.ts')) continue;
      const path = join(dir, file);
      let exported: unknown;
      try {
        await userModuleLoader();
        const imported = (await import(pathToFileURL(path).href)) as { default?: unknown };
        exported = imported.default;
      } catch (error) {
        throw new InputError({ file: displayPath(path), line: 1, col: 1 }, `cannot load module: ${(error as Error).message}`);
      }
      if (!isModule(exported)) {
        throw new InputError(
          { file: displayPath(path), line: 1, col: 1 },
          'a module file must `export default` an object with `spec: { args }` and `plan(args, ctx)`',
        );
      }
      const name = basename(file, ext);
      this.modules.set(name, { ...exported, name });
    }
  }

  /** The name without its collection prefix (`ansible.builtin.copy` → `copy`). */
  shortName(name: string): string {
    let short = name;
    for (const prefix of PREFIXES) if (short.startsWith(prefix)) short = short.slice(prefix.length);
    return short;
  }

  get(name: string): Module | undefined {
    const short = this.shortName(name);
    return this.modules.get(short) ?? this.modules.get(ALIASES[short] ?? '');
  }

  /** Whether `module` is the built-in of that name (a user module of the same name replaces it). */
  isBuiltin(name: string, module: Module): boolean {
    return builtinModules[name] === module;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  names(): string[] {
    return [...this.modules.keys()].sort();
  }
}
