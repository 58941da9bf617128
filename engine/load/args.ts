// Module arguments checked against the module's spec: names, types, choices, required and exclusive sets.
// At load time only literal values are checked (a `{{ }}` value is known at run time); at run time every value is
// coerced to its type, so modules receive typed arguments.

import type { ArgSpec, ArgType, Module } from '../modules/contract.ts';
import { InputError, type SourcePos } from '../core/source.ts';
import { isSymbolicMode } from '../core/mode.ts';
import { didYouMean } from './suggest.ts';
import { typeName } from '../core/yaml.ts';
import { isGiven } from '../core/given.ts';

export type Phase = 'load' | 'run';

/** Ansible's placeholder that removes an argument: `mode: "{{ m | default(omit) }}"`. */
export { OMIT } from '../jinja/index.ts';
import { OMIT } from '../jinja/index.ts';

const TRUE = new Set(['yes', 'on', 'true', '1', 'y', 't']);
const FALSE = new Set(['no', 'off', 'false', '0', 'n', 'f']);

export function isTemplated(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%');
  if (Array.isArray(value)) return value.some(isTemplated);
  if (value !== null && typeof value === 'object') return Object.values(value).some(isTemplated);
  return false;
}

class Mistyped extends Error {}

function coerce(value: unknown, type: ArgType, elements: ArgType | undefined): unknown {
  switch (type) {
    case 'raw':
      return value;
    case 'str':
    case 'path':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new Mistyped(`expected a string, got ${typeName(value)}`);
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
      if (typeof value === 'string') {
        const v = value.toLowerCase();
        if (TRUE.has(v)) return true;
        if (FALSE.has(v)) return false;
      }
      throw new Mistyped(`expected a boolean (true/false), got ${JSON.stringify(value)}`);
    case 'int':
    case 'float': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n === 'number' && Number.isFinite(n) && (type === 'float' || Number.isInteger(n))) return n;
      throw new Mistyped(`expected ${type === 'int' ? 'a whole number' : 'a number'}, got ${JSON.stringify(value)}`);
    }
    case 'mode':
      // A YAML 1.1 octal (0644) arrives as a number already; a string is read as octal, as Ansible does.
      if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0o7777) return value;
      if (typeof value === 'string' && /^0?[0-7]{3,4}$/.test(value)) return parseInt(value, 8);
      // A symbolic mode stays a string: it is computed against the path's current mode (file-attrs.ts).
      if (typeof value === 'string' && isSymbolicMode(value)) return value;
      throw new Mistyped(`expected an octal mode such as '0644' or a symbolic one such as 'u+rwX,g-w,o=', got ${JSON.stringify(value)}`);
    case 'list': {
      const list = Array.isArray(value)
        ? value
        : typeof value === 'string'
          ? value.split(',').map((s) => s.trim()).filter((s) => s !== '')
          : [value];
      return elements ? list.map((item) => coerce(item, elements, undefined)) : list;
    }
    case 'dict':
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
      throw new Mistyped(`expected a map, got ${typeName(value)}`);
  }
}

/** What checkArgs and masking need of a spec, worked out once per module (they run for every task on every host). */
interface SpecIndex {
  aliases: Map<string, string>;
  required: string[];
  defaults: Array<[string, unknown]>;
  noLog: string[];
}
const specIndexes = new WeakMap<Module['spec'], SpecIndex>();

function specIndex(module: Module): SpecIndex {
  let index = specIndexes.get(module.spec);
  if (!index) {
    index = { aliases: new Map(), required: [], defaults: [], noLog: [] };
    for (const [name, spec] of Object.entries(module.spec.args)) {
      for (const alias of spec.aliases ?? []) if (!index.aliases.has(alias)) index.aliases.set(alias, name);
      if (spec.required) index.required.push(name);
      if (spec.default !== undefined) index.defaults.push([name, spec.default]);
      if (spec.noLog) index.noLog.push(name);
    }
    specIndexes.set(module.spec, index);
  }
  return index;
}

function canonicalName(module: Module, key: string): string | undefined {
  if (module.spec.args[key]) return key;
  return specIndex(module).aliases.get(key);
}

/** The spec of an argument given by its name or an alias. */
export function argSpec(module: Module, key: string): ArgSpec | undefined {
  const name = canonicalName(module, key);
  return name === undefined ? undefined : module.spec.args[name];
}

/** The module's arguments that are secret (spec `noLog`). */
export const noLogArgs = (module: Module): readonly string[] => specIndex(module).noLog;

/**
 * Check (phase 'load') or check and coerce (phase 'run') one task's arguments. `at` gives the position of an
 * argument's key or value, or of the task when the argument is missing.
 */
export function checkArgs(
  module: Module,
  raw: Record<string, unknown>,
  at: (key?: string, which?: 'key' | 'value') => SourcePos | undefined,
  phase: Phase,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fail = (pos: SourcePos | undefined, message: string): never => {
    throw new InputError(pos, `${module.name}: ${message}`);
  };
  for (const key in raw) {
    if (!Object.hasOwn(raw, key)) continue;
    const value = raw[key];
    if (value === OMIT) continue;
    const name = canonicalName(module, key);
    // null is "not given", as in Ansible, except for set_fact's names and arguments that take it as a value.
    if (!isGiven(value) && phase === 'run' && !(name ? module.spec.args[name]?.keepNull : module.spec.anyArgs)) continue;
    if (!name) {
      if (module.spec.anyArgs) {
        out[key] = value;
        continue;
      }
      const known = Object.keys(module.spec.args).sort();
      const hint = didYouMean(key, known) || ` (known: ${known.join(', ') || 'none'})`;
      fail(at(key, 'key'), `unknown argument "${key}"${hint}`);
    }
    const spec = module.spec.args[name as string] as ArgSpec;
    if (name! in out) fail(at(key, 'key'), `argument "${name}" given twice (as "${key}")`);
    if (phase === 'load' && isTemplated(value)) {
      out[name!] = value;
      continue;
    }
    let coerced: unknown;
    try {
      coerced = value === null && !spec.required ? null : coerce(value, spec.type, spec.elements);
    } catch (error) {
      if (!(error instanceof Mistyped)) throw error;
      fail(at(key, 'value'), `argument "${key}": ${error.message}`);
    }
    if (spec.choices && coerced !== null && !spec.choices.includes(coerced as string)) {
      fail(at(key, 'value'), `argument "${key}" must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(value)}`);
    }
    const problem = coerced === null ? undefined : spec.check?.(coerced);
    if (problem !== undefined) fail(at(key, 'value'), `argument "${key}": ${problem}`);
    out[name!] = phase === 'load' ? value : coerced;
  }
  const index = specIndex(module);
  for (const name of index.required) {
    if (!isGiven(out[name])) fail(at(), `missing required argument "${name}"`);
  }
  const given = (n: string): boolean => isGiven(out[n]);
  for (const set of module.spec.mutuallyExclusive ?? []) {
    const present = set.filter(given);
    if (present.length > 1) fail(at(present[1], 'key'), `arguments ${present.join(' and ')} are mutually exclusive`);
  }
  for (const set of module.spec.requiredOneOf ?? []) {
    if (!set.some(given)) fail(at(), `one of ${set.join(', ')} is required`);
  }
  for (const [name, value, requires] of module.spec.requiredIf ?? []) {
    if (out[name] !== value || (phase === 'load' && isTemplated(out[name]))) continue;
    const missing = requires.filter((n) => !given(n));
    if (missing.length > 0) fail(at(name, 'value'), `${name}=${String(value)} requires ${missing.join(', ')}`);
  }
  if (phase === 'run') {
    for (const [name, value] of index.defaults) if (!isGiven(out[name])) out[name] = value;
  }
  return out;
}
