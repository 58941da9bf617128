// authorized_key: SSH public keys in a user's authorized_keys, kept and written the way Ansible's module writes them
// (same order, same line format), so both tools manage the same file without fighting over it.
//
// Reads the user (accounts.ts) and the file; writes it whole and atomically (temp file + rename), mode 0600, owned
// by the user, with ~/.ssh made 0700 first when manage_dir.

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule } from './contract.ts';
import { readAccounts } from './accounts.ts';
import { fileDiff } from './diff-text.ts';
import { asBecome } from './file-attrs.ts';

interface AuthorizedKeyArgs {
  user: string;
  key: string;
  path?: string;
  manage_dir: boolean;
  state: 'present' | 'absent';
  key_options?: string;
  exclusive: boolean;
  comment?: string;
  follow: boolean;
}

const KEY_TYPES = new Set([
  'sk-ecdsa-sha2-nistp256@openssh.com', 'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', 'webauthn-sk-ecdsa-sha2-nistp256@openssh.com',
  'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521', 'ecdsa-sha2-nistp521-cert-v01@openssh.com', 'sk-ssh-ed25519@openssh.com', 'sk-ssh-ed25519-cert-v01@openssh.com',
  'ssh-ed25519', 'ssh-ed25519-cert-v01@openssh.com', 'ssh-dss', 'ssh-rsa', 'ssh-xmss@openssh.com', 'ssh-xmss-cert-v01@openssh.com',
  'rsa-sha2-256', 'rsa-sha2-512', 'ssh-rsa-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com', 'rsa-sha2-512-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
]);

/** One line of the file: a key (by its base64 blob), or a line kept as it is (comments, anything unparsable). */
interface Entry {
  id: string;
  type?: string;
  options: [string, string | undefined][];
  comment: string;
  rank: number;
  raw?: string;
}

/** Options `a,b="x,y",c=1` as ordered pairs; commas inside double quotes do not split. */
function parseOptions(text: string | undefined): [string, string | undefined][] {
  if (!text) return [];
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  const out = new Map<string, string | undefined>();
  for (const part of parts.map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq < 0) out.set(part, undefined);
    else out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return [...out];
}

function parseKey(line: string, rank: number): Entry | null {
  const raw = line.replace(/\\#/g, '#');
  const words = raw.split(/\s+/).filter((w) => w !== '');
  if (words[0]?.startsWith('#')) return { id: raw, options: [], comment: '', rank, raw };
  const at = words.findIndex((w) => KEY_TYPES.has(w));
  if (at < 0 || at + 1 >= words.length) return null;
  return {
    id: words[at + 1],
    type: words[at],
    options: parseOptions(at > 0 ? words.slice(0, at).join(' ') : undefined),
    comment: words.slice(at + 2).join(' '),
    rank,
  };
}

const sameKey = (a: Entry, b: Entry): boolean =>
  a.type === b.type && a.comment === b.comment && JSON.stringify(a.options) === JSON.stringify(b.options);

function serialize(entries: Iterable<Entry>): string {
  return [...entries]
    .sort((a, b) => a.rank - b.rank)
    .map((e) => {
      if (e.raw !== undefined) return e.raw.endsWith('\n') ? e.raw : `${e.raw}\n`;
      const options = e.options.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join(',');
      // As Ansible writes it: "type key comment", a space before an empty comment included.
      return `${options ? `${options} ` : ''}${e.type} ${e.id} ${e.comment}\n`;
    })
    .join('');
}

export default defineModule<AuthorizedKeyArgs>({
  name: 'authorized_key',
  spec: {
    args: {
      user: { type: 'str', required: true },
      key: { type: 'str', required: true, description: 'One key, or several, one a line.' },
      path: { type: 'path', description: 'Default ~user/.ssh/authorized_keys.' },
      manage_dir: { type: 'bool', default: true, description: "Make the file's folder 0700 and the file 0600, owned by the user." },
      state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
      key_options: { type: 'str', description: 'Options put before each key (from="10.0.0.1",no-pty).' },
      exclusive: { type: 'bool', default: false, description: 'Remove every other key from the file.' },
      comment: { type: 'str', description: "Replace the keys' comments." },
      follow: { type: 'bool', default: false, description: 'Write where a symlinked file points.' },
    },
  },
  async plan(args, ctx) {
    if (/^https?:/.test(args.key)) throw new ModuleError('key from a URL is not supported: read it with uri or lookup and pass the text');
    const acc = await readAccounts(ctx, false);
    const user = acc.passwd.find((u) => u.name === args.user);
    if (!user) throw new ModuleError(`Failed to lookup user ${args.user}`);
    const keyfile = args.path ?? `${user.home.replace(/\/$/, '')}/.ssh/authorized_keys`;
    const sshDir = keyfile.replace(/\/[^/]*$/, '') || '/';
    const become = asBecome(ctx.become);
    const beforeBuf = await ctx.conn.get(keyfile, become);
    const before = beforeBuf?.toString() ?? '';

    const existing = new Map<string, Entry>();
    before.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const e = parseKey(line, i);
      if (e) existing.set(e.id, e);
    });
    const rankBase = existing.size;
    const wanted: string[] = [];
    let write = false;
    const newKeys = args.key.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    newKeys.forEach((line, i) => {
      const parsed = parseKey(line, i);
      if (!parsed || parsed.raw !== undefined) throw new ModuleError(`invalid key specified: ${line}`);
      if (args.key_options != null) parsed.options = parseOptions(args.key_options);
      if (args.comment != null) parsed.comment = args.comment;
      const have = existing.get(parsed.id);
      const matched = have !== undefined && (args.state === 'absent' || sameKey(have, parsed));
      if (args.state === 'present') {
        wanted.push(parsed.id);
        if (!matched) {
          existing.set(parsed.id, { ...parsed, rank: rankBase + parsed.rank });
          write = true;
        }
      } else if (matched) {
        existing.delete(parsed.id);
        write = true;
      }
    });
    if (args.state === 'present' && args.exclusive) {
      for (const id of [...existing.keys()]) if (!wanted.includes(id)) {
        existing.delete(id);
        write = true;
      }
    }
    const result = { user: args.user, key: args.key, key_options: args.key_options ?? null, keyfile, manage_dir: args.manage_dir, path: args.path ?? null, state: args.state, exclusive: args.exclusive, follow: args.follow, comment: args.comment ?? null };
    if (!write) return { changed: false, result };
    const after = serialize(existing.values());
    let target = keyfile;
    if (args.follow) {
      const r = await ctx.conn.exec(`readlink -m -- ${shellQuote(keyfile)}`, become);
      if (r.rc === 0 && r.stdout.trim()) target = r.stdout.trim();
    }
    return {
      changed: true,
      msg: `${args.state === 'present' ? 'add' : 'remove'} keys in ${target}`,
      diff: [fileDiff(target, beforeBuf, after)],
      result,
      effects: [
        ...(args.manage_dir ? [{ path: sshDir, state: 'directory' as const, mode: 0o700, owner: user.name }] : []),
        { path: target, state: 'file', content: Buffer.from(after), mode: 0o600, owner: user.name },
      ],
      apply: async () => {
        const dir = shellQuote(sshDir);
        const prep = args.manage_dir
          ? `mkdir -p -m 700 -- ${dir} && chown ${user.uid}:${user.gid} -- ${dir} && chmod 700 -- ${dir}`
          : `mkdir -p -- ${dir}`;
        const r = await ctx.conn.exec(prep, become);
        if (r.rc !== 0) throw new ModuleError(`cannot prepare ${sshDir}: ${r.stderr.trim()}`);
        // As Ansible: the file is the user's and 0600, with or without manage_dir.
        await ctx.conn.put(target, after, { mode: 0o600, owner: String(user.uid), group: String(user.gid), ...become });
      },
    };
  },
});
