// apt_repository: one-line apt sources (`deb [opts] URI suite components`) in /etc/apt/sources.list(.d/*.list).
//
// As Ansible: every source file is read (one round trip); `present` enables a commented-out copy of the line wherever
// it is, else appends it to sources.list.d/<filename>.list (the name derived from the URI when not given); `absent`
// removes every enabled copy, and a file left empty is deleted. Whitespace inside a source line is normalised, other
// lines are kept. Files are written atomically (temp file + rename); `update_cache` (default yes) runs `apt-get update`
// after a change.

import { posix } from 'node:path';
import { SOURCES_DIR, SOURCES_LIST, UPDATE_STAMP } from './apt-paths.ts';
import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule, type FileDiff, type FileEffect, type ModuleContext } from './contract.ts';

interface AptRepositoryArgs {
  repo: string;
  state: 'present' | 'absent';
  mode?: number;
  update_cache: boolean;
  update_cache_retries: number;
  update_cache_retry_max_delay: number;
  filename?: string;
  validate_certs: boolean;
  codename?: string;
  install_python_apt: boolean;
}

const VALID_TYPES = new Set(['deb', 'deb-src']);
const MARK = '@@kplay-file@@';

interface Line {
  valid: boolean;
  enabled: boolean;
  source: string;
  comment: string;
}

function parseLine(raw: string): Line {
  let line = raw.trim();
  let enabled = true;
  let comment = '';
  if (line.startsWith('#')) {
    enabled = false;
    line = line.slice(1);
  }
  const hash = line.indexOf('#');
  if (hash > 0) {
    comment = line.slice(hash + 1).trim();
    line = line.slice(0, hash);
  }
  let source = line.trim();
  let valid = false;
  if (source) {
    const chunks = source.split(/\s+/);
    if (VALID_TYPES.has(chunks[0])) {
      valid = true;
      source = chunks.join(' ');
    }
  }
  return { valid, enabled, source, comment };
}

function dump(lines: Line[]): string {
  return lines.map((l) => `${l.enabled ? '' : '# '}${l.source}${l.comment ? ` # ${l.comment}` : ''}\n`).join('');
}

/** Ansible's file name for a new source: the URI's host and path, non-alphanumerics as `_`. */
export function suggestFilename(source: string): string {
  const line = source.replace(/\[[^\]]+\]/g, '').replace(/\w+:\/\//g, '');
  const parts = line.split(/\s+/).filter((p) => p !== '' && !VALID_TYPES.has(p));
  const first = (parts[0] ?? '').split('@').pop() ?? '';
  return `${first.replace(/[^a-zA-Z0-9]/g, ' ').split(/\s+/).filter((p) => p !== '').join('_')}.list`;
}

export default defineModule<AptRepositoryArgs>({
  name: 'apt_repository',
  spec: {
    args: {
      repo: { type: 'str', required: true, description: 'A sources.list line: `deb [options] URI suite [components]`.' },
      state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
      mode: { type: 'mode', description: 'Mode of a new source file (default 0644).' },
      update_cache: { type: 'bool', default: true, aliases: ['update-cache'] },
      update_cache_retries: { type: 'int', default: 5 },
      update_cache_retry_max_delay: { type: 'int', default: 12 },
      filename: { type: 'str', description: 'sources.list.d/<filename>.list' },
      validate_certs: { type: 'bool', default: true },
      codename: { type: 'str' },
      install_python_apt: { type: 'bool', default: true },
    },
  },
  async plan(args, ctx) {
    const repo = args.repo.trim();
    if (repo.startsWith('ppa:')) throw new ModuleError('PPA repositories are for Ubuntu: kplay does not add them');
    const wanted = parseLine(repo);
    if (!wanted.valid || !wanted.enabled) throw new ModuleError(`Invalid repository string: ${repo}`);
    if (args.filename?.includes('/')) throw new ModuleError(`filename must be a name, not a path: ${args.filename}`);

    // One round trip: the names of the source files (the overlay then answers for planned ones in --check).
    const listing = await ctx.conn.exec(`ls -1 ${SOURCES_DIR} 2>/dev/null; true`, { become: ctx.become });
    const overlay = ctx.conn;
    const names = new Set(listing.stdout.split('\n').filter((n) => n.endsWith('.list')).map((n) => `${SOURCES_DIR}/${n}`));
    for (const p of overlay.plannedUnder?.(SOURCES_DIR) ?? []) if (p.endsWith('.list')) names.add(p);
    const paths = [SOURCES_LIST, ...[...names].sort()];
    const contents = await readFiles(ctx, paths);
    const files = new Map<string, Line[]>();
    for (const [path, text] of contents) {
      if (text === null) continue;
      files.set(path, text.split('\n').slice(0, text.endsWith('\n') ? -1 : undefined).map(parseLine));
    }
    const before = new Map([...files].map(([p, lines]) => [p, dump(lines)]));

    const created = new Set<string>();
    if (args.state === 'present') {
      let found = false;
      for (const lines of files.values()) {
        for (const line of lines) {
          if (line.source === wanted.source) {
            line.enabled = true;
            found = true;
          }
        }
      }
      if (!found) {
        const target = posix.join(SOURCES_DIR, args.filename ? `${args.filename}.list` : suggestFilename(wanted.source));
        if (!files.has(target)) {
          files.set(target, []);
          created.add(target);
        }
        files.get(target)!.push({ valid: true, enabled: true, source: wanted.source, comment: wanted.comment });
      }
    } else {
      for (const [path, lines] of files) files.set(path, lines.filter((l) => !(l.source === wanted.source && l.enabled)));
    }

    const after = new Map([...files].map(([p, lines]) => [p, lines.length ? dump(lines) : null]));
    const changes = [...after].filter(([p, text]) => (before.get(p) ?? null) !== text);
    const result = { repo, state: args.state };
    if (changes.length === 0) return { changed: false, result };

    const diff: FileDiff[] = changes.map(([path, text]) => ({ path, before: before.get(path) ?? '', after: text ?? '' }));
    const effects: FileEffect[] = changes.map(([path, text]) =>
      text === null ? { path, state: 'absent' } : { path, state: 'file', content: Buffer.from(text), ...(created.has(path) ? { mode: args.mode ?? 0o644 } : {}) },
    );
    // The cache update, for later apt tasks of a --check run (they then plan on lists fetched from these sources).
    if (args.update_cache) effects.push({ path: UPDATE_STAMP, state: 'file' });
    return {
      changed: true,
      msg: changes.map(([path, text]) => `${text === null ? 'remove' : created.has(path) ? 'create' : 'update'} ${path}`).join(', '),
      diff,
      effects,
      result: { ...result, diff: diff.map((d) => ({ before: d.before, after: d.after, before_header: d.path, after_header: d.path })) },
      apply: async () => {
        for (const [path, text] of changes) {
          if (text === null) {
            const r = await ctx.conn.exec(`rm -f ${shellQuote(path)}`, { become: ctx.become });
            if (r.rc !== 0) throw new ModuleError(`cannot remove ${path}: ${r.stderr.trim()}`);
            continue;
          }
          const st = created.has(path) ? undefined : await ctx.conn.stat(path, { become: ctx.become });
          await ctx.conn.put(path, text, { mode: created.has(path) ? (args.mode ?? 0o644) : st?.mode, become: ctx.become });
        }
        if (args.update_cache) await updateCache(ctx, args.update_cache_retries);
      },
    };
  },
});

/** Several files' contents in one round trip (through the overlay's get for the ones a --check run plans). */
async function readFiles(
  ctx: ModuleContext,
  paths: string[],
): Promise<Map<string, string | null>> {
  const overlay = ctx.conn;
  const plannedPaths = new Set([...(overlay.plannedUnder?.(SOURCES_DIR) ?? []), ...(overlay.plannedUnder?.(SOURCES_LIST) ?? [])]);
  const direct = paths.filter((p) => !plannedPaths.has(p));
  const out = new Map<string, string | null>();
  if (direct.length > 0) {
    const script = direct.map((p) => `if [ -f ${shellQuote(p)} ]; then echo ${MARK}${p}; base64 -w0 ${shellQuote(p)}; echo; fi`).join('\n');
    const r = await ctx.conn.exec(script, { become: ctx.become });
    if (r.rc !== 0) throw new ModuleError(`cannot read apt sources: ${r.stderr.trim()}`);
    for (const p of direct) out.set(p, null);
    const lines = r.stdout.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].startsWith(MARK)) out.set(lines[i].slice(MARK.length), Buffer.from(lines[i + 1] ?? '', 'base64').toString());
    }
  }
  for (const p of paths.filter((p) => plannedPaths.has(p))) out.set(p, (await ctx.conn.get(p, { become: ctx.become }))?.toString() ?? null);
  return out;
}

/** `apt-get update`, retried as Ansible does (with a shorter back-off). */
export async function updateCache(
  ctx: ModuleContext,
  retries: number,
): Promise<void> {
  const script =
    `export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8; n=0; while :; do out=$(apt-get update -q 2>&1) && exit 0; ` +
    `n=$((n+1)); [ $n -ge ${Math.max(1, retries)} ] && { printf '%s\\n' "$out" >&2; exit 1; }; sleep $n; done`;
  const r = await ctx.conn.exec(script, { become: ctx.become });
  if (r.rc !== 0) throw new ModuleError(`Failed to update apt cache: ${r.stderr.trim()}`);
}
