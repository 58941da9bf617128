// The local account databases (/etc/passwd, /etc/group, /etc/shadow) as user, group, authorized_key and getent read
// them: parsed, and rewritten as a plan would leave them, so later tasks of a --check run see users and groups an
// earlier task would create. They are read as files (three sftp reads at once, one round trip of latency) and not with
// getent: the --check overlay answers file reads with planned content, and cannot answer a command.

import type { ModuleContext } from './contract.ts';
import { asBecome } from './file-attrs.ts';

export interface PasswdEntry {
  name: string;
  password: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  password: string;
  gid: number;
  members: string[];
}

export interface Accounts {
  passwdText: string;
  groupText: string;
  shadowText: string;
  passwd: PasswdEntry[];
  groups: GroupEntry[];
  /** name → the shadow line's fields. */
  shadow: Map<string, string[]>;
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

export function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).map((l) => {
    const [name = '', password = '', uid = '0', gid = '0', gecos = '', home = '', shell = ''] = l.split(':');
    return { name, password, uid: Number(uid), gid: Number(gid), gecos, home, shell };
  });
}

export function parseGroup(text: string): GroupEntry[] {
  return lines(text).map((l) => {
    const [name = '', password = '', gid = '0', members = ''] = l.split(':');
    return { name, password, gid: Number(gid), members: members.split(',').filter((m) => m !== '') };
  });
}

export async function readAccounts(ctx: ModuleContext, shadow = true): Promise<Accounts> {
  const become = asBecome(ctx.become);
  const [p, g, s] = await Promise.all([
    ctx.conn.get('/etc/passwd', become),
    ctx.conn.get('/etc/group', become),
    shadow ? ctx.conn.get('/etc/shadow', become) : Promise.resolve(null),
  ]);
  const passwdText = p?.toString() ?? '';
  const groupText = g?.toString() ?? '';
  const shadowText = s?.toString() ?? '';
  return {
    passwdText,
    groupText,
    shadowText,
    passwd: parsePasswd(passwdText),
    groups: parseGroup(groupText),
    shadow: new Map(lines(shadowText).map((l) => [l.split(':')[0], l.split(':')])),
  };
}

/** A group by name, or by number when `ref` is all digits. */
export function findGroup(groups: readonly GroupEntry[], ref: string): GroupEntry | undefined {
  return groups.find((g) => g.name === ref) ?? (/^\d+$/.test(ref) ? groups.find((g) => g.gid === Number(ref)) : undefined);
}

/** The first id from `from` upwards (or downwards) that no entry uses: what useradd/groupadd would pick. */
export function freeId(used: ReadonlySet<number>, from: number, to: number): number {
  const step = from <= to ? 1 : -1;
  for (let id = from; step > 0 ? id <= to : id >= to; id += step) if (!used.has(id)) return id;
  return from;
}

/** A text database with the line whose first field is `name` replaced (or added, or removed when `line` is null). */
export function withLine(text: string, name: string, line: string | null): string {
  const rows = text.split('\n');
  if (rows[rows.length - 1] === '') rows.pop();
  const at = rows.findIndex((r) => r.split(':')[0] === name);
  if (at >= 0) {
    if (line === null) rows.splice(at, 1);
    else rows[at] = line;
  } else if (line !== null) rows.push(line);
  return rows.length === 0 ? '' : `${rows.join('\n')}\n`;
}

export const passwdLine = (e: PasswdEntry): string => [e.name, e.password, e.uid, e.gid, e.gecos, e.home, e.shell].join(':');
export const groupLine = (e: GroupEntry): string => [e.name, e.password, e.gid, e.members.join(',')].join(':');
