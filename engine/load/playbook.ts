// A playbook file → plays, with roles resolved and every task checked, before any host is touched.

import { language, newRunLanguage } from '../vars/language.ts';
import { loadPlugins } from '../jinja/index.ts';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ModuleRegistry } from '../modules/registry.ts';
import { PlayParts } from './play-parts.ts';
import { RoleLoader, roleEntry } from './roles.ts';
import { ROLE_MAIN, type Inherited, type Node, type Play, type Playbook, type Templated, type VarPrompt } from './model.ts';
import { InputError, type SourcePos } from '../core/source.ts';
import { checkTemplates, varsMap } from './tasks.ts';
import { isTemplated } from './args.ts';
import { didYouMean } from './suggest.ts';
import { displayPath, isObject, loadYamlFile, posOf, quoteOf, sharePositions, typeName, type YamlObject, type YamlValue } from '../core/yaml.ts';

const PLAY_KEYWORDS = new Set([
  'name', 'hosts', 'vars', 'vars_files', 'roles', 'pre_tasks', 'tasks', 'post_tasks', 'handlers', 'become',
  'become_user', 'become_method', 'gather_facts', 'serial', 'strategy', 'max_fail_percentage', 'any_errors_fatal',
  'force_handlers', 'tags', 'environment', 'connection', 'remote_user', 'port', 'ignore_errors', 'no_log', 'check_mode',
  'run_once', 'ignore_unreachable', 'order', 'vars_prompt',
]);

/** Play keywords its tasks inherit. */
const INHERITED_PLAY_KEYWORDS = new Set([
  'become', 'become_user', 'become_method', 'tags', 'environment', 'ignore_errors', 'no_log', 'check_mode', 'run_once',
  'any_errors_fatal',
]);

export interface LoadOptions {
  registry: ModuleRegistry;
  /** Extra role folders (kplay.yml roles_path). */
  rolesPath?: string[];
}

function fail(pos: SourcePos | undefined, message: string): never {
  throw new InputError(pos, message);
}

export async function loadPlaybook(path: string, options: LoadOptions): Promise<Playbook> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new InputError(undefined, `playbook not found: ${path}`);
  // One language per run: users' filter and test plugins register in it as their folders load.
  newRunLanguage();
  return { path: absolute, plays: await loadPlays(absolute, options, []) };
}

async function loadPlays(path: string, options: LoadOptions, stack: string[]): Promise<Play[]> {
  const data = loadYamlFile(path);
  const file = displayPath(path);
  if (!Array.isArray(data)) fail(data && typeof data === 'object' ? posOf(data) : { file, line: 1, col: 1 }, 'a playbook must be a list of plays');
  const baseDir = dirname(path);
  await options.registry.loadDir(join(baseDir, 'modules'));
  await options.registry.loadDir(join(baseDir, 'library'));
  language().addPlugins(await loadPlugins(baseDir));
  const ctx = new RoleLoader(options.registry, baseDir, options.rolesPath ?? []);
  const plays: Play[] = [];
  for (let i = 0; i < data.length; i++) {
    const entry = data[i];
    const pos = posOf(data, i) as SourcePos;
    if (!isObject(entry)) fail(pos, `a play must be a map, got ${typeName(entry)}`);
    if ('import_playbook' in entry) {
      const target = entry.import_playbook;
      if (typeof target !== 'string') fail(posOf(entry, 'import_playbook', 'value'), 'import_playbook takes a file name');
      const targetPath = resolve(baseDir, target);
      if (!existsSync(targetPath)) fail(posOf(entry, 'import_playbook', 'value'), `playbook not found: ${target}`);
      if (stack.includes(targetPath)) fail(pos, `import_playbook loop: ${target}`);
      plays.push(...(await loadPlays(targetPath, options, [...stack, path])));
      continue;
    }
    plays.push(await parsePlay(entry, ctx, baseDir));
  }
  return plays;
}

function boolOf(obj: YamlObject, key: string, fallback: boolean): boolean {
  const value = obj[key];
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  return fail(posOf(obj, key, 'value'), `"${key}" takes true or false, got ${JSON.stringify(value)}`);
}

function taskList(obj: YamlObject, key: string): YamlValue[] {
  const value = obj[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail(posOf(obj, key, 'value'), `"${key}" takes a list of tasks, got ${typeName(value)}`);
  return value;
}

async function parsePlay(obj: YamlObject, ctx: RoleLoader, baseDir: string): Promise<Play> {
  const pos = posOf(obj) as SourcePos;
  for (const key of Object.keys(obj)) {
    if (!PLAY_KEYWORDS.has(key)) {
      const hint = ['block', 'command', 'shell', 'copy', 'file', 'template'].includes(key) ? ' (tasks go under "tasks:")' : didYouMean(key, PLAY_KEYWORDS);
      fail(posOf(obj, key), `unknown play keyword "${key}"${hint}`);
    }
  }
  const hosts = obj.hosts;
  if (hosts === undefined) fail(pos, 'a play needs "hosts"');
  const hostsPos = posOf(obj, 'hosts', 'value') ?? pos;
  const hostPattern = Array.isArray(hosts) ? hosts.map(String).join(',') : typeof hosts === 'string' ? hosts : fail(hostsPos, '"hosts" takes a pattern or a list');
  // As Ansible ("Hosts list cannot be empty"): an empty pattern is a mistake, never "no hosts".
  if (hostPattern.trim() === '') fail(hostsPos, '"hosts" is empty: name a host, a group or a pattern (all, web:&prod...)');
  const parts = new PlayParts();
  const base: Inherited = { when: [], tags: [], vars: {} };
  const keywords: YamlObject = Object.fromEntries(Object.entries(obj).filter(([k]) => INHERITED_PLAY_KEYWORDS.has(k)));
  sharePositions(obj, keywords);
  const scope = ctx.tasks.scopeFor(keywords, base);
  const vars = varsMap(obj, 'vars');
  checkTemplates(vars, { pos: posOf(obj, 'vars', 'value') ?? pos, quote: quoteOf(obj, 'vars') });
  const varsFilesRaw = obj.vars_files ?? [];
  const varsFilesList = Array.isArray(varsFilesRaw) ? varsFilesRaw : [varsFilesRaw];
  const varsFiles = varsFilesList.map((f, i) => {
    const fpos = (Array.isArray(varsFilesRaw) ? posOf(varsFilesRaw, i) : posOf(obj, 'vars_files', 'value')) as SourcePos;
    if (typeof f !== 'string') fail(fpos, `vars_files takes file names, got ${typeName(f)}`);
    if (!f.includes('{{')) {
      if (!existsSync(resolve(baseDir, f))) fail(fpos, `vars file not found: ${f}`);
      // Read it now (the run reads it again per host) so its syntax errors come before any host is touched.
      const data = loadYamlFile(resolve(baseDir, f));
      if (data !== null && !isObject(data)) fail(fpos, `vars file ${f} must be a map, got ${typeName(data)}`);
    }
    return { path: f, pos: fpos };
  });

  const varsPrompt = parseVarsPrompt(obj);
  const preTasks = await ctx.tasks.parseList(taskList(obj, 'pre_tasks'), scope, baseDir, parts);
  const roleNodes: Node[] = [];
  const roles = obj.roles ?? [];
  if (!Array.isArray(roles)) fail(posOf(obj, 'roles', 'value'), '"roles" takes a list');
  for (let i = 0; i < roles.length; i++) {
    const entry = roles[i];
    const rpos = posOf(roles, i) as SourcePos;
    if (typeof entry === 'string') {
      roleNodes.push(...(await ctx.loadRole(entry, {}, rpos, scope, ROLE_MAIN, parts)));
    } else if (isObject(entry) && typeof (entry.role ?? entry.name) === 'string') {
      const { name, params, scope: keywords } = roleEntry(entry);
      roleNodes.push(...(await ctx.loadRole(name, params, posOf(entry, entry.role !== undefined ? 'role' : 'name', 'value') as SourcePos, ctx.tasks.scopeFor(keywords, scope), ROLE_MAIN, parts)));
    } else {
      fail(rpos, 'a role entry is a name or a map with "role"');
    }
  }
  const tasks = await ctx.tasks.parseList(taskList(obj, 'tasks'), scope, baseDir, parts);
  const postTasks = await ctx.tasks.parseList(taskList(obj, 'post_tasks'), scope, baseDir, parts);
  const ownHandlers = await ctx.tasks.parseList(taskList(obj, 'handlers'), scope, baseDir, parts);
  for (const h of ownHandlers) if (h.kind !== 'task') fail(h.pos, 'a handler must be a task (no blocks or includes)');
  const handlers = [...parts.handlers, ...ownHandlers.filter((h) => h.kind === 'task')];
  checkNotify([preTasks, roleNodes, tasks, postTasks, handlers], handlers);

  const serialRaw = obj.serial;
  const serial = serialRaw === undefined ? [] : (Array.isArray(serialRaw) ? serialRaw : [serialRaw]).map((s) => {
    if (typeof s === 'number' || (typeof s === 'string' && /^\d+%?$/.test(s))) return s;
    return fail(posOf(obj, 'serial', 'value'), `"serial" takes numbers or percentages, got ${JSON.stringify(s)}`);
  });
  const strategy = obj.strategy ?? 'linear';
  if (strategy !== 'linear' && strategy !== 'free') fail(posOf(obj, 'strategy', 'value'), '"strategy" is linear or free');
  const mfp = obj.max_fail_percentage;
  if (mfp !== undefined && (typeof mfp !== 'number' || mfp < 0 || mfp > 100)) {
    fail(posOf(obj, 'max_fail_percentage', 'value'), '"max_fail_percentage" takes a number from 0 to 100');
  }
  const gatherValue = obj.gather_facts ?? true;
  const gatherPos = posOf(obj, 'gather_facts', 'value') as SourcePos;
  let gather: boolean | Templated;
  if (typeof gatherValue === 'boolean') gather = gatherValue;
  else if (typeof gatherValue === 'string' && isTemplated(gatherValue)) {
    checkTemplates(gatherValue, { pos: gatherPos, quote: quoteOf(obj, 'gather_facts') });
    gather = { expr: gatherValue, pos: gatherPos, key: 'gather_facts' };
  } else gather = fail(gatherPos, '"gather_facts" takes true or false');
  const name = obj.name === undefined ? hostPattern : String(obj.name);
  return {
    name,
    pos,
    hosts: hostPattern,
    hostsPos,
    baseDir,
    vars,
    varsFiles,
    varsPrompt,
    gatherFacts: gather,
    serial,
    strategy,
    maxFailPercentage: mfp,
    anyErrorsFatal: boolOf(obj, 'any_errors_fatal', false),
    forceHandlers: boolOf(obj, 'force_handlers', false),
    connection: obj.connection === undefined ? undefined : String(obj.connection),
    remoteUser: obj.remote_user === undefined ? undefined : String(obj.remote_user),
    port: obj.port === undefined || obj.port === null ? undefined : typeof obj.port === 'number' ? obj.port : String(obj.port),
    sections: [preTasks, [...roleNodes, ...tasks], postTasks],
    handlers,
    roles: parts.roles,
    scope,
    includes: ctx,
  };
}

const PROMPT_KEYS = ['name', 'prompt', 'default', 'private', 'confirm', 'encrypt', 'salt', 'salt_size', 'unsafe'];
const ENCRYPTIONS = ['sha512_crypt', 'sha256_crypt'];

/** `vars_prompt:` entries, checked now: the questions are asked before the run (engine/prompt.ts). */
function parseVarsPrompt(obj: YamlObject): VarPrompt[] {
  const raw = obj.vars_prompt;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return fail(posOf(obj, 'vars_prompt', 'value'), '"vars_prompt" takes a list of {name, prompt, ...}');
  return raw.map((entry, i) => {
    const pos = posOf(raw, i) as SourcePos;
    if (!isObject(entry)) return fail(pos, `a vars_prompt entry is a map with "name", got ${typeName(entry)}`);
    for (const k of Object.keys(entry)) {
      if (!PROMPT_KEYS.includes(k)) fail(posOf(entry, k), `unknown vars_prompt key "${k}"${didYouMean(k, PROMPT_KEYS)}`);
    }
    const name = entry.name;
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return fail(posOf(entry, 'name', 'value') ?? pos, 'a vars_prompt entry needs "name", a variable name');
    const flag = (key: string, fallback: boolean): boolean => {
      const v = entry[key];
      if (v === undefined) return fallback;
      if (typeof v === 'boolean') return v;
      return fail(posOf(entry, key, 'value'), `"${key}" takes true or false, got ${JSON.stringify(v)}`);
    };
    const text = (key: string): string | undefined => (entry[key] === undefined || entry[key] === null ? undefined : String(entry[key]));
    const encrypt = text('encrypt');
    if (encrypt !== undefined && !ENCRYPTIONS.includes(encrypt)) fail(posOf(entry, 'encrypt', 'value'), `"encrypt" is one of ${ENCRYPTIONS.join(', ')}`);
    const saltSize = entry.salt_size;
    if (saltSize !== undefined && (typeof saltSize !== 'number' || !Number.isInteger(saltSize) || saltSize < 1 || saltSize > 16)) {
      fail(posOf(entry, 'salt_size', 'value'), '"salt_size" takes a whole number from 1 to 16');
    }
    return {
      name,
      prompt: text('prompt') ?? name,
      default: text('default'),
      private: flag('private', true),
      confirm: flag('confirm', false),
      encrypt,
      salt: text('salt'),
      saltSize: saltSize as number | undefined,
      unsafe: flag('unsafe', false),
      pos,
    };
  });
}

/** Every `notify:` must name a handler or a `listen:` topic of the play. */
function checkNotify(sections: Node[][], handlers: Play['handlers']): void {
  const known = new Set(handlers.flatMap((h) => [h.name ?? '', ...h.listen]));
  const visit = (nodes: Node[]): void => {
    for (const node of nodes) {
      if (node.kind === 'task') {
        for (const name of node.notify) {
          if (!name.includes('{{') && !known.has(name)) {
            throw new InputError(node.notifyPos ?? node.pos, `notify: no handler named "${name}" in this play`);
          }
        }
      } else if (node.kind === 'block') {
        visit(node.block);
        visit(node.rescue);
        visit(node.always);
      }
    }
  };
  sections.forEach(visit);
}
