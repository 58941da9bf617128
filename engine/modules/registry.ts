// Finds a module by the name a task uses: built-ins, then a user's own modules from `modules/` folders (beside the
// playbook, in a role), loaded by file name like Ansible's `library/`.

import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../core/source.ts';
import { displayPath } from '../load/yaml.ts';
import { builtinModules } from './builtin.ts';
import type { Module } from './contract.ts';

const PREFIXES = ['ansible.builtin.', 'ansible.legacy.', 'community.general.', 'kplay.'];
/** Ansible's other names for the same module. */
const ALIASES: Record<string, string> = { systemd_service: 'systemd', service: 'systemd' };

/** A user's `.ts` module needs a TypeScript loader; register tsx's once, only when one is met (it costs startup). */
let tsLoader: Promise<void> | undefined;
function typescriptLoader(): Promise<void> {
  tsLoader ??= import('tsx/esm/api').then(({ register }) => {
    if (!process.env.KPLAY_TS_LOADED) register();
  });
  return tsLoader;
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
        if (ext === '.ts') await typescriptLoader();
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

  get(name: string): Module | undefined {
    let short = name;
    for (const prefix of PREFIXES) if (short.startsWith(prefix)) short = short.slice(prefix.length);
    return this.modules.get(short) ?? this.modules.get(ALIASES[short] ?? '');
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  names(): string[] {
    return [...this.modules.keys()].sort();
  }
}
