// Ansible host patterns: which hosts a play's `hosts:`, `--limit` or `delegate_to` means.
//
//   all  *  web1  webservers          a host or a group (a group means all hosts below it)
//   web:db  web,db                     union
//   web:!staging                       exclusion        web:&staging   intersection
//   web*  ~web\d+                      fnmatch wildcard, or a regex after `~` (anchored at the start, as Python's match)
//   web[0]  web[-1]  web[0:2]  web[1:]  subscripts (inclusive ranges) over the matched hosts
//   @file                              one pattern per line (--limit @failed-hosts)
//
// Regular parts are joined first, then `&` parts intersect, then `!` parts remove; if there are only `&`/`!` parts,
// they apply to `all`. The result is in inventory order. An unknown name matches nothing (the caller may warn);
// `localhost`/`127.0.0.1`/`::1` match the implicit localhost when the inventory does not list them.

import { readFileSync } from 'node:fs';
import { globToRegExp } from '../core/glob.ts';
import { InputError } from '../core/source.ts';

/** What patterns match against: the inventory's hosts and groups (an interface, so the inventory can use patterns). */
export interface HostIndex {
  readonly hosts: ReadonlyMap<string, unknown>;
  readonly groups: ReadonlyMap<string, unknown>;
  /** Listed, or one of the implicit localhost names. */
  has(host: string): boolean;
  groupHosts(group: string): string[];
}

/** Hosts matching `pattern`, in inventory order (implicit localhost last). */
export function selectHosts(inventory: HostIndex, pattern: string): string[] {
  const parts = splitHostPattern(pattern);
  const regular = parts.filter((p) => p[0] !== '&' && p[0] !== '!');
  const intersect = parts.filter((p) => p[0] === '&').map((p) => p.slice(1));
  const exclude = parts.filter((p) => p[0] === '!').map((p) => p.slice(1));

  const selected = new Set<string>();
  for (const p of regular.length ? regular : ['all']) for (const h of matchOne(inventory, p)) selected.add(h);
  for (const p of intersect) {
    const keep = new Set(matchOne(inventory, p));
    for (const h of selected) if (!keep.has(h)) selected.delete(h);
  }
  for (const p of exclude) for (const h of matchOne(inventory, p)) selected.delete(h);
  return inventoryOrder(inventory, selected);
}

/** `--limit`: the hosts of `pattern` that also match `limit` (when given). */
export function selectWithLimit(inventory: HostIndex, pattern: string, limit?: string): string[] {
  const hosts = selectHosts(inventory, pattern);
  if (limit === undefined) return hosts;
  const allowed = new Set(selectHosts(inventory, limit));
  return hosts.filter((h) => allowed.has(h));
}

/**
 * Split a pattern into parts: by commas when there are any, else by colons outside `[...]` (so `web[0:2]` stays whole)
 * unless the whole is an IPv6 address. `@file` parts become the file's lines.
 */
export function splitHostPattern(pattern: string): string[] {
  const pieces = pattern.includes(',') ? pattern.split(',').flatMap(splitByColon) : splitByColon(pattern);
  return pieces.flatMap((p) => (p.startsWith('@') ? readPatternFile(p.slice(1)) : [p]));
}

function splitByColon(pattern: string): string[] {
  const p = pattern.trim();
  if (/^[0-9a-fA-F.]*:[0-9a-fA-F.]*:[0-9a-fA-F:.]*$/.test(p)) return [p]; // an IPv6 address
  return (p.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? []).map((s) => s.trim()).filter(Boolean);
}

function readPatternFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(undefined, `cannot read host list ${path}: ${(error as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

const SUBSCRIPT = /^(.+)\[(?:(-?\d+)|(\d+):(\d*))\]$/;

/** One part, without its `&`/`!`: a host, a group, a wildcard or a regex, with an optional subscript. */
function matchOne(inventory: HostIndex, part: string): string[] {
  if (inventory.hosts.has(part)) return [part];
  let expr = part;
  let slice: ((hosts: string[]) => string[]) | undefined;
  const m = part[0] === '~' ? null : SUBSCRIPT.exec(part);
  if (m) {
    expr = m[1];
    if (m[2] !== undefined) {
      const index = Number(m[2]);
      slice = (hosts) => {
        const h = hosts[index < 0 ? hosts.length + index : index];
        return h === undefined ? [] : [h];
      };
    } else {
      const start = Number(m[3]);
      const end = m[4] === '' ? Infinity : Number(m[4]);
      slice = (hosts) => hosts.slice(start, end + 1); // inclusive, as Ansible's [x:y]
    }
  }
  const hosts = enumerate(inventory, expr);
  return slice ? slice(hosts) : hosts;
}

/** Groups first; host names too when no group matched or the expression is a wildcard or regex (Ansible's rule). */
function enumerate(inventory: HostIndex, expr: string): string[] {
  const test = matcher(expr);
  const found = new Set<string>();
  const groups = [...inventory.groups.keys()].filter(test);
  for (const g of groups) for (const h of inventory.groupHosts(g)) found.add(h);
  if (groups.length === 0 || expr[0] === '~' || /[.?*[]/.test(expr)) {
    for (const h of inventory.hosts.keys()) if (test(h)) found.add(h);
  }
  if (found.size === 0 && !inventory.hosts.has(expr) && inventory.has(expr)) return [expr]; // implicit localhost
  return inventoryOrder(inventory, found);
}

function matcher(expr: string): (name: string) => boolean {
  if (expr[0] === '~') {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${expr.slice(1)})`);
    } catch (error) {
      throw new InputError(undefined, `invalid host pattern "${expr}": ${(error as Error).message}`);
    }
    return (name) => re.test(name);
  }
  if (!/[*?[]/.test(expr)) return (name) => name === expr;
  const re = globToRegExp(expr);
  return (name) => re.test(name);
}

function inventoryOrder(inventory: HostIndex, names: Set<string>): string[] {
  const listed = [...inventory.hosts.keys()].filter((h) => names.has(h));
  const implicit = [...names].filter((h) => !inventory.hosts.has(h));
  return [...listed, ...implicit];
}
