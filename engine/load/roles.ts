// Roles: where they are found, their files (defaults, vars, meta dependencies, handlers), and loading one for a play
// (its dependencies' tasks, then its own). Also what a play's dynamic includes load at run time. Task lists are parsed
// by engine/load/tasks.ts; what a play has gathered is passed in (PlayParts), never kept here.

import { language } from '../vars/language.ts';
import { loadPlugins } from '../jinja/index.ts';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { KPLAY_HOME } from '../home.ts';
import type { ModuleRegistry } from '../modules/registry.ts';
import { ROLE_MAIN, type IncludeRoleNode, type IncludeTasksNode, type Inherited, type Loaded, type Node, type PlayIncludes, type RoleFrom, type RoleInstance, type TaskNode } from './model.ts';
import { InputError, type SourcePos } from '../core/source.ts';
import { PlayParts } from './play-parts.ts';
import { checkTemplates, resolveTaskFile, TaskParser, varsMap, type RoleSource } from './tasks.ts';
import { displayPath, isObject, loadYamlFile, posOf, sharePositions, typeName, type YamlObject } from '../core/yaml.ts';

/** The kplay checkout's own roles/ folder: shipped roles are found from any working folder. */
export const SHIPPED_ROLES = resolve(KPLAY_HOME, 'roles');

interface RoleFiles {
  dependencies: { name: string; params: Record<string, unknown>; pos: SourcePos; scope: YamlObject }[];
}

function yamlIn(dir: string, name: string): string | undefined {
  for (const candidate of [`${name}.yml`, `${name}.yaml`, name]) {
    const path = join(dir, candidate);
    if (existsSync(path) && statSync(path).isFile()) return path;
  }
  return undefined;
}

function mapFile(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  const data = loadYamlFile(path);
  if (data === null) return {};
  if (!isObject(data)) throw new InputError({ file: displayPath(path), line: 1, col: 1 }, `expected a map of variables, got ${typeName(data)}`);
  return data;
}

/** Loads roles (and, at run time, includes) for the plays of one playbook file. Caches only role files. */
export class RoleLoader implements RoleSource, PlayIncludes {
  private readonly roleFiles = new Map<string, RoleFiles>();
  private readonly varFiles = new Map<string, Record<string, unknown>>();
  /** Roles whose dependencies were followed to the end without a loop. */
  private readonly acyclic = new Set<string>();
  readonly tasks: TaskParser;

  constructor(
    readonly registry: ModuleRegistry,
    readonly playbookDir: string,
    private readonly rolesPath: string[],
  ) {
    this.tasks = new TaskParser({ registry, playbookDir, roles: this });
  }

  /** Folders that relative task files resolve against: the role's tasks/ first, then the playbook's folder. */
  taskDirs(scope: Inherited): string[] {
    return scope.role ? [join(scope.role.path, 'tasks'), this.playbookDir] : [this.playbookDir];
  }

  roleSearchDirs(): string[] {
    const env = (process.env.KPLAY_ROLES_PATH ?? '').split(':').filter((p) => p !== '');
    return [join(this.playbookDir, 'roles'), ...env, ...this.rolesPath, resolve('roles'), SHIPPED_ROLES].filter(
      (dir, i, all) => all.indexOf(dir) === i,
    );
  }

  findRole(name: string): string | undefined {
    if (name.includes('/') || isAbsolute(name)) {
      const path = resolve(this.playbookDir, name);
      return existsSync(path) ? path : undefined;
    }
    for (const dir of this.roleSearchDirs()) {
      const path = join(dir, name);
      if (existsSync(path) && statSync(path).isDirectory()) return path;
    }
    return undefined;
  }

  private readRoleFiles(path: string): RoleFiles {
    const cached = this.roleFiles.get(path);
    if (cached) return cached;
    const metaPath = yamlIn(join(path, 'meta'), 'main');
    const meta = mapFile(metaPath);
    const deps = meta.dependencies ?? [];
    if (!Array.isArray(deps)) {
      throw new InputError(posOf(meta, 'dependencies', 'value'), '"dependencies" takes a list of roles');
    }
    const files: RoleFiles = {
      dependencies: deps.map((dep, i) => {
        const pos = posOf(deps, i) as SourcePos;
        if (typeof dep === 'string') return { name: dep, params: {}, pos, scope: {} };
        if (!isObject(dep) || typeof (dep.role ?? dep.name) !== 'string') {
          throw new InputError(pos, 'a dependency is a role name or a map with "role"');
        }
        return { ...roleEntry(dep), pos };
      }),
    };
    this.roleFiles.set(path, files);
    return files;
  }

  /**
   * A role's `defaults/` or `vars/` file: `main` may be absent (no variables); a file named by `vars_from` or
   * `defaults_from` must exist, as Ansible refuses a missing one.
   */
  private roleVars(path: string, folder: 'defaults' | 'vars', name: string, pos: SourcePos, role: string): Record<string, unknown> {
    const file = yamlIn(join(path, folder), name);
    if (!file && name !== 'main') throw new InputError(pos, `role "${role}" has no ${folder}/${name}.yml (given by ${folder}_from)`);
    const key = file ?? `${path}\0${folder}`;
    let vars = this.varFiles.get(key);
    if (!vars) {
      vars = mapFile(file);
      this.varFiles.set(key, vars);
      // Their Jinja is checked now (syntax, filter and test names), with the role's own plugins known.
      checkTemplates(vars, { pos: posOf(vars) ?? pos });
    }
    return vars;
  }

  /**
   * A role that depends on itself, directly or through others, would load forever: refused (as Ansible does) at the
   * dependency that closes the loop, naming the chain. `chain` ends with the role being looked at.
   */
  private refuseCycles(chain: { name: string; path: string }[]): void {
    const { path } = chain[chain.length - 1];
    if (this.acyclic.has(path)) return;
    for (const dep of this.readRoleFiles(path).dependencies) {
      const depPath = this.findRole(dep.name);
      if (!depPath) continue; // loading it reports that it is missing
      const loop = chain.findIndex((role) => role.path === depPath);
      if (loop >= 0) {
        const names = [...chain.slice(loop).map((role) => role.name), dep.name];
        throw new InputError(dep.pos, names.length === 2 ? `role "${dep.name}" depends on itself` : `role dependency cycle: ${names.join(' -> ')}`);
      }
      this.refuseCycles([...chain, { name: dep.name, path: depPath }]);
    }
    this.acyclic.add(path);
  }

  /** Load a role for the current play: its dependencies' tasks, then its own; its handlers join the play's. */
  async loadRole(name: string, params: Record<string, unknown>, pos: SourcePos, inherited: Inherited, from: RoleFrom, parts: PlayParts, again = false): Promise<Node[]> {
    const path = this.findRole(name);
    if (!path) {
      throw new InputError(pos, `role "${name}" not found (looked in ${this.roleSearchDirs().map(displayPath).join(', ')})`);
    }
    this.refuseCycles([{ name, path }]);
    const isMain = from.tasks === 'main' && from.vars === 'main' && from.defaults === 'main' && from.handlers === 'main';
    const key = `${path}\0${JSON.stringify(params)}\0${JSON.stringify(from)}`;
    const sameRole = (r: RoleInstance): boolean => r.path === path && JSON.stringify(r.params) === JSON.stringify(params);
    // A role runs once per play with the same parameters; include_role runs it each time it is reached (`again`).
    if (!again && (parts.keys.has(key) || (isMain && parts.roles.some(sameRole)))) return [];
    parts.keys.add(key);
    await this.registry.loadDir(join(path, 'modules'));
    await this.registry.loadDir(join(path, 'library'));
    language().addPlugins(await loadPlugins(path));
    const files = this.readRoleFiles(path);
    const defaults = this.roleVars(path, 'defaults', from.defaults, pos, name);
    const vars = this.roleVars(path, 'vars', from.vars, pos, name);
    const instance: RoleInstance = { name, path, defaults, vars, params, dependencies: [], handlersFrom: from.handlers };
    const nodes: Node[] = [];
    for (const dep of files.dependencies) {
      const depScope = this.tasks.scopeFor(dep.scope, { ...inherited, role: undefined });
      nodes.push(...(await this.loadRole(dep.name, dep.params, dep.pos, depScope, ROLE_MAIN, parts)));
      const depInstance = parts.roles.find((r) => r.name === dep.name);
      if (depInstance) instance.dependencies.push(depInstance);
    }
    // A role's handlers join the play once: with tasks_from too (as Ansible), unless an earlier load of the same
    // handlers file did.
    const handlersKnown = !isMain && parts.roles.some((r) => r.path === path && r.handlersFrom === from.handlers);
    parts.roles.push(instance);
    const scope: Inherited = { ...inherited, role: instance };
    const tasksFile = yamlIn(join(path, 'tasks'), from.tasks);
    if (!tasksFile && from.tasks !== 'main') throw new InputError(pos, `role "${name}" has no tasks/${from.tasks}.yml`);
    if (tasksFile) nodes.push(...(await this.tasks.loadFile(tasksFile, scope, pos, parts)));
    const handlersFile = yamlIn(join(path, 'handlers'), from.handlers);
    if (!handlersFile && from.handlers !== 'main') throw new InputError(pos, `role "${name}" has no handlers/${from.handlers}.yml (given by handlers_from)`);
    if (handlersFile && !handlersKnown) parts.handlers.push(...(await this.loadHandlers(handlersFile, scope, parts)));
    return nodes;
  }

  private async loadHandlers(path: string, scope: Inherited, parts: PlayParts): Promise<TaskNode[]> {
    const nodes = await this.tasks.loadFile(path, scope, undefined, parts);
    return nodes.map((node) => {
      if (node.kind !== 'task') throw new InputError(node.pos, 'a handler must be a task (no blocks or includes)');
      return node;
    });
  }

  /** include_tasks at run time: the file a host's variables named, relative to the include's folder. */
  async includeTasks(file: string, node: IncludeTasksNode, scope: Inherited, known: readonly RoleInstance[]): Promise<Loaded> {
    const parts = new PlayParts(known);
    const path = resolveTaskFile(file, node.baseDir, this.taskDirs(node.scope));
    const nodes = await this.tasks.loadFile(path, scope, node.pos, parts);
    return { nodes, handlers: parts.handlers, roles: parts.newRoles() };
  }

  /** include_role at run time: the role a host's variables named. */
  async includeRole(role: string, node: IncludeRoleNode, known: readonly RoleInstance[]): Promise<Loaded> {
    const parts = new PlayParts(known);
    const nodes = await this.loadRole(role, node.params, node.pos, { ...node.scope, when: [] }, node.from, parts, true);
    return { nodes, handlers: parts.handlers, roles: parts.newRoles() };
  }
}

/** `{role: x, when: ..., tags: ..., port: 80}` → the role's name, its parameters and the keywords for its tasks. */
export function roleEntry(entry: YamlObject): { name: string; params: Record<string, unknown>; scope: YamlObject } {
  const keywords = new Set(['when', 'tags', 'become', 'become_user', 'ignore_errors', 'delegate_to', 'no_log', 'environment', 'any_errors_fatal', 'check_mode', 'run_once']);
  const scope: YamlObject = {};
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) {
    if (k === 'role' || k === 'name') continue;
    if (k === 'vars') Object.assign(params, varsMap(entry, 'vars'));
    else if (keywords.has(k)) scope[k] = v;
    else params[k] = v;
  }
  sharePositions(entry, scope); // the split-off keywords keep their positions for messages
  return { name: String(entry.role ?? entry.name), params, scope };
}
