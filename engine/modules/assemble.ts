// assemble: a file made of the fragments in a folder (sorted by name), as Ansible's assemble: a delimiter between
// fragments, a newline after a fragment without one, `regexp` to pick fragment names, hidden ones skipped on request.
// The fragments are read in one round trip (names and contents base64 in one listing); the file is then placed as
// copy does (checksum compare, atomic put, backup, validate, mode/owner/group).

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule, type ModuleContext } from './contract.ts';
import { asBecome, type ModeArg } from './file-attrs.ts';
import { pythonRegExp } from './edit-file.ts';
import { placeFile } from './place-file.ts';
import type { Connection } from '../connection/connection.ts';

interface AssembleArgs {
  src: string;
  dest: string;
  delimiter?: string;
  regexp?: string;
  remote_src: boolean;
  ignore_hidden: boolean;
  backup: boolean;
  validate?: string;
  mode?: ModeArg;
  owner?: string;
  group?: string;
}

/** Every regular file directly in `dir` (links followed), with its content: one command. */
async function readFragments(conn: Connection, dir: string, ctx: ModuleContext, become: boolean): Promise<[string, Buffer][]> {
  const d = shellQuote(dir);
  const script =
    `[ -d ${d} ] || { echo "Source (${dir.replaceAll('"', '')}) is not a directory" >&2; exit 3; }; ` +
    `for f in ${d}/* ${d}/.*; do [ -f "$f" ] || continue; printf '%s' "\${f##*/}" | base64 -w0; printf ' '; base64 -w0 < "$f" || exit 4; echo; done`;
  const r = await conn.exec(script, become ? asBecome(ctx.become) : {});
  if (r.rc !== 0) throw new ModuleError(r.stderr.trim() || `cannot read ${dir}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, content] = line.split(' ');
      return [Buffer.from(name, 'base64').toString(), Buffer.from(content ?? '', 'base64')] as [string, Buffer];
    });
}

/** Python's codecs.escape_decode of the delimiter (`\n`, `\t`, `\\`...). */
function unescape(text: string): string {
  const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };
  return text.replace(/\\(x[0-9a-fA-F]{2}|.)/gs, (whole, c: string) => (c.length === 3 ? String.fromCharCode(parseInt(c.slice(1), 16)) : (map[c] ?? whole)));
}

export default defineModule<AssembleArgs>({
  name: 'assemble',
  spec: {
    args: {
      src: { type: 'path', required: true, description: 'The folder of fragments (on the host; on the controller with remote_src: false).' },
      dest: { type: 'path', required: true },
      delimiter: { type: 'str', description: 'Written between fragments (escapes such as \\n work), then a newline if it has none.' },
      regexp: { type: 'str', description: 'Only fragments whose name this regular expression finds.' },
      remote_src: { type: 'bool', default: true },
      ignore_hidden: { type: 'bool', default: false },
      backup: { type: 'bool', default: false },
      validate: { type: 'str' },
      mode: { type: 'mode' },
      owner: { type: 'str' },
      group: { type: 'str' },
    },
  },
  async plan(given, ctx) {
    const args = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== null)) as AssembleArgs;
    const src = args.remote_src ? args.src : ctx.findFile(args.src, 'files');
    let fragments: [string, Buffer][];
    try {
      fragments = await readFragments(args.remote_src ? ctx.conn : ctx.controller, src, ctx, args.remote_src);
    } catch (error) {
      // In --check a folder an earlier task would make is known to the overlay, but not what it will hold.
      const planned = args.remote_src ? await ctx.conn.stat(src, asBecome(ctx.become)) : { exists: false };
      if (planned.exists && planned.type === 'directory') {
        return { changed: true, unpredictable: `the fragments in ${src} are made by an earlier task`, effects: [{ path: args.dest, state: 'file' }] };
      }
      throw error;
    }
    const re = args.regexp !== undefined ? pythonRegExp(args.regexp) : undefined;
    const parts: Buffer[] = [];
    let addNewline = false;
    let delimit = false;
    // Sorted by the names' bytes, as Python's sorted(os.listdir()).
    const sorted = fragments.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const [name, content] of sorted) {
      if (re && !re.test(name)) continue;
      if (args.ignore_hidden && name.startsWith('.')) continue;
      if (addNewline) parts.push(Buffer.from('\n'));
      if (delimit && args.delimiter) {
        const delimiter = unescape(args.delimiter);
        parts.push(Buffer.from(delimiter, 'latin1'));
        // A newline after the delimiter, so that lines do not run together.
        if (!delimiter.endsWith('\n')) parts.push(Buffer.from('\n'));
      }
      parts.push(content);
      delimit = true;
      addNewline = !(content.length > 0 && content[content.length - 1] === 0x0a);
    }
    const plan = await placeFile(
      { dest: args.dest, content: Buffer.concat(parts), mode: args.mode, owner: args.owner, group: args.group, backup: args.backup, force: true, validate: args.validate },
      ctx,
    );
    return { ...plan, result: { ...plan.result, src: args.src } };
  },
});
