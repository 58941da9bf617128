// deb822_repository (Ansible 2.15+): one repository as /etc/apt/sources.list.d/<name>.sources in deb822 form.
//
// The file is rendered on the controller from the arguments (`X-Repolib-Name` first, then the fields in the order of
// Ansible's argument names, lists space-separated, booleans yes/no), compared with the host's (one read), and placed
// atomically. `signed_by` is an inline ASCII-armored key (written into the file, continuation lines indented, empty
// lines as ` .`), a path on the host, or a URL: the key is fetched on the host (in plan, a read) and kept as
// /etc/apt/keyrings/<name>.asc, referenced by path.

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule, type FileDiff, type FileEffect } from './contract.ts';

interface Deb822Args {
  name: string;
  state: 'present' | 'absent';
  types: string[];
  uris?: string[];
  suites?: string[];
  components?: string[];
  signed_by?: string;
  architectures?: string[];
  enabled?: boolean;
  trusted?: boolean;
  allow_insecure?: boolean;
  allow_weak?: boolean;
  allow_downgrade_to_insecure?: boolean;
  by_hash?: boolean;
  check_date?: boolean;
  check_valid_until?: boolean;
  date_max_future?: number;
  inrelease_path?: string;
  languages?: string[];
  pdiffs?: boolean;
  targets?: string[];
  mode: number;
  install_python_debian: boolean;
}

const DIR = '/etc/apt/sources.list.d';
const KEYRINGS = '/etc/apt/keyrings';

// Argument → deb822 field, in the order the file lists them.
const FIELDS: [keyof Deb822Args, string][] = [
  ['allow_downgrade_to_insecure', 'Allow-Downgrade-To-Insecure'],
  ['allow_insecure', 'Allow-Insecure'],
  ['allow_weak', 'Allow-Weak'],
  ['architectures', 'Architectures'],
  ['by_hash', 'By-Hash'],
  ['check_date', 'Check-Date'],
  ['check_valid_until', 'Check-Valid-Until'],
  ['components', 'Components'],
  ['date_max_future', 'Date-Max-Future'],
  ['enabled', 'Enabled'],
  ['inrelease_path', 'InRelease-Path'],
  ['languages', 'Languages'],
  ['pdiffs', 'PDiffs'],
  ['signed_by', 'Signed-By'],
  ['suites', 'Suites'],
  ['targets', 'Targets'],
  ['trusted', 'Trusted'],
  ['types', 'Types'],
  ['uris', 'URIs'],
];

/** The file's name: the repository's name lowercased, blanks and `_` as `-`, other characters dropped. */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[_\s]+/g, '-').replace(/[^a-z0-9-]+/g, '');
}

function multiline(value: string): string {
  const lines = value.trim().split('\n');
  return [lines[0], ...lines.slice(1).map((l) => (l.trim() === '' ? ' .' : ` ${l.trim()}`))].join('\n');
}

export default defineModule<Deb822Args>({
  name: 'deb822_repository',
  spec: {
    args: {
      name: { type: 'str', required: true, description: 'The repository; the file is sources.list.d/<name>.sources.' },
      state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
      types: { type: 'list', elements: 'str', default: ['deb'] },
      uris: { type: 'list', elements: 'str' },
      suites: { type: 'list', elements: 'str' },
      components: { type: 'list', elements: 'str' },
      signed_by: { type: 'str', description: 'An inline ASCII-armored key, a path on the host, or a URL to fetch.' },
      architectures: { type: 'list', elements: 'str', aliases: ['arch'] },
      enabled: { type: 'bool' },
      trusted: { type: 'bool' },
      allow_insecure: { type: 'bool' },
      allow_weak: { type: 'bool' },
      allow_downgrade_to_insecure: { type: 'bool' },
      by_hash: { type: 'bool' },
      check_date: { type: 'bool' },
      check_valid_until: { type: 'bool' },
      date_max_future: { type: 'int' },
      inrelease_path: { type: 'str' },
      languages: { type: 'list', elements: 'str' },
      pdiffs: { type: 'bool' },
      targets: { type: 'list', elements: 'str' },
      mode: { type: 'mode', default: 0o644 },
      install_python_debian: { type: 'bool', default: false },
    },
    requiredIf: [['state', 'present', ['uris', 'suites']]],
  },
  async plan(args, ctx) {
    for (const t of args.types) if (t !== 'deb' && t !== 'deb-src') throw new ModuleError(`types: ${t} is not deb or deb-src`);
    const id = slug(args.name);
    if (id === '') throw new ModuleError(`name ${JSON.stringify(args.name)} gives an empty file name`);
    const dest = `${DIR}/${id}.sources`;
    const keyPath = `${KEYRINGS}/${id}.asc`;
    const signed = args.signed_by?.trim();
    const keyIsUrl = !!signed && /^[a-z][a-z0-9+.-]*:\/\//i.test(signed);

    // Reads: the file (and key) as they are, and in the same round trip the key from its URL.
    const [now, nowStat, keyNow, fetched] = await Promise.all([
      ctx.conn.get(dest, { become: ctx.become }),
      ctx.conn.stat(dest, { become: ctx.become }),
      keyIsUrl || args.state === 'absent' ? ctx.conn.get(keyPath, { become: ctx.become }) : Promise.resolve(null),
      keyIsUrl && args.state === 'present'
        ? ctx.conn.exec(`curl -fsSL --max-time 30 ${shellQuote(signed)} || wget -qO- --timeout=30 ${shellQuote(signed)}`, { become: ctx.become })
        : Promise.resolve(null),
    ]);
    const before = now?.toString() ?? null;
    const changes: { path: string; content: string | null; mode?: number }[] = [];

    if (args.state === 'absent') {
      if (before !== null) changes.push({ path: dest, content: null });
      if (keyNow !== null) changes.push({ path: keyPath, content: null });
    } else {
      let signedBy = signed;
      if (keyIsUrl) {
        if (!fetched || fetched.rc !== 0 || fetched.stdout.trim() === '') {
          throw new ModuleError(`Failed to download key at ${signed}: ${fetched?.stderr.trim() ?? ''}`);
        }
        if (keyNow?.toString() !== fetched.stdout) changes.push({ path: keyPath, content: fetched.stdout, mode: 0o644 });
        signedBy = keyPath;
      }
      const lines = [`X-Repolib-Name: ${args.name}`];
      for (const [arg, field] of FIELDS) {
        const value = arg === 'signed_by' ? signedBy : args[arg];
        if (value === undefined || value === null) continue;
        let text: string;
        if (typeof value === 'boolean') text = value ? 'yes' : 'no';
        else if (Array.isArray(value)) text = value.join(' ');
        else text = arg === 'signed_by' ? multiline(String(value)) : String(value);
        lines.push(`${field}: ${text}`);
      }
      const content = `${lines.join('\n')}\n`;
      if (content !== before || nowStat.mode !== args.mode) changes.push({ path: dest, content, mode: args.mode });
    }

    const result: Record<string, unknown> = { dest, state: args.state, ...(keyIsUrl ? { key_filename: keyPath } : {}) };
    if (args.state === 'present') result.repo = changes.find((c) => c.path === dest)?.content ?? before;
    if (changes.length === 0) return { changed: false, result };
    const diff: FileDiff[] = changes.map((c) => ({
      path: c.path,
      before: (c.path === dest ? before : keyNow?.toString()) ?? '',
      after: c.content ?? '',
    }));
    const effects: FileEffect[] = changes.map((c) =>
      c.content === null ? { path: c.path, state: 'absent' } : { path: c.path, state: 'file', content: Buffer.from(c.content), mode: c.mode },
    );
    return {
      changed: true,
      msg: changes.map((c) => `${c.content === null ? 'remove' : 'write'} ${c.path}`).join(', '),
      diff,
      effects,
      result,
      apply: async () => {
        for (const c of changes) {
          if (c.content === null) {
            const r = await ctx.conn.exec(`rm -f ${shellQuote(c.path)}`, { become: ctx.become });
            if (r.rc !== 0) throw new ModuleError(`cannot remove ${c.path}: ${r.stderr.trim()}`);
          } else {
            if (c.path === keyPath) await ctx.conn.exec(`mkdir -p ${KEYRINGS}`, { become: ctx.become });
            await ctx.conn.put(c.path, c.content, { mode: c.mode, become: ctx.become });
          }
        }
      },
    };
  },
});
