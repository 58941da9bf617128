// The run's expression language: one Jinja (engine/jinja/) per playbook run, the scope of a host's variables for a
// task (with its role's and playbook's search path), module arguments rendered to plain values with `omit` removed,
// and a plain view of the variables for modules and EJS templates. No JavaScript is evaluated here.

import { join } from 'node:path';
import { Jinja, LazyMap, OMIT, Scope, TemplateError, toPlain, type VariableSource } from '../jinja/index.ts';

let current: Jinja | undefined;
let warningSink: ((message: string) => void) | undefined;

/** Start a run's language: a new registry (users' plugins are per run) and empty caches of parsed text. */
export function newRunLanguage(): Jinja {
  current = new Jinja({ warn: (message) => warningSink?.(message) });
  return current;
}

/** The current run's Jinja (one is made on first use, e.g. by a module test). */
export function language(): Jinja {
  return current ?? newRunLanguage();
}

/** Where the run's language warnings go (the reporter, as warning events). */
export function onLanguageWarning(sink: ((message: string) => void) | undefined): void {
  warningSink = sink;
}

export interface ScopeDirs {
  /** The task's role folder: its files/ and templates/ come first. */
  roleDir?: string;
  playbookDir?: string;
}

/** A host's variables for one task: lazy, rendered when read. */
export function scopeOf(vars: Record<string, unknown> | VariableSource, dirs: ScopeDirs = {}): Scope {
  const { roleDir, playbookDir } = dirs;
  return language().createScope(vars, {
    searchPath: (kind) => [
      ...(roleDir ? [join(roleDir, kind), roleDir] : []),
      ...(playbookDir ? [join(playbookDir, kind), playbookDir] : []),
      ...(roleDir || playbookDir ? [] : [process.cwd()]),
    ],
    basedir: playbookDir,
  });
}

/** A YAML value rendered with Jinja, as plain JavaScript values (no unsafe marks, integral floats as numbers). */
export function renderPlain(value: unknown, scope: Scope): unknown {
  try {
    return toPlain(language().renderValue(value, scope));
  } catch (error) {
    throw asTemplateError(error, value);
  }
}

/** `omit` removed wherever it is inside lists and maps of a module argument, as Ansible does. */
export function dropOmit(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== OMIT).map(dropOmit);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== OMIT) out[k] = dropOmit(v);
    return out;
  }
  return value;
}

/** One conditional (`when:` item, changed_when, assert's `that` line) as Ansible's _check_conditional. */
export function conditionHolds(condition: unknown, scope: Scope): boolean {
  try {
    return language().condition(condition, scope);
  } catch (error) {
    throw asTemplateError(error, condition);
  }
}

/** A bare expression's value, plain (`debug: var:`). */
export function evaluatePlain(expr: string, scope: Scope): unknown {
  try {
    return toPlain(language().evaluate(expr, scope));
  } catch (error) {
    throw asTemplateError(error, expr);
  }
}

/** Is this the error of an undefined variable (debug shows such a variable as not defined)? */
export function isUndefinedError(error: unknown): boolean {
  return error instanceof TemplateError && /is undefined|has no attribute/.test(error.message);
}

/**
 * The variables as a plain object for modules and EJS templates: each read is rendered and unwrapped; an unknown
 * name is simply absent.
 */
export function plainView(scope: Scope, vars: Record<string, unknown>): Record<string, unknown> {
  const read = (key: string): unknown => plainLazy(scope.lookup(key));
  return new Proxy(vars, {
    get: (target, key) => (typeof key === 'string' && key in target ? read(key) : undefined),
    getOwnPropertyDescriptor: (target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(target, key);
      return d && typeof key === 'string' ? { ...d, value: read(key) } : d;
    },
  });
}

/** A plain value; a lazy map (`hostvars`, a host's variables in it) as a read-only object read on demand. */
function plainLazy(v: unknown): unknown {
  if (v === undefined) return undefined;
  if (!(v instanceof LazyMap)) return toPlain(v);
  const map = v;
  return new Proxy(Object.create(null) as Record<string, unknown>, {
    get: (_target, key) => (typeof key === 'string' ? plainLazy(map.get(key)) : undefined),
    has: (_target, key) => typeof key === 'string' && map.keys().includes(key),
    ownKeys: () => map.keys(),
    getOwnPropertyDescriptor: (_target, key) =>
      typeof key === 'string' && map.keys().includes(key) ? { value: plainLazy(map.get(key)), enumerable: true, configurable: true } : undefined,
  });
}

function asTemplateError(error: unknown, text: unknown): unknown {
  if (error instanceof TemplateError || !(error instanceof Error) || error.name === 'InputError') return error;
  if (error.name === 'JinjaRuntimeError') return new TemplateError(error.message, String(text));
  return error;
}

export { OMIT, TemplateError };
