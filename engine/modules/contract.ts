// The contract every module keeps, built-in or a user's own (`modules/<name>.ts|.js` beside a playbook or in a role).
//
// A module only plans: `plan()` reads the host and returns what it would change. The runner calls `apply()` to make
// the change, or, in --check, stops before it. One code path for both, so check mode cannot drift from a real run.

import type { BecomeOptions, Connection } from '../connection/connection.ts';
import type { FileDiff, FileEffect } from '../core/effects.ts';
import type { ProgressInfo } from '../core/events.ts';

export type { FileDiff, FileEffect } from '../core/effects.ts';

export type ArgType = 'str' | 'bool' | 'int' | 'float' | 'path' | 'mode' | 'list' | 'dict' | 'raw';

export interface ArgSpec {
  type: ArgType;
  required?: boolean;
  default?: unknown;
  choices?: readonly (string | number | boolean)[];
  aliases?: readonly string[];
  /** For lists: the type of each element. */
  elements?: ArgType;
  /** The value is a secret: never printed, never in a diff. */
  noLog?: boolean;
  /** null is a value (debug's `msg: "{{ none }}"` prints null), not "not given". */
  keepNull?: boolean;
  /** The value's own rule (get_url's checksum format): what is wrong with it, or undefined. Checked at load time for a
   * literal value (so the mistake is reported at its file:line:col before any host is touched), else at run time. */
  check?: (value: unknown) => string | undefined;
  description?: string;
}

export interface ModuleSpec {
  args: Record<string, ArgSpec>;
  /** Any argument name is taken as it is (set_fact): `args` then lists only the known ones. */
  anyArgs?: boolean;
  /** The argument a free-form string fills (`command: ls -l` → cmd). */
  freeForm?: string;
  mutuallyExclusive?: readonly (readonly string[])[];
  requiredOneOf?: readonly (readonly string[])[];
  /** [arg, value, requires]: when `arg` equals `value`, every name in `requires` must be given. */
  requiredIf?: readonly (readonly [string, unknown, readonly string[]])[];
}

export interface Plan {
  changed: boolean;
  /** What the task does or would do, in a few words ("create /etc/x 0644"). */
  msg?: string;
  diff?: FileDiff[];
  /** Values for `register` (merged with changed/failed/skipped by the runner). */
  result?: Record<string, unknown>;
  /** Facts the task sets on the host (set_fact, setup). */
  facts?: Record<string, unknown>;
  /** The state this plan leaves behind, for the --check overlay. */
  effects?: FileEffect[];
  /**
   * Set when the outcome cannot be known without doing it (a command in --check): the task is reported skipped
   * with this reason, unless the task says `check_mode: false`.
   */
  unpredictable?: string;
  /** Printed as warnings for the host (get_url without a checksum), as Ansible prints a module's `warnings`. */
  warnings?: string[];
  /** The module decided not to act (unarchive's `creates` exists): the task is reported skipped with this reason. */
  skipped?: string;
  /** Secret values the module came upon (a password typed without echo): masked in every output of the run. */
  secrets?: string[];
  /** The only step that writes. Called only when `changed` and not in --check. May return more result values. */
  apply?: () => Promise<Record<string, unknown> | void>;
  /** apply() is work that changes nothing (wait_for's wait): it runs although `changed` is false, never in --check. */
  applyUnchanged?: boolean;
}

export interface ModuleContext {
  /** The host the task acts on (the delegated one under delegate_to). */
  conn: Connection;
  /** This machine, for modules that make files on the controller (pki). */
  controller: Connection;
  hostName: string;
  /** Every variable of the host, resolved (templates render with these). */
  vars: Readonly<Record<string, unknown>>;
  /** --diff: compute `Plan.diff`. (There is no `check`: in --check `conn` and `controller` answer reads with what
   * earlier tasks planned, and the runner does not call apply(); a module has one code path for both.) */
  diff: boolean;
  become?: BecomeOptions;
  /** Resolve a `src:` the way Ansible does: the role's files/, templates/ or vars/ first, then beside the playbook. */
  findFile(name: string, kind: 'files' | 'templates' | 'vars'): string;
  /** Evaluate a Jinja expression (`debug: var:`) over the host's variables; throws on an undefined name. */
  evaluate(expression: string): unknown;
  /** One conditional as `when:` reads it (a bool, or a Jinja expression): assert's `that`. */
  condition(conditional: unknown): boolean;
  /** Render a Jinja template file's text with the host's variables and Ansible's template settings. */
  renderTemplate(text: string, file: string, extra?: Record<string, unknown>): string;
  /**
   * Drop the host's connection and open a new one (after a reboot broke it); later tasks use the new one too.
   * Rejects while the host cannot be reached, so a module may call it until it succeeds.
   */
  reconnect?(): Promise<Connection>;
  /** Verbose log line (-v). */
  log(message: string): void;
  /** How far a long step has got (a download's bytes), for the live view; absent where nobody watches. */
  progress?(info: ProgressInfo): void;
  /** Aborted when the run is interrupted (Ctrl-C): a module waiting on the controller stops waiting. */
  interrupted?: AbortSignal;
  /** async_status: a job this run started on this host (`async` with `poll: 0`), or undefined. */
  asyncJob?(jid: string): AsyncJobView | undefined;
  forgetAsyncJob?(jid: string): void;
}

/** A background job as async_status sees it: running, or ended with its task's result. */
export type AsyncJobView = { finished: false } | { finished: true; failed: boolean; changed: boolean; result: Record<string, unknown>; msg?: string };

export interface Module<A extends object = object> {
  /** Set by the registry from the file name for user modules. */
  name: string;
  spec: ModuleSpec;
  /** Runs on the controller alone (debug, set_fact, assert): no connection is opened for it. */
  controllerOnly?: boolean;
  plan(args: A, ctx: ModuleContext): Promise<Plan>;
}

const MODULE_ERROR = Symbol.for('kplay.ModuleError');

/** A task failed on its host (not bad input, not unreachable). `result` goes to register. */
export class ModuleError extends Error {
  constructor(
    message: string,
    readonly result: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ModuleError';
  }

  /**
   * A ModuleError made by another copy of this file is one too: a user's module imports `kplay/module` from the
   * sources while the runner may run from its bundle (bin/kplay.js).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [MODULE_ERROR]?: boolean })[MODULE_ERROR] === true;
  }
}
Object.defineProperty(ModuleError.prototype, MODULE_ERROR, { value: true });

/** Identity helper that keeps a module's argument type checked against its spec. */
export function defineModule<A extends object>(module: Module<A>): Module<A> {
  return module;
}
