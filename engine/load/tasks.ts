// Task lists: tasks, blocks, imports and includes, with every keyword checked and inherited keywords merged.

import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { language } from '../vars/language.ts';
import type { TextAt } from '../jinja/index.ts';
import { checkArgs, isTemplated } from './args.ts';
import type { ModuleRegistry } from '../modules/registry.ts';
import type { Condition, Inherited, Node, RoleFrom, TaskNode, Templated, TemplatedKeyword, TemplatedNumber } from './model.ts';
import type { PlayParts } from './play-parts.ts';
import { InputError, type SourcePos } from '../core/source.ts';
import { isUnsafe, UnsafeText } from '../core/unsafe.ts';
import { didYouMean } from './suggest.ts';
import { checkTemplateSource } from './template-source.ts';
import { displayPath, isObject, loadYamlFile, posOf, quoteOf, renameKeys, typeName, type YamlObject, type YamlValue } from '../core/yaml.ts';

/** Keywords any task, block or include may carry (Ansible's names). */
const COMMON = [
  'name', 'when', 'tags', 'vars', 'become', 'become_user', 'become_method', 'ignore_errors', 'delegate_to', 'run_once',
  'check_mode', 'no_log', 'environment', 'any_errors_fatal', 'ignore_unreachable', 'diff',
];
const TASK_ONLY = [
  'loop', 'loop_control', 'register', 'notify', 'changed_when', 'failed_when', 'until',
  'retries', 'delay', 'args', 'throttle', 'timeout', 'listen', 'action', 'async', 'poll',
];
const TASK_KEYWORDS = new Set([...COMMON, ...TASK_ONLY]);
const BLOCK_KEYWORDS = new Set([...COMMON, 'block', 'rescue', 'always', 'notify']);
const INCLUDE_KEYWORDS = new Set([...COMMON, 'loop', 'loop_control', 'args', 'apply']);
/** Task keywords that are actions in Ansible, also written `ansible.builtin.x` or `ansible.legacy.x`. */
const ACTION_KEYWORDS = new Set(['include_tasks', 'import_tasks', 'include', 'include_role', 'import_role', 'meta']);

function shortKeyword(key: string): string {
  const short = key.replace(/^ansible\.(builtin|legacy)\./, '');
  return ACTION_KEYWORDS.has(short) ? short : key;
}

const META_ACTIONS = ['flush_handlers', 'end_play', 'end_host', 'noop', 'clear_host_errors', 'refresh_inventory'] as const;

function fail(pos: SourcePos | undefined, message: string): never {
  throw new InputError(pos, message);
}

function stringList(container: YamlObject, key: string): string[] {
  const value = container[key];
  const list = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item === 'string' || typeof item === 'number') return String(item);
    return fail(posOf(container, key, 'value'), `"${key}" takes a string or a list of strings, got ${typeName(item)}`);
  });
}

function bool(container: YamlObject, key: string): boolean | undefined {
  const value = container[key];
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(yes|no|true|false)$/i.test(value)) return /^(yes|true)$/i.test(value);
  return fail(posOf(container, key, 'value'), `"${key}" takes true or false, got ${JSON.stringify(value)}`);
}

/** A `{{ }}` value of a keyword, checked for syntax now and rendered per host when the task runs. */
function templatedOf(container: YamlObject, key: string): Templated | undefined {
  const value = container[key];
  if (typeof value !== 'string' || !isTemplated(value)) return undefined;
  const pos = posOf(container, key, 'value') as SourcePos;
  language().checkValue(value, { pos, quote: quoteOf(container, key) });
  return { expr: value, pos, key };
}

function int(container: YamlObject, key: string): number | undefined {
  const value = container[key];
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  return fail(posOf(container, key, 'value'), `"${key}" takes a whole number, got ${JSON.stringify(value)}`);
}

function str(container: YamlObject, key: string): string | undefined {
  const value = container[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return fail(posOf(container, key, 'value'), `"${key}" takes a string, got ${typeName(value)}`);
}

export function varsMap(container: YamlObject, key: string): Record<string, unknown> {
  const value = container[key];
  if (value === undefined || value === null) return {};
  if (!isObject(value)) return fail(posOf(container, key, 'value'), `"${key}" takes a map of variables, got ${typeName(value)}`);
  for (const name of Object.keys(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(posOf(value, name), `"${name}" is not a valid variable name`);
  }
  return value;
}

/** Conditions from `when:` (and changed_when...): checked for syntax now so errors come before any host is touched. */
function conditions(container: YamlObject, key: string): Condition[] | undefined {
  const value = container[key];
  if (value === undefined) return undefined;
  const pos = posOf(container, key, 'value') as SourcePos;
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, i) => {
    const itemPos = (Array.isArray(value) ? posOf(value, i) : pos) ?? pos;
    if (typeof item === 'boolean') return { expr: item, pos: itemPos };
    if (typeof item === 'number') return { expr: String(item), pos: itemPos };
    if (item instanceof UnsafeText) fail(itemPos, `"${key}" is marked !unsafe, and a condition marked unsafe is never evaluated (Ansible fails the task: "Conditional is marked as unsafe")`);
    if (typeof item !== 'string') fail(itemPos, `"${key}" takes an expression, got ${typeName(item)}`);
    checkCondition(item, { pos: itemPos, quote: Array.isArray(value) ? quoteOf(value, i) : quoteOf(container, key) });
    return { expr: item, pos: itemPos };
  });
}

/** A bare conditional (or one holding `{{ }}`): Jinja syntax and names, at its place in the YAML. */
export function checkCondition(item: string, at: TextAt): void {
  if (item.includes('{{') || item.includes('{%')) language().checkValue(item, at);
  else language().checkExpression(item, at);
}

/** Check the Jinja of every string inside a value (syntax, filter, test and lookup names), at its YAML place. */
export function checkTemplates(value: unknown, at: TextAt): void {
  if (isUnsafe(value)) return; // `!unsafe` text is data, never a template
  if (typeof value === 'string') {
    language().checkValue(value, at);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkTemplates(v, { pos: posOf(value, i) ?? at.pos, quote: quoteOf(value, i) }));
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) checkTemplates(v, { pos: posOf(value, k, 'value') ?? at.pos, quote: quoteOf(value, k) });
  }
}

/** Inherited keywords with this node's own merged over them. */
function mergeScope(parent: Inherited, obj: YamlObject): Inherited {
  const scope: Inherited = {
    ...parent,
    when: [...parent.when, ...(conditions(obj, 'when') ?? [])],
    tags: [...new Set([...parent.tags, ...stringList(obj, 'tags')])],
    vars: { ...parent.vars, ...varsMap(obj, 'vars') },
  };
  const flags: [string, TemplatedKeyword][] = [
    ['become', 'become'], ['ignore_errors', 'ignoreErrors'], ['run_once', 'runOnce'], ['check_mode', 'checkMode'], ['no_log', 'noLog'],
    ['diff', 'diff'], ['any_errors_fatal', 'anyErrorsFatal'], ['ignore_unreachable', 'ignoreUnreachable'],
  ];
  for (const [key, field] of flags) {
    if (obj[key] === undefined) continue;
    // A `{{ }}` value is rendered per host when the task runs; a plain one replaces an inherited template.
    const templated = templatedOf(obj, key);
    const { [field]: _replaced, ...rest } = scope.templated ?? {};
    scope.templated = templated ? { ...rest, [field]: templated } : rest;
    if (templated) delete scope[field];
    else scope[field] = bool(obj, key);
  }
  if (scope.templated && Object.keys(scope.templated).length === 0) delete scope.templated;
  const becomeUser = str(obj, 'become_user');
  if (becomeUser !== undefined) scope.becomeUser = becomeUser;
  const delegate = str(obj, 'delegate_to');
  if (delegate !== undefined) scope.delegateTo = delegate;
  // A block's notify is its tasks' unless a task has its own (Ansible: the task's replaces it).
  if (obj.notify !== undefined) scope.notify = { names: stringList(obj, 'notify'), pos: posOf(obj, 'notify', 'value') };
  if (obj.environment !== undefined) {
    scope.environment = { ...parent.environment, ...varsMapLoose(obj, 'environment') };
  }
  if (obj.become_method !== undefined && obj.become_method !== 'sudo') {
    fail(posOf(obj, 'become_method', 'value'), 'only become_method "sudo" is supported');
  }
  return scope;
}

function varsMapLoose(container: YamlObject, key: string): Record<string, unknown> {
  const value = container[key];
  if (!isObject(value)) return fail(posOf(container, key, 'value'), `"${key}" takes a map, got ${typeName(value)}`);
  return value;
}

/** Split `a=1 b="two words" free text` into k=v pairs and the rest (free-form). */
export function splitKeyValues(text: string): { pairs: [string, string, number][]; rest: [string, number][] } {
  const pairs: [string, string, number][] = [];
  const rest: [string, number][] = [];
  // A word: `{{ expr }}` (spaces and all), quoted strings, or plain characters, in any mix.
  const token = /(?:\{\{[\s\S]*?\}\}|"(?:\\.|[^"\\])*"|'[^']*'|[^\s"'{]|\{(?!\{))+/g;
  for (const match of text.matchAll(token)) {
    const word = match[0];
    const kv = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(word);
    if (kv) pairs.push([kv[1], unquote(kv[2]), match.index ?? 0]);
    else rest.push([word, match.index ?? 0]);
  }
  return { pairs, rest };
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"' };

/** A k=v value: quotes removed; inside double quotes \n, \t, \r, \\ and \" mean what they do in YAML (as in Ansible). */
function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\([ntr"\\])/g, (_m, c: string) => ESCAPES[c]);
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  return value;
}

/** `with_<name>` is a loop over the lookup of that name (as in Ansible); one that names no lookup is an error here. */
function checkWith(obj: YamlObject, key: string): true {
  const lookup = key.slice(5);
  if (!language().hasLookup(lookup)) fail(posOf(obj, key), `"${key}": no lookup named "${lookup}" to loop with${didYouMean(key, [...language().lookupNames()].map((n) => `with_${n}`))}`);
  return true;
}

/** Loop keys of a task: `loop` and every `with_<lookup>` (Ansible's names; the lookup must exist). */
function loopKeys(obj: YamlObject): string[] {
  return Object.keys(obj).filter((k) => k === 'loop' || (k.startsWith('with_') && language().hasLookup(k.slice(5))));
}

function loopOf(obj: YamlObject, pos: SourcePos): TaskNode['loop'] {
  const keys = loopKeys(obj);
  // Ansible: "duplicate loop in task" (it also lets a `loop` after a `with_*` win silently; kplay refuses both orders).
  if (keys.length > 1) fail(posOf(obj, keys[1]), `duplicate loop in task: ${keys[1].replace(/^with_/, '')} (a task takes one of loop or with_*; found ${keys.join(' and ')})`);
  const key = keys[0];
  if (!key) {
    if (obj.loop_control !== undefined) fail(posOf(obj, 'loop_control'), '"loop_control" without "loop"');
    return undefined;
  }
  const items = obj[key];
  const itemsPos = posOf(obj, key, 'value') ?? pos;
  if (key === 'loop' && !Array.isArray(items) && typeof items !== 'string') {
    fail(itemsPos, `"${key}" takes a list or an expression that gives one, got ${typeName(items)}`);
  }
  checkTemplates(items, { pos: itemsPos, quote: quoteOf(obj, key) });
  const control = obj.loop_control ?? {};
  if (!isObject(control)) fail(posOf(obj, 'loop_control', 'value'), '"loop_control" takes a map');
  for (const k of Object.keys(control)) {
    if (!['loop_var', 'index_var', 'label', 'pause', 'extended', 'extended_allitems'].includes(k)) {
      fail(posOf(control, k), `unknown loop_control key "${k}" (loop_var, index_var, label, pause, extended, extended_allitems)`);
    }
  }
  checkTemplates(control, { pos: posOf(obj, 'loop_control', 'value') ?? pos, quote: 0 });
  const pause = control.pause;
  if (pause !== undefined && !(typeof pause === 'number' && pause >= 0) && !(typeof pause === 'string' && (isTemplated(pause) || /^\d+(\.\d+)?$/.test(pause)))) {
    fail(posOf(control, 'pause', 'value'), `"pause" takes a number of seconds, got ${JSON.stringify(pause)}`);
  }
  return {
    items,
    pos: itemsPos,
    with: key === 'loop' ? undefined : key.slice(5),
    loopVar: str(control, 'loop_var') ?? 'item',
    indexVar: str(control, 'index_var'),
    label: str(control, 'label'),
    pause: pause as number | string | undefined,
    extended: control.extended as boolean | string | undefined,
    extendedAllItems: control.extended_allitems as boolean | string | undefined,
  };
}

/** Resolve a file an include names: relative to the including file's folder, then the role/playbook base. */
export function resolveTaskFile(name: string, baseDir: string, extraDirs: string[] = []): string {
  if (isAbsolute(name)) return name;
  for (const dir of [baseDir, ...extraDirs]) {
    const candidate = resolve(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return resolve(baseDir, name);
}

/** How the parser loads a role that a task list imports (engine/load/roles.ts), kept apart from task parsing. */
export interface RoleSource {
  loadRole(name: string, params: Record<string, unknown>, pos: SourcePos, inherited: Inherited, from: RoleFrom, parts: PlayParts): Promise<Node[]>;
  /** Folders that relative task files resolve against. */
  taskDirs(scope: Inherited): string[];
}

export interface ParserDeps {
  registry: ModuleRegistry;
  playbookDir: string;
  roles: RoleSource;
}

export class TaskParser {
  /** Task files being read, outermost first: an import loop is an error. */
  private readonly importStack: string[] = [];

  constructor(private readonly ctx: ParserDeps) {}

  /** A node's keywords merged over what it inherits (for role entries and dependencies). */
  scopeFor(obj: YamlObject, inherited: Inherited): Inherited {
    return mergeScope(inherited, obj);
  }

  /** Load a task file (a YAML list of tasks). */
  async loadFile(path: string, inherited: Inherited, pos: SourcePos | undefined, parts: PlayParts): Promise<Node[]> {
    if (!existsSync(path)) fail(pos, `task file not found: ${displayPath(path)}`);
    if (this.importStack.includes(path)) fail(pos, `import loop: ${[...this.importStack, path].map(displayPath).join(' -> ')}`);
    const data = loadYamlFile(path);
    if (data === null) return [];
    if (!Array.isArray(data)) fail(posOf(data as object) ?? { file: displayPath(path), line: 1, col: 1 }, 'a task file must be a list of tasks');
    this.importStack.push(path);
    try {
      return await this.parseList(data, inherited, dirname(path), parts);
    } finally {
      this.importStack.pop();
    }
  }

  async parseList(list: YamlValue[], inherited: Inherited, baseDir: string, parts: PlayParts): Promise<Node[]> {
    const nodes: Node[] = [];
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      const pos = posOf(list, i) as SourcePos;
      if (!isObject(item)) fail(pos, `a task must be a map, got ${typeName(item)}`);
      nodes.push(...(await this.parseNode(item, inherited, baseDir, parts)));
    }
    return nodes;
  }

  /** One entry of a task list. import_tasks/import_role expand in place, so this returns a list. */
  async parseNode(written: YamlObject, inherited: Inherited, baseDir: string, parts: PlayParts): Promise<Node[]> {
    const obj = Object.keys(written).some((k) => k !== shortKeyword(k)) ? renameKeys(written, shortKeyword) : written;
    const pos = posOf(obj) as SourcePos;
    const name = str(obj, 'name');
    if ('block' in obj) {
      this.checkKeys(obj, BLOCK_KEYWORDS, 'block');
      const scope = mergeScope(inherited, obj);
      const part = async (key: string): Promise<Node[]> => {
        const value = obj[key];
        if (value === undefined || value === null) return [];
        if (!Array.isArray(value)) return fail(posOf(obj, key, 'value'), `"${key}" takes a list of tasks`);
        return this.parseList(value, scope, baseDir, parts);
      };
      return [{ kind: 'block', name, pos, scope, block: await part('block'), rescue: await part('rescue'), always: await part('always') }];
    }
    const include = ['import_tasks', 'include_tasks', 'include'].find((k) => k in obj);
    if (include) return this.parseIncludeTasks(obj, include, inherited, baseDir, parts);
    const roleInclude = ['import_role', 'include_role'].find((k) => k in obj);
    if (roleInclude) return this.parseIncludeRole(obj, roleInclude, inherited, baseDir, parts);
    if ('meta' in obj) {
      this.checkKeys(obj, new Set([...COMMON, 'meta']), 'meta');
      const action = obj.meta;
      if (typeof action !== 'string' || !(META_ACTIONS as readonly string[]).includes(action)) {
        fail(posOf(obj, 'meta', 'value'), `meta takes one of ${META_ACTIONS.join(', ')}`);
      }
      return [{ kind: 'meta', name, pos, scope: mergeScope(inherited, obj), action: action as (typeof META_ACTIONS)[number] }];
    }
    // A user's module is imported when a task first uses it (a broken one fails only the playbooks that do).
    for (const key of Object.keys(obj)) {
      if (!TASK_KEYWORDS.has(key) && this.ctx.registry.has(key)) await this.ctx.registry.prepare(key, posOf(obj, key));
    }
    return [this.parseTask(obj, inherited)];
  }

  private checkKeys(obj: YamlObject, allowed: Set<string>, what: string): void {
    const loops = allowed.has('loop');
    for (const key of Object.keys(obj)) {
      if (loops && key.startsWith('with_')) checkWith(obj, key);
      else if (!allowed.has(key)) fail(posOf(obj, key), `unknown keyword "${key}" for a ${what}`);
    }
  }

  private async parseIncludeTasks(obj: YamlObject, key: string, inherited: Inherited, baseDir: string, parts: PlayParts): Promise<Node[]> {
    const pos = posOf(obj) as SourcePos;
    this.checkKeys(obj, new Set([...INCLUDE_KEYWORDS, key, 'file']), key);
    const raw = obj[key];
    const file = isObject(raw) ? raw.file : raw;
    const filePos = posOf(obj, key, 'value') as SourcePos;
    if (typeof file !== 'string' || file === '') fail(filePos, `"${key}" takes a file name (or {file: name})`);
    const scope = mergeScope(inherited, obj);
    if (key === 'import_tasks') {
      if (isTemplated(file)) fail(filePos, 'import_tasks is static: its file name cannot use variables (use include_tasks)');
      if (obj.loop !== undefined) fail(posOf(obj, 'loop'), 'import_tasks cannot loop (use include_tasks)');
      return this.loadFile(resolveTaskFile(file, baseDir, this.ctx.roles.taskDirs(scope)), scope, filePos, parts);
    }
    if (!isTemplated(file)) {
      // Known now: load it once to report its errors before any host is touched.
      await this.loadFile(resolveTaskFile(file, baseDir, this.ctx.roles.taskDirs(scope)), scope, filePos, parts);
    }
    return [{ kind: 'include_tasks', name: str(obj, 'name'), pos, scope, file, baseDir, loop: loopOf(obj, pos) }];
  }

  private async parseIncludeRole(obj: YamlObject, key: string, inherited: Inherited, baseDir: string, parts: PlayParts): Promise<Node[]> {
    const pos = posOf(obj) as SourcePos;
    this.checkKeys(obj, new Set([...INCLUDE_KEYWORDS, key]), key);
    const spec = obj[key];
    if (!isObject(spec)) return fail(posOf(obj, key, 'value'), `"${key}" takes a map with "name"`);
    for (const k of Object.keys(spec)) {
      if (!['name', 'tasks_from', 'vars_from', 'defaults_from', 'handlers_from', 'public', 'apply', 'allow_duplicates'].includes(k)) {
        fail(posOf(spec, k), `unknown ${key} option "${k}"`);
      }
    }
    const role = str(spec, 'name');
    if (!role) return fail(posOf(obj, key, 'value'), `"${key}" needs "name"`);
    const from: RoleFrom = {
      tasks: str(spec, 'tasks_from') ?? 'main',
      vars: str(spec, 'vars_from') ?? 'main',
      defaults: str(spec, 'defaults_from') ?? 'main',
      handlers: str(spec, 'handlers_from') ?? 'main',
    };
    const scope = mergeScope(inherited, obj);
    if (key === 'import_role' || !isTemplated(role)) {
      const loaded = await this.ctx.roles.loadRole(role, scope.vars, posOf(spec, 'name', 'value') as SourcePos, scope, from, parts);
      if (key === 'import_role') return loaded;
    }
    return [{ kind: 'include_role', name: str(obj, 'name'), pos, scope, role, from, params: scope.vars, baseDir }];
  }

  parseTask(obj: YamlObject, inherited: Inherited): TaskNode {
    const pos = posOf(obj) as SourcePos;
    const candidates = Object.keys(obj).filter((k) => !TASK_KEYWORDS.has(k) && !(k.startsWith('with_') && checkWith(obj, k)));
    if (candidates.length === 0) {
      fail(pos, 'a task needs a module (for example `command: ...` or `copy: ...`)');
    }
    for (const key of candidates) {
      if (!this.ctx.registry.has(key)) {
        fail(posOf(obj, key), `unknown keyword or module "${key}"${this.suggest(key)}`);
      }
    }
    if (candidates.length > 1) fail(posOf(obj, candidates[1]), `a task has one module; found ${candidates.join(' and ')}`);
    const moduleName = candidates[0];
    const module = this.ctx.registry.get(moduleName)!;
    const scope = mergeScope(inherited, obj);
    const args: Record<string, unknown> = {};
    const argPos: TaskNode['argPos'] = {};
    const modulePos = posOf(obj, moduleName, 'value') as SourcePos;
    const take = (source: YamlValue | undefined, sourceKey: string): void => {
      if (source === undefined || source === null) return;
      if (isObject(source)) {
        for (const [k, v] of Object.entries(source)) {
          args[k] = v;
          argPos[k] = { key: posOf(source, k) as SourcePos, value: posOf(source, k, 'value') as SourcePos, quote: quoteOf(source, k) };
        }
      } else if (typeof source === 'string') {
        const { pairs, rest } = splitKeyValues(source);
        const freeForm = module.spec.freeForm;
        const valuePos = posOf(obj, sourceKey, 'value') as SourcePos;
        const quote = quoteOf(obj, sourceKey);
        const at = (offset: number): SourcePos => ({ ...valuePos, col: valuePos.col + offset });
        const restWords: string[] = rest.map(([w]) => w);
        for (const [k, v, offset] of pairs) {
          if (freeForm && !module.spec.args[k] && !Object.values(module.spec.args).some((s) => s.aliases?.includes(k))) {
            restWords.push(`${k}=${v}`);
            continue;
          }
          args[k] = v;
          argPos[k] = { key: at(offset), value: at(offset + k.length + 1), quote };
        }
        if (restWords.length > 0) {
          if (!freeForm) fail(at(rest[0]?.[1] ?? 0), `${moduleName} takes key=value arguments, not free text: "${restWords[0]}"`);
          const text = source.slice(rest[0]?.[1] ?? 0).trim();
          // Keep the free-form text as written, minus the module's own key=value options.
          args[freeForm] = pairs.reduce((acc, [k, v]) => (module.spec.args[k] ? acc.replace(`${k}=${v}`, '').replace(/\s+$/, '') : acc), text).trim();
          argPos[freeForm] = { key: valuePos, value: at(rest[0]?.[1] ?? 0), quote };
        }
      } else if (module.spec.freeForm && (typeof source === 'number' || typeof source === 'boolean')) {
        args[module.spec.freeForm] = String(source);
      } else {
        fail(posOf(obj, sourceKey, 'value'), `${moduleName} takes a map of arguments or a string, got ${typeName(source)}`);
      }
    };
    take(obj[moduleName], moduleName);
    if (obj.args !== undefined) {
      if (!isObject(obj.args)) fail(posOf(obj, 'args', 'value'), '"args" takes a map');
      take(obj.args, 'args');
    }
    checkArgs(module, args, (key, which = 'key') => (key ? argPos[key]?.[which] : modulePos) ?? modulePos, 'load');
    for (const [k, v] of Object.entries(args)) {
      const at = { pos: argPos[k]?.value ?? modulePos, quote: argPos[k]?.quote ?? 0 };
      // assert's `that` lines are bare conditionals, as `when:` items are.
      if (k === 'that' && this.ctx.registry.isBuiltin('assert', module)) {
        const lines = Array.isArray(v) ? v : [v];
        lines.forEach((line, i) => {
          if (typeof line === 'string') checkCondition(line, Array.isArray(v) ? { pos: posOf(v, i) ?? at.pos, quote: quoteOf(v, i) } : at);
        });
      } else checkTemplates(v, at);
    }
    const register = str(obj, 'register');
    if (register !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(register)) {
      fail(posOf(obj, 'register', 'value'), `"${register}" is not a valid variable name for register`);
    }
    const numbers: Partial<Record<TemplatedNumber, Templated>> = {};
    const number = (key: TemplatedNumber): number | undefined => {
      const templated = templatedOf(obj, key);
      if (templated) numbers[key] = templated;
      return templated ? undefined : int(obj, key);
    };
    const retries = number('retries');
    const task: TaskNode = {
      kind: 'task',
      name: str(obj, 'name'),
      pos,
      scope,
      module: this.ctx.registry.shortName(moduleName),
      ...(moduleName !== this.ctx.registry.shortName(moduleName) ? { written: moduleName } : {}),
      args,
      argPos,
      loop: loopOf(obj, pos),
      register,
      notify: scope.notify?.names ?? [],
      notifyPos: scope.notify?.pos,
      changedWhen: conditions(obj, 'changed_when'),
      failedWhen: conditions(obj, 'failed_when'),
      until: conditions(obj, 'until'),
      retries: retries ?? (obj.until !== undefined && !numbers.retries ? 3 : undefined),
      delay: number('delay'),
      throttle: number('throttle'),
      timeout: number('timeout'),
      async: number('async'),
      poll: number('poll'),
      ...(Object.keys(numbers).length ? { templatedNumbers: numbers } : {}),
      listen: stringList(obj, 'listen'),
    };
    checkTemplateSource(task, module, this.ctx.registry, this.ctx.playbookDir);
    return task;
  }

  private suggest(key: string): string {
    return didYouMean(key, [...TASK_KEYWORDS, ...this.ctx.registry.names()]);
  }
}
