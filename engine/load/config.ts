// The project config file, `kplay.yml`: defaults for command-line options, kept with the playbooks.
// Found beside the playbook, else in the working folder. Paths in it are relative to the file's folder.
// Command-line options override it (the CLI does that).
//
//   inventory: inventory/            # a path or a list of paths
//   forks: 10
//   roles_path: [roles, ../shared]   # a path, a list, or paths joined with ":" (as ansible.cfg)
//   known_hosts: ~/.ssh/known_hosts
//   accept_new_host_keys: true
//   become_password_file: secrets/become
//   strategy: linear                 # or free
//   timeout: 30                      # seconds, for connecting to a host

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InputError, type SourcePos } from '../core/source.ts';
import { isObject, loadYamlFile, posOf, typeName, type YamlObject, type YamlValue } from '../core/yaml.ts';

export interface KplayConfig {
  inventory?: string[];
  forks?: number;
  roles_path?: string[];
  known_hosts?: string;
  accept_new_host_keys?: boolean;
  become_password_file?: string;
  strategy?: 'linear' | 'free';
  timeout?: number;
  /** The config file read, or null when there is none. */
  file: string | null;
}

export const CONFIG_FILE_NAME = 'kplay.yml';

type Reader = (value: YamlValue, at: SourcePos, ctx: { dir: string }) => unknown;

const path = (value: YamlValue, at: SourcePos, { dir }: { dir: string }): string => {
  if (typeof value !== 'string' || value === '') throw new InputError(at, `expected a path, got ${typeName(value)}`);
  return resolvePath(value, dir);
};

const pathList = (split: boolean): Reader => (value, at, ctx) => {
  if (typeof value === 'string') return (split ? value.split(':') : [value]).filter(Boolean).map((p) => path(p, at, ctx));
  if (!Array.isArray(value)) throw new InputError(at, `expected a path or a list of paths, got ${typeName(value)}`);
  return value.map((item, i) => path(item, posOf(value, i) ?? at, ctx));
};

const positiveNumber = (integer: boolean): Reader => (value, at) => {
  if (typeof value !== 'number' || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new InputError(at, `expected a positive ${integer ? 'integer' : 'number'}, got ${typeof value === 'number' ? value : typeName(value)}`);
  }
  return value;
};

const boolean: Reader = (value, at) => {
  if (typeof value !== 'boolean') throw new InputError(at, `expected true or false, got ${typeName(value)}`);
  return value;
};

const oneOf = (choices: readonly string[]): Reader => (value, at) => {
  if (typeof value !== 'string' || !choices.includes(value)) {
    throw new InputError(at, `expected one of ${choices.join(', ')}, got ${typeof value === 'string' ? `"${value}"` : typeName(value)}`);
  }
  return value;
};

const KEYS: Record<Exclude<keyof KplayConfig, 'file'>, Reader> = {
  inventory: pathList(false),
  forks: positiveNumber(true),
  roles_path: pathList(true),
  known_hosts: path,
  accept_new_host_keys: boolean,
  become_password_file: path,
  strategy: oneOf(['linear', 'free']),
  timeout: positiveNumber(false),
};

/** Find and read kplay.yml (beside the playbook first, then in the working folder). No file: an empty config. */
export function loadConfig({ playbookDir, cwd = process.cwd(), except }: { playbookDir?: string; cwd?: string; except?: string }): KplayConfig {
  const candidates = [playbookDir, cwd]
    .filter((d): d is string => d !== undefined)
    .map((d) => join(resolve(d), CONFIG_FILE_NAME))
    .filter((c) => except === undefined || c !== resolve(except)); // the playbook itself, named kplay.yml
  const file = candidates.find((c) => existsSync(c));
  return file ? readConfigFile(file) : { file: null };
}

/** Read one config file; every unknown key or wrong type is an InputError at its line and column. */
export function readConfigFile(file: string): KplayConfig {
  const data = loadYamlFile(file);
  const config: KplayConfig = { file };
  if (data === null) return config;
  if (!isObject(data)) {
    throw new InputError(posOf(data as object) ?? { file, line: 1, col: 1 }, `${CONFIG_FILE_NAME} must be a map of settings, got ${typeName(data)}`);
  }
  const ctx = { dir: dirname(file) };
  const settings = config as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(data as YamlObject)) {
    const read = (KEYS as Record<string, Reader>)[key];
    if (!read) throw new InputError(posOf(data, key)!, `unknown setting "${key}" (known: ${Object.keys(KEYS).join(', ')})`);
    settings[key] = read(value, posOf(data, key, 'value')!, ctx);
  }
  return config;
}

function resolvePath(p: string, dir: string): string {
  if (p === '~' || p.startsWith('~/')) return join(homedir(), p.slice(1));
  return resolve(dir, p);
}
