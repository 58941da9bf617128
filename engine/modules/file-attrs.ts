// Mode, owner and group: what a path has against what a task asks for, and the shell words that fix the difference.

import { type BecomeOptions, type FileStat } from '../connection/connection.ts';
import { shellQuote } from '../core/shell.ts';
import { formatMode, resolveMode, type ModeArg } from '../core/mode.ts';

export { formatMode, isSymbolicMode, resolveMode, statMode, symbolicToOctal, type ModeArg } from '../core/mode.ts';


export interface WantedAttrs {
  mode?: ModeArg;
  owner?: string;
  group?: string;
}

/** Attributes to set, with the mode computed. */
export interface AttrChanges {
  mode?: number;
  owner?: string;
  group?: string;
}


/** An owner or group given by name or by number matches what stat found. */
function sameId(wanted: string, name: string | undefined, id: number | undefined): boolean {
  return wanted === name || (/^\d+$/.test(wanted) && Number(wanted) === id);
}

/** The attributes that differ from what is there (all those asked for when the path does not exist yet). */
// `!= null`: an argument written empty in YAML arrives as null, which means "not given".
export function attrChanges(wanted: WantedAttrs, st: FileStat, newIsDir = false): AttrChanges {
  const changes: AttrChanges = {};
  const mode = resolveMode(wanted.mode, st.exists ? st.mode : undefined, st.exists ? st.type === 'directory' : newIsDir);
  if (mode != null && (!st.exists || st.mode !== mode)) changes.mode = mode;
  if (wanted.owner != null && (!st.exists || !sameId(wanted.owner, st.owner, st.uid))) changes.owner = wanted.owner;
  if (wanted.group != null && (!st.exists || !sameId(wanted.group, st.group, st.gid))) changes.group = wanted.group;
  return changes;
}

export function hasChanges(changes: AttrChanges): boolean {
  return changes.mode !== undefined || changes.owner !== undefined || changes.group !== undefined;
}

/** Words describing a change, for `msg`: "mode 0600→0644, owner root→www-data". */
export function describeChanges(changes: AttrChanges, st: FileStat): string {
  const parts: string[] = [];
  if (changes.mode !== undefined) parts.push(`mode ${formatMode(st.mode) ?? '-'}→${formatMode(changes.mode)}`);
  if (changes.owner !== undefined) parts.push(`owner ${st.owner ?? '-'}→${changes.owner}`);
  if (changes.group !== undefined) parts.push(`group ${st.group ?? '-'}→${changes.group}`);
  return parts.join(', ');
}

/** chmod/chown commands for `path` (-h: a link itself; -R: a whole tree). */
export function attrCommands(path: string, changes: AttrChanges, flags: { recurse?: boolean; link?: boolean } = {}): string[] {
  const p = shellQuote(path);
  const commands: string[] = [];
  const r = flags.recurse ? '-R ' : '';
  if (changes.owner !== undefined || changes.group !== undefined) {
    const who = `${changes.owner ?? ''}${changes.group !== undefined ? `:${changes.group}` : ''}`;
    commands.push(`chown ${r}${flags.link ? '-h ' : ''}${shellQuote(who)} -- ${p}`);
  }
  // A link has no mode of its own on Linux.
  if (changes.mode !== undefined && !flags.link) commands.push(`chmod ${r}${changes.mode.toString(8)} -- ${p}`);
  return commands;
}

/** Attributes as a task's result shows them. */
export function attrResult(st: FileStat): Record<string, unknown> {
  return { mode: formatMode(st.mode), owner: st.owner, group: st.group, uid: st.uid, gid: st.gid, size: st.size };
}

/** The `become` option every connection call takes. */
export function asBecome(become: BecomeOptions | undefined): { become?: BecomeOptions } {
  return become ? { become } : {};
}
