// What lineinfile, blockinfile, replace and ini_file share: read the file once, let the module compute the new text,
// then place it as copy does (atomic put, backup, validate, mode/owner/group), and Python's regular expressions in
// JavaScript (Ansible's patterns are Python's).
//
// Warm (nothing to change) is two round trips: a stat with checksum and a read. A change adds one atomic put.

import { posix } from 'node:path';
import { type FileStat } from '../connection/connection.ts';
import { shellQuote } from '../core/shell.ts';
import { ModuleError, type ModuleContext, type Plan } from './contract.ts';
import { asBecome, type ModeArg } from './file-attrs.ts';
import { placeFile } from './place-file.ts';

/** The arguments every file-editing module takes besides its own. */
export interface EditArgs {
  path: string;
  backup: boolean;
  validate?: string;
  mode?: ModeArg;
  owner?: string;
  group?: string;
}

export const EDIT_ARG_SPECS = {
  backup: { type: 'bool', default: false, description: 'Keep the old file as path.<timestamp>~ (result backup_file).' },
  validate: { type: 'str', description: 'A command with %s that must accept the new file before it replaces path.' },
  mode: { type: 'mode' },
  owner: { type: 'str' },
  group: { type: 'str' },
} as const;

/** The file as found: its content (null when missing), and the path edits go to (a link's target, as Ansible). */
export interface Found {
  path: string;
  content: Buffer | null;
  stat: FileStat;
}

/** Stat (following a link) and read the file; a directory fails as Ansible fails (rc 256). */
export async function readForEdit(path: string, ctx: ModuleContext): Promise<Found> {
  const become = asBecome(ctx.become);
  let target = path;
  let st = await ctx.conn.stat(path, { checksum: true, ...become });
  // Ansible writes through a link to the file it points to (realpath).
  for (let hops = 0; st.exists && st.type === 'link' && st.target !== undefined && hops < 20; hops++) {
    target = posix.resolve(posix.dirname(target), st.target);
    st = await ctx.conn.stat(target, { checksum: true, ...become });
  }
  if (st.exists && st.type === 'directory') throw new ModuleError(`Path ${path} is a directory !`, { rc: 256 });
  if (st.exists && st.type !== 'file') throw new ModuleError(`Path ${path} is not a regular file`, { rc: 256 });
  const content = st.exists ? await ctx.conn.get(target, become) : null;
  return { path: target, content, stat: st };
}

/**
 * Place `after` at the found path. `changed` is the content's change as the module sees it; mode/owner/group
 * differences make the task changed as well. `backupKey` is the result name Ansible gives the backup's path.
 */
export async function writeEdit(
  args: EditArgs,
  found: Found,
  after: Buffer,
  outcome: { msg: string; result?: Record<string, unknown>; backupKey?: string },
  ctx: ModuleContext,
): Promise<Plan> {
  const plan = await placeFile(
    {
      dest: found.path,
      content: after,
      mode: args.mode,
      owner: args.owner,
      group: args.group,
      backup: args.backup,
      force: true,
      validate: args.validate,
      known: found.stat,
    },
    ctx,
  );
  const contentChanged = found.content === null || !found.content.equals(after);
  let msg = outcome.msg;
  if (plan.changed && !contentChanged) msg = msg ? `${msg} and ownership, perms or SE linux context changed` : 'ownership, perms or SE linux context changed';
  const backupKey = outcome.backupKey ?? 'backup_file';
  const result: Record<string, unknown> = { ...outcome.result, msg };
  if (backupKey === 'backup') result.backup = '';
  if (!plan.changed) return { changed: false, msg: msg || undefined, result };
  const dir = posix.dirname(found.path);
  const apply = plan.apply;
  return {
    changed: true,
    msg: msg || plan.msg,
    diff: plan.diff,
    result,
    effects: plan.effects,
    apply: async () => {
      // create: a missing folder is made first, as Ansible's makedirs.
      if (found.content === null) {
        const r = await ctx.conn.exec(`mkdir -p -- ${shellQuote(dir)}`, asBecome(ctx.become));
        if (r.rc !== 0) throw new ModuleError(`Error creating ${dir} (${r.stderr.trim()})`);
      }
      const applied = (await apply?.()) ?? {};
      const backup = applied.backup_file;
      return backup !== undefined ? { [backupKey]: backup } : {};
    },
  };
}

/** Bytes as a string of the same length (one char per byte): patterns are matched on bytes, as Ansible does. */
export function bytesText(content: Buffer | null): string {
  return content === null ? '' : content.toString('latin1');
}

/** A UTF-8 argument in the same one-char-per-byte form, to search bytesText with. */
export function asBytesText(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Lines with their ends, as Python's bytes.readlines() (split after each \n). */
export function readLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Lines with their ends, as Python's splitlines(True) (\n, \r\n and a lone \r end a line). */
export function splitLinesKeep(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$/g) ?? [];
}

/**
 * A Python pattern as a JavaScript RegExp: named groups `(?P<n>...)` and `(?P=n)`, `\A` and `\Z`.
 * Throws a ModuleError naming the pattern when it does not compile.
 */
export function pythonRegExp(pattern: string, flags = ''): RegExp {
  const js = pattern
    .replace(/\(\?P</g, '(?<')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/\\A/g, '(?<![\\s\\S])')
    .replace(/\\Z/g, '(?![\\s\\S])');
  try {
    return new RegExp(js, flags);
  } catch (error) {
    throw new ModuleError(`invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`);
  }
}

/** Search one line as Python's re.search does on it: `$` also matches before the line's final \n. */
export function searchLine(re: RegExp, line: string): RegExpExecArray | null {
  return re.exec(line.endsWith('\n') ? line.slice(0, -1) : line);
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };

/** Python's match.expand / re.sub template: `\1`, `\g<1>`, `\g<name>` and the usual escapes. */
export function pythonExpand(template: string, match: RegExpExecArray | RegExpMatchArray): string {
  return template.replace(/\\(?:g<(\w+)>|(\d{1,2})|(.))/gs, (whole, name: string | undefined, num: string | undefined, ch: string | undefined) => {
    if (name !== undefined) {
      const value = /^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name];
      if (value === undefined && !/^\d+$/.test(name) && !(match.groups && name in match.groups)) {
        throw new ModuleError(`unknown group name in replacement: ${name}`);
      }
      return value ?? '';
    }
    if (num !== undefined) {
      if (Number(num) >= match.length) throw new ModuleError(`invalid group reference ${num} in ${JSON.stringify(template)}`);
      return match[Number(num)] ?? '';
    }
    return ESCAPES[ch!] ?? whole;
  });
}
