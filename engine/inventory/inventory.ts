// The inventory: hosts, groups and their variables, read from Ansible's YAML or INI files (or a folder of them),
// with group_vars/ and host_vars/ beside each source and beside the playbook.
//
// Variable precedence, lowest first (Ansible's default order; later wins, a key is replaced, never deep-merged):
//   1. group `all` vars written in the inventory files
//   2. every other group of the host, vars written in the inventory files
//   3. group_vars/all beside the inventory, then group_vars/all beside the playbook
//   4. group_vars/<group> beside the inventory, then beside the playbook, for every other group of the host
//   5. host vars written in the inventory files
//   6. host_vars/<host> beside the inventory, then host_vars/<host> beside the playbook
// Within 2 and 4 groups go parents before children: by depth (a top-level group is 1, its child 2, ...), then by
// `ansible_group_priority` (default 1, set in the inventory file), then by name. So a child group overrides its
// parent, and with several inventory sources the later source wins at each step.
//
// Implicit localhost: `localhost`, `127.0.0.1` and `::1` can be targeted by name even when the inventory does not list
// them. Such a host has `ansible_connection: local`, gets `all`'s vars and its own host_vars, and is in no group, so
// it is not part of `all` (as in Ansible).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { InputError, type SourcePos } from '../core/source.ts';
import { decodeUtf8, displayPath, isObject, loadYamlFile, parseYaml, refuseControlCharacters, posOf, typeName, type YamlValue } from '../core/yaml.ts';
import { parseIniInventory } from './ini.ts';
import type { InventoryOp } from './ops.ts';
import { selectHosts } from './patterns.ts';
import { VarsDir } from './vars-dirs.ts';

export interface InventoryHost {
  name: string;
  vars: Record<string, unknown>;
}

export interface InventoryGroup {
  name: string;
  vars: Record<string, unknown>;
  /** Hosts listed in this group itself (not through children). */
  hosts: string[];
  children: string[];
}

export type { InventoryOp } from './ops.ts';

export interface LoadInventoryOptions {
  /** Folders (the playbook's) whose group_vars/ and host_vars/ override those beside the inventory. */
  playbookDir?: string | readonly string[];
}

export const IMPLICIT_LOCALHOST_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

export class Inventory {
  hosts = new Map<string, InventoryHost>();
  groups = new Map<string, InventoryGroup>([
    ['all', { name: 'all', vars: {}, hosts: [], children: [] }],
    ['ungrouped', { name: 'ungrouped', vars: {}, hosts: [], children: [] }],
  ]);
  sources: string[] = [];
  /** group_vars/ and host_vars/ folders, lowest precedence first: inventory folders, then playbook folders. */
  varsDirs: VarsDir[] = [];

  /** Listed in the inventory, or one of the implicit localhost names. */
  has(host: string): boolean {
    return this.hosts.has(host) || IMPLICIT_LOCALHOST_NAMES.includes(host);
  }

  /** Every host of a group, through its children too, in inventory order. `all` holds every listed host. */
  groupHosts(group: string): string[] {
    if (group === 'all') return [...this.hosts.keys()];
    const members = new Set<string>();
    for (const g of this.descendants(group)) for (const h of this.groups.get(g)?.hosts ?? []) members.add(h);
    return [...this.hosts.keys()].filter((h) => members.has(h));
  }

  /** Ansible's `group_names`: every group the host is in, directly or through a child group; no `all`; sorted. */
  groupNames(host: string): string[] {
    return this.hostGroups(host)
      .map((g) => g.name)
      .sort();
  }

  /** Ansible's `groups`: each group, `all` and `ungrouped` included, with its hosts in inventory order. */
  groupsMap(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const name of this.groups.keys()) out[name] = this.groupHosts(name);
    return out;
  }

  /** The host's inventory variables, merged in the order described at the top of this file. */
  hostVars(host: string): Record<string, unknown> {
    const groups = this.hostGroups(host);
    const own = this.hosts.get(host)?.vars ?? (IMPLICIT_LOCALHOST_NAMES.includes(host) ? { ansible_connection: 'local' } : {});
    const layers: Record<string, unknown>[] = [
      this.groups.get('all')!.vars,
      ...groups.map((g) => g.vars),
      ...this.varsDirs.map((d) => d.groupVars('all')),
      ...this.varsDirs.flatMap((d) => groups.map((g) => d.groupVars(g.name))),
      own,
      ...this.varsDirs.map((d) => d.hostVars(host)),
    ];
    return Object.assign({}, ...layers);
  }

  /** Host names matching an Ansible host pattern, in inventory order. */
  select(pattern: string): string[] {
    return selectHosts(this, pattern);
  }

  /** The groups a host is in (not `all`), in variable-precedence order: by depth, priority, name. */
  private hostGroups(host: string): InventoryGroup[] {
    const parents = this.parentsMap();
    const names = new Set<string>();
    for (const g of this.groups.values()) {
      if (g.name !== 'all' && g.hosts.includes(host)) for (const a of reachable(g.name, (n) => parents.get(n) ?? [])) names.add(a);
    }
    names.delete('all');
    // Depth is the longest path from `all`: a top-level group is 1.
    const depths = new Map<string, number>([['all', 0]]);
    const depth = (g: string): number => {
      let d = depths.get(g);
      if (d === undefined) {
        d = 1 + Math.max(0, ...(parents.get(g) ?? []).map(depth));
        depths.set(g, d);
      }
      return d;
    };
    const priority = (g: string): number => Number(this.groups.get(g)!.vars.ansible_group_priority ?? 1);
    return [...names]
      .sort((a, b) => depth(a) - depth(b) || priority(a) - priority(b) || (a < b ? -1 : a > b ? 1 : 0))
      .map((g) => this.groups.get(g)!);
  }

  /** group → the groups that list it as a child. */
  private parentsMap(): Map<string, string[]> {
    const parents = new Map<string, string[]>();
    for (const g of this.groups.values()) for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), g.name]);
    return parents;
  }

  /** The group and every group below it. */
  descendants(group: string): Set<string> {
    return reachable(group, (g) => this.groups.get(g)?.children ?? []);
  }
}

/** `start` and everything reachable from it through `next`. */
function reachable(start: string, next: (name: string) => readonly string[]): Set<string> {
  const seen = new Set<string>();
  const walk = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const n of next(name)) walk(n);
  };
  walk(start);
  return seen;
}

// --- loading --------------------------------------------------------------------------------------------------------

// Ansible's INVENTORY_IGNORE_EXTS: files in an inventory folder with these endings are not inventories.
const IGNORED_ENDINGS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.cfg', '.retry'];
const SKIPPED_NAMES = new Set(['group_vars', 'host_vars', 'vars_plugins']);

/** Load and merge inventory sources: files, folders, or a comma-separated host list (`-i 'web1,web2,'`). */
export function loadInventory(sources: readonly string[], options: LoadInventoryOptions = {}): Inventory {
  const inventory = new Inventory();
  const builder = new InventoryBuilder(inventory);
  const baseDirs: string[] = [];
  for (const source of sources) {
    const path = resolve(source);
    if (!existsSync(path)) {
      if (source.includes(',')) {
        inventory.sources.push(source);
        for (const name of source.split(',').map((s) => s.trim()).filter(Boolean)) {
          builder.apply({ op: 'host', pattern: name, group: 'ungrouped', vars: {}, pos: { file: '<host list>', line: 1, col: 1 } });
        }
        continue;
      }
      throw new InputError(undefined, `inventory not found: ${source}`);
    }
    inventory.sources.push(path);
    const isDir = statSync(path).isDirectory();
    for (const file of isDir ? inventoryFilesIn(path) : [path]) {
      for (const op of readInventoryFile(file)) builder.apply(op);
    }
    const baseDir = isDir ? path : dirname(path);
    if (!baseDirs.includes(baseDir)) baseDirs.push(baseDir);
  }
  builder.finish();

  const playbookDirs = typeof options.playbookDir === 'string' ? [options.playbookDir] : (options.playbookDir ?? []);
  for (const dir of [...baseDirs, ...playbookDirs.map((d) => resolve(d))]) inventory.varsDirs.push(new VarsDir(dir));
  // Read every vars file that applies now, so a broken one is reported before any host is touched.
  for (const d of inventory.varsDirs) {
    for (const g of inventory.groups.keys()) d.groupVars(g);
    for (const h of [...inventory.hosts.keys(), ...IMPLICIT_LOCALHOST_NAMES]) d.hostVars(h);
  }
  return inventory;
}

function inventoryFilesIn(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(folder).sort()) {
    if (entry.startsWith('.') || SKIPPED_NAMES.has(entry) || IGNORED_ENDINGS.some((e) => entry.endsWith(e))) continue;
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) out.push(...inventoryFilesIn(path));
    else out.push(path);
  }
  return out;
}

/** `.yml`/`.yaml`/`.json` are YAML, `.ini` is INI; any other file is YAML when it reads as a YAML map, else INI. */
function readInventoryFile(path: string): InventoryOp[] {
  const file = displayPath(path);
  const ext = extname(path).toLowerCase();
  if (['.yml', '.yaml', '.json'].includes(ext)) return yamlInventoryOps(loadYamlFile(path), file);
  let text: string;
  try {
    text = decodeUtf8(readFileSync(path), file, 'inventory files');
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError({ file, line: 1, col: 1 }, `cannot read: ${(error as Error).message}`);
  }
  refuseControlCharacters(text, file, 'an inventory');
  const first = (text.split(/\r?\n/).find((l) => l.trim() && !/^\s*[#;]/.test(l)) ?? '').trim();
  if (ext !== '.ini' && !first.startsWith('[')) {
    try {
      const docs = parseYaml(text, file);
      if (docs.length === 1 && isObject(docs[0])) return yamlInventoryOps(docs[0], file);
    } catch (error) {
      // A file that starts like YAML (`---` or `all:`) gets its YAML error, not a puzzling INI one.
      if (!(error instanceof InputError) || /^(---|[^\s=]+:(\s|$))/.test(first)) throw error;
    }
  }
  return parseIniInventory(text, file);
}

const GROUP_KEYS = ['hosts', 'children', 'vars'];

/** Ansible's YAML inventory: a map of groups, each with `hosts` (name → vars), `children` (name → group), `vars`. */
function yamlInventoryOps(data: YamlValue, file: string): InventoryOp[] {
  const ops: InventoryOp[] = [];
  if (data === null) return ops;
  const where = (container: object, key?: string, which: 'key' | 'value' = 'key'): SourcePos => posOf(container, key, which) ?? { file, line: 1, col: 1 };
  if (!isObject(data)) {
    throw new InputError(posOf(data as object) ?? { file, line: 1, col: 1 }, `an inventory must be a map of groups (all: {hosts: ..., children: ...}), got ${typeName(data)}`);
  }
  if ('plugin' in data) throw new InputError(where(data, 'plugin'), 'inventory plugin configurations are not supported: list hosts and groups instead');

  const mapOrNull = (parent: object, key: string, value: YamlValue, what: string): Record<string, YamlValue> => {
    if (value === null) return {};
    if (!isObject(value)) throw new InputError(where(parent, key, 'value'), `${what} must be a map, got ${typeName(value)}`);
    return value;
  };

  const group = (name: string, body: YamlValue, parent: object, pos: SourcePos): void => {
    ops.push({ op: 'group', name, pos });
    const def = mapOrNull(parent, name, body, `group "${name}"`);
    for (const key of Object.keys(def)) {
      if (!GROUP_KEYS.includes(key)) {
        throw new InputError(where(def, key), `unknown key "${key}" in group "${name}" (a group has only hosts, children and vars)`);
      }
    }
    for (const [key, value] of Object.entries(mapOrNull(def, 'vars', def.vars ?? null, `vars of group "${name}"`))) {
      ops.push({ op: 'var', group: name, key, value, pos: where(def.vars as object, key) });
    }
    // `hosts: web1` (one name as a string) is accepted, as Ansible does; a list is the usual mistake.
    const hostsValue = typeof def.hosts === 'string' ? { [def.hosts]: null } : (def.hosts ?? null);
    if (Array.isArray(hostsValue)) {
      throw new InputError(where(def, 'hosts', 'value'), `hosts of group "${name}" must be a map of host names (each "name:" on its own line, vars under it), got a list`);
    }
    const hosts = mapOrNull(def, 'hosts', hostsValue, `hosts of group "${name}"`);
    for (const [pattern, vars] of Object.entries(hosts)) {
      const pos = typeof def.hosts === 'string' ? where(def, 'hosts', 'value') : where(hosts, pattern);
      const hostVars = mapOrNull(hosts, pattern, vars, `vars of host "${pattern}"`);
      ops.push({ op: 'host', pattern, group: name, vars: hostVars, pos });
    }
    const childrenValue = typeof def.children === 'string' ? { [def.children]: null } : (def.children ?? null);
    if (Array.isArray(childrenValue)) {
      throw new InputError(where(def, 'children', 'value'), `children of group "${name}" must be a map of group names, got a list`);
    }
    const children = mapOrNull(def, 'children', childrenValue, `children of group "${name}"`);
    for (const [child, childBody] of Object.entries(children)) {
      const childPos = typeof def.children === 'string' ? where(def, 'children', 'value') : where(children, child);
      // The edge first, so a cycle is reported where it closes (the innermost repeated name).
      ops.push({ op: 'child', parent: name, child, pos: childPos });
      group(child, childBody, children, childPos);
    }
  };
  for (const [name, body] of Object.entries(data)) group(name, body, data, where(data, name));
  return ops;
}

/** Applies inventory statements to an Inventory: expands host ranges, merges vars, checks the group tree. */
class InventoryBuilder {
  constructor(private readonly inventory: Inventory) {}

  apply(op: InventoryOp): void {
    const inv = this.inventory;
    switch (op.op) {
      case 'group':
        this.group(op.name);
        return;
      case 'var':
        this.group(op.group).vars[op.key] = op.value;
        return;
      case 'child': {
        if (op.child === 'all') throw new InputError(op.pos, 'group "all" cannot be a child: it already holds every group');
        if (op.child === op.parent || inv.descendants(op.child).has(op.parent)) {
          throw new InputError(op.pos, `group "${op.child}" cannot be a child of "${op.parent}": "${op.parent}" is already below "${op.child}", which makes a cycle`);
        }
        const parent = this.group(op.parent);
        this.group(op.child);
        if (!parent.children.includes(op.child)) parent.children.push(op.child);
        return;
      }
      case 'host': {
        const { names, port } = expandHostPattern(op.pattern, op.pos);
        const group = this.group(op.group);
        for (const name of names) {
          let host = inv.hosts.get(name);
          if (!host) {
            host = { name, vars: {} };
            inv.hosts.set(name, host);
          }
          if (port !== undefined) host.vars.ansible_port = port;
          Object.assign(host.vars, op.vars);
          if (!group.hosts.includes(name)) group.hosts.push(name);
        }
      }
    }
  }

  /** Ansible's reconciliation: top-level groups become children of `all`; hosts in no group are `ungrouped`. */
  finish(): void {
    const inv = this.inventory;
    const all = inv.groups.get('all')!;
    const ungrouped = inv.groups.get('ungrouped')!;
    const hasParent = new Set([...inv.groups.values()].flatMap((g) => g.children));
    for (const name of inv.groups.keys()) {
      if (name !== 'all' && !hasParent.has(name)) all.children.push(name);
    }
    const grouped = new Set(
      [...inv.groups.values()].filter((g) => g.name !== 'all' && g.name !== 'ungrouped').flatMap((g) => g.hosts),
    );
    ungrouped.hosts = [...inv.hosts.keys()].filter((h) => !grouped.has(h));
  }

  private group(name: string): InventoryGroup {
    let g = this.inventory.groups.get(name);
    if (!g) {
      g = { name, vars: {}, hosts: [], children: [] };
      this.inventory.groups.set(name, g);
    }
    return g;
  }
}

// --- host names: ranges and ports -----------------------------------------------------------------------------------

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * A host entry as Ansible reads it: `name`, `name:port`, `[ipv6]:port`, with ranges `web[01:03]` (zero-padded),
 * `node[a:c]`, `x[1:9:2]` (a step); several ranges multiply.
 */
export function expandHostPattern(pattern: string, pos: SourcePos): { names: string[]; port?: number } {
  let host = pattern.trim();
  let port: number | undefined;
  const ipv6 = /^\[([^\]]*:[^\]]*:[^\]]*)\](?::(\d+))?$/.exec(host); // [ipv6] or [ipv6]:port
  const withPort = /^(.*):(\d+)$/.exec(host);
  const outsideRanges = (s: string): string => s.replace(/\[[^\]]*\]/g, '');
  if (ipv6) {
    host = ipv6[1];
    port = ipv6[2] === undefined ? undefined : Number(ipv6[2]);
  } else if (withPort && !outsideRanges(withPort[1]).includes(':')) {
    host = withPort[1];
    port = Number(withPort[2]);
  } else if (host.endsWith(':') && !outsideRanges(host).slice(0, -1).includes(':')) {
    throw new InputError(pos, `host "${pattern}" ends in ":" with no port`);
  }
  if (!host) throw new InputError(pos, 'empty host name');
  const isIpv6 = (host.match(/:/g) ?? []).length >= 2 && !host.includes('[');
  return { names: isIpv6 ? [host] : expandRanges(host, pattern, pos), port };
}

function expandRanges(name: string, pattern: string, pos: SourcePos): string[] {
  const open = name.indexOf('[');
  if (open < 0) return [name];
  const close = name.indexOf(']', open);
  if (close < 0) throw new InputError(pos, `host range in "${pattern}" has no closing "]"`);
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  const bad = (why: string): InputError => new InputError(pos, `bad host range in "${pattern}": ${why}`);
  if (bounds.length !== 2 && bounds.length !== 3) throw bad('expected [begin:end] or [begin:end:step]');
  const [begin = '0', end, stepText = '1'] = bounds;
  const beg = begin === '' ? '0' : begin;
  if (!end) throw bad('the end is missing');
  const step = Number(stepText);
  if (!/^\d+$/.test(stepText) || step < 1) throw bad(`step "${stepText}" is not a positive integer`);

  let items: string[];
  if (/^[A-Za-z]$/.test(beg) && /^[A-Za-z]$/.test(end)) {
    const from = LETTERS.indexOf(beg);
    const to = LETTERS.indexOf(end);
    if (from > to) throw bad(`"${beg}" comes after "${end}"`);
    items = [];
    for (let i = from; i <= to; i += step) items.push(LETTERS[i]);
  } else {
    if (!/^\d+$/.test(beg) || !/^\d+$/.test(end)) throw bad(`"${beg}:${end}" is neither a number range nor a letter range`);
    // A leading zero asks for zero padding, and then both ends must have the same width.
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && end.length !== width) throw bad('a zero-padded range needs begin and end of the same width');
    const from = Number(beg);
    const to = Number(end);
    if (from > to) throw bad(`${beg} is greater than ${end}`);
    items = [];
    for (let i = from; i <= to; i += step) items.push(String(i).padStart(width, '0'));
  }
  return items.flatMap((item) => expandRanges(head + item + tail, pattern, pos));
}

