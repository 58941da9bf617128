// The typed model a playbook loads into. Everything here has been validated; positions point back into the YAML.

import type { SourcePos } from '../core/source.ts';

/** A role as used in one play: its files, variables and tasks, loaded once. */
export interface RoleInstance {
  name: string;
  path: string;
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  /** Parameters given where the role is used (`roles: [{role: x, port: 80}]`, include_role vars). */
  params: Record<string, unknown>;
  /** Roles of meta/main.yml dependencies, run before this one. */
  dependencies: RoleInstance[];
  /** The handlers file it was loaded with (`handlers_from`, else main). */
  handlersFrom: string;
}

/** Keywords a task inherits from the blocks, roles, includes and play around it. */
export interface Inherited {
  when: Condition[];
  tags: string[];
  vars: Record<string, unknown>;
  become?: boolean;
  becomeUser?: string;
  ignoreErrors?: boolean;
  delegateTo?: string;
  runOnce?: boolean;
  checkMode?: boolean;
  noLog?: boolean;
  /** `diff: false` hides this task's changes even with --diff. */
  diff?: boolean;
  environment?: Record<string, unknown>;
  anyErrorsFatal?: boolean;
  ignoreUnreachable?: boolean;
  /** Keywords written as `{{ }}`: rendered per host when the task runs (engine/run/keywords.ts). */
  templated?: Partial<Record<TemplatedKeyword, Templated>>;
  /** A block's `notify:` (a task's own replaces it). */
  notify?: { names: string[]; pos?: SourcePos };
  role?: RoleInstance;
}

/** Inherited keywords that take true/false and may be a template. */
export type TemplatedKeyword = 'become' | 'ignoreErrors' | 'runOnce' | 'checkMode' | 'noLog' | 'diff' | 'anyErrorsFatal' | 'ignoreUnreachable';
/** Task keywords that take a whole number and may be a template. */
export type TemplatedNumber = 'retries' | 'delay' | 'throttle' | 'timeout' | 'async' | 'poll';

export interface Templated {
  expr: string;
  pos: SourcePos;
  /** The keyword as written, for messages. */
  key: string;
}

export interface Condition {
  /** As written: a YAML boolean, or text (a bare Jinja expression, or one with `{{ }}`). */
  expr: string | boolean;
  pos: SourcePos;
}

interface NodeBase {
  name?: string;
  pos: SourcePos;
  /** This node's own keywords merged over what it inherits. */
  scope: Inherited;
}

/** `loop:` or `with_<lookup>:` with its `loop_control`. */
export interface Loop {
  /** As written: a list or an expression (`loop`), or the lookup's terms (`with_*`). */
  items: unknown;
  pos: SourcePos;
  /** `with_<name>`: the lookup that makes the items from the terms. */
  with?: string;
  loopVar: string;
  indexVar?: string;
  label?: string;
  /** Seconds between items (may be a template). */
  pause?: number | string;
  /** `ansible_loop` with index, first, last, previtem... (may be a template). */
  extended?: boolean | string;
  extendedAllItems?: boolean | string;
}

export interface TaskNode extends NodeBase {
  kind: 'task';
  /** The module's name without a collection prefix (`copy` for `ansible.builtin.copy`). */
  module: string;
  /** The module's name as written, when it had a prefix (a task without a name is shown by it). */
  written?: string;
  /** Raw arguments (may hold `{{ }}`), after free-form and k=v parsing. */
  args: Record<string, unknown>;
  argPos: Record<string, { key: SourcePos; value: SourcePos; quote?: number }>;
  loop?: Loop;
  register?: string;
  notify: string[];
  notifyPos?: SourcePos;
  changedWhen?: Condition[];
  failedWhen?: Condition[];
  until?: Condition[];
  retries?: number;
  delay?: number;
  throttle?: number;
  /** Seconds any one command of the task may take before the task fails. */
  timeout?: number;
  /** `async`: seconds the task may run (in the background when `poll` is 0: engine/run/async-jobs.ts). */
  async?: number;
  /** `poll`: with async, 0 starts the task and goes on (async_status reads it later); else wait for it (default 15). */
  poll?: number;
  /** Number keywords written as `{{ }}`, rendered per host when the task runs. */
  templatedNumbers?: Partial<Record<TemplatedNumber, Templated>>;
  /** Handlers only: topics this handler also answers to. */
  listen: string[];
}

export interface BlockNode extends NodeBase {
  kind: 'block';
  block: Node[];
  rescue: Node[];
  always: Node[];
}

/** `include_tasks`: resolved per host at run time (the file name may use variables). */
export interface IncludeTasksNode extends NodeBase {
  kind: 'include_tasks';
  file: string;
  /** The folder relative file names resolve against. */
  baseDir: string;
  loop?: TaskNode['loop'];
}

/** Which file of a role's tasks, vars, defaults and handlers folders to load (`tasks_from`...; `main` when not said). */
export interface RoleFrom {
  tasks: string;
  vars: string;
  defaults: string;
  handlers: string;
}

export const ROLE_MAIN: RoleFrom = { tasks: 'main', vars: 'main', defaults: 'main', handlers: 'main' };

/** `include_role`: loaded when reached. */
export interface IncludeRoleNode extends NodeBase {
  kind: 'include_role';
  role: string;
  from: RoleFrom;
  params: Record<string, unknown>;
  baseDir: string;
}

export interface MetaNode extends NodeBase {
  kind: 'meta';
  action: 'flush_handlers' | 'end_play' | 'end_host' | 'noop' | 'clear_host_errors' | 'refresh_inventory';
}

export type Node = TaskNode | BlockNode | IncludeTasksNode | IncludeRoleNode | MetaNode;

/** What a load brought in: task nodes, and the handlers and role instances that come with them. */
export interface Loaded {
  nodes: Node[];
  handlers: TaskNode[];
  roles: RoleInstance[];
}

/**
 * Loads what a play's dynamic includes name at run time, for that play's folder and role path. It returns what it
 * loaded (the caller keeps it); the play itself is never changed. `known`: the roles the play has so far.
 */
export interface PlayIncludes {
  includeTasks(file: string, node: IncludeTasksNode, scope: Inherited, known: readonly RoleInstance[]): Promise<Loaded>;
  includeRole(role: string, node: IncludeRoleNode, known: readonly RoleInstance[]): Promise<Loaded>;
}

/** One `vars_prompt` entry: asked on the terminal before the run unless `-e` gives the variable. */
export interface VarPrompt {
  name: string;
  prompt: string;
  default?: string;
  /** No echo (the default, as in Ansible). */
  private: boolean;
  confirm: boolean;
  encrypt?: string;
  salt?: string;
  saltSize?: number;
  /** The answer is data, never rendered as a template. */
  unsafe: boolean;
  pos: SourcePos;
}

export interface Play {
  name: string;
  pos: SourcePos;
  /** The host pattern as written: it may hold `{{ }}` (rendered with the play's vars and -e before the run). */
  hosts: string;
  hostsPos: SourcePos;
  /** Folder of the playbook file the play is in (playbook_dir, relative paths). */
  baseDir: string;
  vars: Record<string, unknown>;
  varsFiles: { path: string; pos: SourcePos }[];
  varsPrompt: VarPrompt[];
  /** A boolean, or `{{ }}` rendered with the play's vars and -e before any host is touched (engine/run/play-hosts.ts). */
  gatherFacts: boolean | Templated;
  serial: (number | string)[];
  strategy: 'linear' | 'free';
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  forceHandlers: boolean;
  /** Play-level `connection:` and `remote_user:`, which override the inventory's. */
  connection?: string;
  remoteUser?: string;
  /** Play-level `port:` (may be templated); a host's ansible_port wins, as in Ansible. */
  port?: number | string;
  /** pre_tasks, role tasks + tasks, post_tasks: handlers are flushed after each section. */
  sections: Node[][];
  handlers: TaskNode[];
  /** Roles of the play: their defaults and vars are visible to every task of the play (Ansible's public roles). */
  roles: RoleInstance[];
  scope: Inherited;
  /** Loads include_tasks/include_role at run time. */
  includes: PlayIncludes;
}

export interface Playbook {
  path: string;
  plays: Play[];
}
