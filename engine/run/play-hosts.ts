// Which hosts each play runs on, decided before any host is touched: `hosts:` rendered as Ansible templates it (the
// play's vars and -e; no host's variables), matched in the inventory, narrowed by --limit.
//
// A pattern that names nothing the inventory knows (a typo, a template that renders to an unknown name) is an error
// at the play's `hosts:` line, not Ansible's warning and an empty, successful run. A pattern that names a group of the
// inventory is the playbook saying "these hosts, if there are any": an empty group skips the play with a warning.

import { InputError, displayedPos, type SourcePos } from '../core/source.ts';
import type { Inventory } from '../inventory/inventory.ts';
import { splitHostPattern } from '../inventory/patterns.ts';
import type { Play, Playbook } from '../load/model.ts';
import { renderPlain, scopeOf } from '../vars/language.ts';

export interface PlayHosts {
  /** Each play's host pattern as rendered. */
  patterns: string[];
  /** Each play's hosts, --limit applied. */
  hosts: string[][];
  /** Each play's gather_facts, rendered when it is a template. */
  gatherFacts: boolean[];
}

const TEMPLATED = /{{|{%/;

/**
 * A play keyword's `{{ }}` rendered as Ansible renders play keywords (the play's vars, -e and groups; no host's):
 * an undefined variable is an error at the keyword's line.
 */
function renderPlayKeyword(play: Play, inventory: Inventory, extraVars: Record<string, unknown>, key: string, text: string, pos: SourcePos): unknown {
  try {
    return renderPlain(text, scopeOf({ groups: inventory.groupsMap(), ...play.vars, ...extraVars }, { playbookDir: play.baseDir }));
  } catch (error) {
    throw new InputError(displayedPos(pos), `${key} "${text}": ${(error as Error).message}`);
  }
}

/** The pattern of a play with its `{{ }}` rendered; an undefined variable is an error at its `hosts:` line. */
export function renderHostPattern(play: Play, inventory: Inventory, extraVars: Record<string, unknown>): string {
  if (!TEMPLATED.test(play.hosts)) return play.hosts;
  const value = renderPlayKeyword(play, inventory, extraVars, 'hosts', play.hosts, play.hostsPos);
  const pattern = Array.isArray(value) ? value.map(String).join(',') : value === null || value === undefined ? '' : String(value);
  if (pattern.trim() === '') throw new InputError(displayedPos(play.hostsPos), `hosts "${play.hosts}" renders to an empty pattern: no host is named`);
  return pattern;
}

/** A play's gather_facts; a template is rendered (renderPlayKeyword) and read as Ansible's boolean(). */
export function renderGatherFacts(play: Play, inventory: Inventory, extraVars: Record<string, unknown>): boolean {
  const g = play.gatherFacts;
  if (typeof g === 'boolean') return g;
  const value = renderPlayKeyword(play, inventory, extraVars, 'gather_facts', g.expr, g.pos);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
  if (typeof value === 'string' && /^(yes|on|1|true|y|t)$/i.test(value.trim())) return true;
  if (typeof value === 'string' && /^(no|off|0|false|n|f)$/i.test(value.trim())) return false;
  throw new InputError(displayedPos(g.pos), `gather_facts "${g.expr}" renders to ${JSON.stringify(value)}, not true or false`);
}

/** Whether some part of the pattern is a group the inventory defines (so an empty match is meant). */
function namesAGroup(pattern: string, inventory: Inventory): boolean {
  return splitHostPattern(pattern).some((part) => {
    const name = part.replace(/^[&!]/, '').replace(/\[[^\]]*\]$/, '');
    return inventory.groups.has(name);
  });
}

export function playHosts(playbook: Playbook, inventory: Inventory, options: { extraVars: Record<string, unknown>; limit?: Set<string> }): PlayHosts {
  const patterns: string[] = [];
  const hosts: string[][] = [];
  const gatherFacts: boolean[] = [];
  for (const play of playbook.plays) {
    gatherFacts.push(renderGatherFacts(play, inventory, options.extraVars));
    const pattern = renderHostPattern(play, inventory, options.extraVars);
    const matched = inventory.select(pattern);
    if (matched.length === 0 && !namesAGroup(pattern, inventory)) {
      const shown = pattern === play.hosts ? `"${pattern}"` : `"${play.hosts}" (rendered "${pattern}")`;
      const known = [...inventory.groups.keys()].filter((g) => g !== 'all' && g !== 'ungrouped');
      throw new InputError(
        displayedPos(play.hostsPos),
        `hosts ${shown} matches no host or group of the inventory${known.length ? ` (groups: ${known.slice(0, 10).join(', ')})` : ''}`,
      );
    }
    patterns.push(pattern);
    hosts.push(options.limit ? matched.filter((h) => options.limit!.has(h)) : matched);
  }
  return { patterns, hosts, gatherFacts };
}
