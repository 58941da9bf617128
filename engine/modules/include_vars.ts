// include_vars: variables from YAML/JSON files on the controller (a file, or every file of a folder), set on the
// host for the rest of the run, at include_vars' precedence (with set_fact). Relative paths are looked for in the
// role's vars/, then beside the playbook (its vars/, then itself), as Ansible does. No host is contacted.

import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { isObject, loadYamlFile, typeName } from '../core/yaml.ts';
import { ModuleError, defineModule } from './contract.ts';

interface IncludeVarsArgs {
  file?: string;
  dir?: string;
  name?: string;
  files_matching?: string;
  ignore_files: string[];
  depth: number;
  extensions: string[];
  ignore_unknown_extensions: boolean;
  hash_behaviour?: string;
}

/** Files of a folder, sorted by name as Ansible walks them, down to `depth` levels (0: all). */
function walk(dir: string, depth: number, level = 1): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (depth === 0 || level < depth) out.push(...walk(path, depth, level + 1));
    } else out.push(path);
  }
  return out;
}

export default defineModule<IncludeVarsArgs>({
  name: 'include_vars',
  controllerOnly: true,
  spec: {
    freeForm: 'file',
    args: {
      file: { type: 'path', description: 'One YAML or JSON file of variables.' },
      dir: { type: 'path', description: 'Every vars file in this folder, in name order.' },
      name: { type: 'str', description: 'Put the variables under this one name instead of at the top.' },
      files_matching: { type: 'str', description: 'With dir: only file names matching this regular expression.' },
      ignore_files: { type: 'list', elements: 'str', default: [], description: 'With dir: file names (regular expressions) to skip.' },
      depth: { type: 'int', default: 0, description: 'With dir: how deep to look (0: all the way).' },
      extensions: { type: 'list', elements: 'str', default: ['yaml', 'yml', 'json'] },
      ignore_unknown_extensions: { type: 'bool', default: false },
      hash_behaviour: { type: 'str', choices: ['replace'], description: 'Only replace (whole values), as everywhere in kplay.' },
    },
    mutuallyExclusive: [['file', 'dir']],
    requiredOneOf: [['file', 'dir']],
  },
  async plan(args, ctx) {
    let files: string[];
    if (args.dir != null) {
      const dir = ctx.findFile(args.dir, 'vars');
      if (!statSync(dir).isDirectory()) throw new ModuleError(`${args.dir} is not a folder`);
      const matching = args.files_matching != null ? new RegExp(args.files_matching) : undefined;
      const ignore = args.ignore_files.map((p) => new RegExp(p));
      files = walk(dir, args.depth).filter((path) => {
        const name = basename(path);
        if (matching && !matching.test(name)) return false;
        if (ignore.some((re) => re.test(name))) return false;
        const ext = extname(name).slice(1);
        if (!args.extensions.includes(ext)) {
          if (args.ignore_unknown_extensions) return false;
          throw new ModuleError(`${path} does not have a valid extension: ${args.extensions.join(', ')}`);
        }
        return true;
      });
    } else {
      files = [ctx.findFile(args.file!, 'vars')];
    }
    const vars: Record<string, unknown> = {};
    for (const path of files) {
      const data = loadYamlFile(path) ?? {};
      if (!isObject(data)) throw new ModuleError(`${path} must hold a map of variables, got ${typeName(data)}`);
      Object.assign(vars, data);
    }
    const facts = args.name != null ? { [args.name]: vars } : vars;
    return { changed: false, facts, result: { ansible_included_var_files: files } };
  },
});
