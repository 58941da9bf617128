// A play's `vars_files:` entry, read when a host first needs it (its name may use variables): a YAML map.

import { existsSync } from 'node:fs';
import { InputError, type SourcePos } from '../core/source.ts';
import { isObject, loadYamlFile, typeName } from '../core/yaml.ts';

/** The variables in `path`; `name` is the file as the play wrote it, `pos` where. */
export function loadVarsFile(path: string, name: string, pos: SourcePos): Record<string, unknown> {
  if (!existsSync(path)) throw new InputError(pos, `vars file not found: ${name}`);
  const loaded = loadYamlFile(path) ?? {};
  if (!isObject(loaded)) throw new InputError(pos, `vars file ${name} must be a map, got ${typeName(loaded)}`);
  return loaded;
}
