// apt: Debian packages installed, upgraded or removed with the host's own apt-get and dpkg.
//
// Round trips: one read of dpkg's status for the whole list (with the cache's age and the host's clock), then, when
// something may change, one `apt-get -s` simulation of the exact command apply() will run, so `changed`, the diff
// (Ansible's `prepared` text) and the plan are what the real run does. When the cache is out of date the simulation
// first runs `apt-get update` into a scratch lists folder (removed after), against the sources as the run would leave
// them (in --check, the overlay's planned .sources/.list files), so a package from a repository added earlier in the
// same run is planned truthfully. apply() runs one shell command: the update (when due) and one apt-get.
//
// Deliberate difference from Ansible: an apt cache update counts as a change also when a package list is given and
// nothing else changes (Ansible then reports changed=false but still updates it; kplay only writes in apply()).

import { shellQuote } from '../core/shell.ts';
import { SOURCES_DIR, SOURCES_LIST, UPDATE_STAMP } from './apt-paths.ts';
import { ModuleError, defineModule, type FileEffect, type ModuleContext, type Plan } from './contract.ts';

export interface AptArgs {
  name?: string[];
  state: 'present' | 'absent' | 'latest' | 'fixed';
  update_cache?: boolean;
  cache_valid_time: number;
  deb?: string;
  install_recommends?: boolean;
  autoremove: boolean;
  purge: boolean;
  force: boolean;
  allow_downgrade: boolean;
  allow_unauthenticated: boolean;
  allow_change_held_packages: boolean;
  only_upgrade: boolean;
  fail_on_autoremove: boolean;
  dpkg_options: string;
  upgrade: 'no' | 'yes' | 'safe' | 'full' | 'dist';
  default_release?: string;
  lock_timeout: number;
  update_cache_retries: number;
  update_cache_retry_max_delay: number;
  force_apt_get: boolean;
}

export const APT_DEFAULTS = {
  state: 'present',
  cache_valid_time: 0,
  autoremove: false,
  purge: false,
  force: false,
  allow_downgrade: false,
  allow_unauthenticated: false,
  allow_change_held_packages: false,
  only_upgrade: false,
  fail_on_autoremove: false,
  dpkg_options: 'force-confdef,force-confold',
  upgrade: 'no',
  lock_timeout: 60,
  update_cache_retries: 5,
  update_cache_retry_max_delay: 12,
  force_apt_get: false,
} as const satisfies Partial<AptArgs>;

const ENV = 'export DEBIAN_FRONTEND=noninteractive DEBIAN_PRIORITY=critical LANG=C.UTF-8 LC_ALL=C.UTF-8 LC_MESSAGES=C.UTF-8';
const LISTS = '/var/lib/apt/lists';
// Reads must not leave a package cache behind.
const READ_OPTS = '-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=';
const MARK = '@@kplay@@';

interface Installed {
  version: string;
  status: string;
  arch: string;
}

interface Spec {
  raw: string;
  name: string;
  /** Exact version, or a glob (`1.*`) resolved on the host. */
  version?: string;
}

function splitSpec(raw: string): Spec {
  const m = /^([^=<>]+?)(?:=(.+))?$/.exec(raw.trim());
  if (!m) throw new ModuleError(`invalid package spec ${raw}`);
  return { raw: raw.trim(), name: m[1].trim(), version: m[2]?.trim() };
}

const isGlob = (s: string): boolean => /[*?[]/.test(s);

/** Shell `case` pattern match stands in for fnmatch, as Ansible matches version globs. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) re += ch === '*' ? '.*' : ch === '?' ? '.' : /[\\^$.|+(){}[\]]/.test(ch) ? `\\${ch}` : ch;
  return new RegExp(`^${re}$`);
}

function parseSections(stdout: string): Map<string, string> {
  const sections = new Map<string, string>();
  let current = '';
  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARK)) {
      current = line.slice(MARK.length);
      sections.set(current, '');
    } else if (current) {
      sections.set(current, `${sections.get(current) ?? ''}${line}\n`);
    }
  }
  return sections;
}

/** What an `apt-get -s` run would do: Inst/Remv/Purg lines. */
export interface Simulated {
  install: { name: string; from?: string; to: string; arch: string }[];
  remove: { name: string; version: string; purge: boolean }[];
  text: string;
}

export function parseSimulation(out: string): Simulated {
  const sim: Simulated = { install: [], remove: [], text: out };
  for (const line of out.split('\n')) {
    let m = /^Inst (\S+) (?:\[([^\]]+)\] )?\((\S+) .*?\[([^\]]+)\]\)/.exec(line);
    if (m) {
      sim.install.push({ name: m[1], from: m[2], to: m[3], arch: m[4] });
      continue;
    }
    m = /^(Remv|Purg) (\S+)(?: \[([^\]]+)\])?/.exec(line);
    if (m) sim.remove.push({ name: m[2], version: m[3] ?? '', purge: m[1] === 'Purg' });
  }
  return sim;
}

/** Ansible's diff: apt-get's output after "Reading state information..." (or all of it) to the "N upgraded" line. */
export function prepared(out: string): string {
  const lines = out.replace(/\n$/, '').split('\n');
  const start = lines.indexOf('Reading state information...') + 1;
  const end = lines.findIndex((l) => /^[0-9]+ (packages )?upgraded/.test(l));
  return lines.slice(start, end < 0 ? lines.length : end + 1).join('\n');
}

function dpkgOptions(options: string): string {
  return options
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '')
    .map((o) => `-o ${shellQuote(`Dpkg::Options::=--${o}`)}`)
    .join(' ');
}

/** The apt-get words both the simulation and the real run use. */
function commonFlags(args: AptArgs): string[] {
  const f = ['-y', dpkgOptions(args.dpkg_options), `-o DPkg::Lock::Timeout=${args.lock_timeout}`];
  if (args.force) f.push('--allow-unauthenticated', '--allow-downgrades', '--allow-remove-essential', '--allow-change-held-packages');
  if (args.allow_unauthenticated) f.push('--allow-unauthenticated');
  if (args.allow_downgrade) f.push('--allow-downgrades');
  if (args.allow_change_held_packages) f.push('--allow-change-held-packages');
  if (args.fail_on_autoremove) f.push('--no-remove');
  if (args.default_release) f.push('-t', shellQuote(args.default_release));
  if (args.install_recommends === false) f.push('-o APT::Install-Recommends=no');
  if (args.install_recommends === true) f.push('-o APT::Install-Recommends=yes');
  return f.filter((w) => w !== '');
}

/** The source files the run would see: in --check, the overlay's planned ones replace or add to the host's. */
async function plannedSources(ctx: ModuleContext): Promise<{ path: string; content: string | null }[]> {
  const overlay = ctx.conn;
  if (typeof overlay.plannedUnder !== 'function') return [];
  const paths = [...overlay.plannedUnder(SOURCES_DIR), ...overlay.plannedUnder(SOURCES_LIST)];
  return Promise.all(
    [...new Set(paths)].map(async (path) => ({ path, content: (await ctx.conn.get(path, { become: ctx.become }))?.toString() ?? null })),
  );
}

/** Shell lines that make $T/etc a copy of /etc/apt's sources with the planned files applied, and set $SRC. */
function sourcesScript(planned: { path: string; content: string | null }[]): string {
  if (planned.length === 0) return 'SRC=""';
  const lines = [
    'mkdir -p "$T/etc/sources.list.d"',
    `cp -a ${SOURCES_DIR}/. "$T/etc/sources.list.d/" 2>/dev/null; cp -a ${SOURCES_LIST} "$T/etc/sources.list" 2>/dev/null || : > "$T/etc/sources.list"`,
  ];
  for (const { path, content } of planned) {
    const target = path === SOURCES_LIST ? '"$T/etc/sources.list"' : `"$T/etc/sources.list.d/"${shellQuote(path.split('/').pop() ?? '')}`;
    lines.push(
      content === null ? `rm -f ${target}` : `printf %s ${shellQuote(Buffer.from(content).toString('base64'))} | base64 -d > ${target}`,
    );
  }
  lines.push('SRC="-o Dir::Etc::sourcelist=$T/etc/sources.list -o Dir::Etc::sourceparts=$T/etc/sources.list.d"');
  return lines.join('\n');
}

interface Action {
  /** apt-get's words after the flags: `install 'a' 'b=1.0'`, `remove ...`, `dist-upgrade`, `autoremove`. */
  words: string;
  /** Shell that resolves version globs into $V_<i> before the command (the same in simulation and real run). */
  resolve: string;
}

export async function planApt(given: Partial<AptArgs>, ctx: ModuleContext): Promise<Plan> {
  const args = { ...APT_DEFAULTS, ...given } as AptArgs;
  if (args.name && (args.deb || args.upgrade !== 'no')) throw new ModuleError('parameters are mutually exclusive: deb|package|upgrade');
  if (args.deb && args.state !== 'present') throw new ModuleError('deb only supports state=present');
  const specs = (args.name ?? []).filter((n) => n !== '*').map(splitSpec);
  const all = (args.name ?? []).includes('*');
  if (all && args.state !== 'latest') throw new ModuleError('name=* is only valid with state=latest');
  if (all && specs.length > 0) throw new ModuleError('unable to install additional packages when upgrading all installed packages');

  // Round trip 1: the host's clock, the cache's age, dpkg's view of every named package, the deb (if any).
  const names = [...new Set(specs.map((s) => s.name))];
  const wantCache = args.update_cache === true || args.cache_valid_time > 0;
  const deb = args.deb;
  const read = [
    `echo ${MARK}time; date +%s; stat -c %Y ${UPDATE_STAMP} 2>/dev/null || stat -c %Y ${LISTS} 2>/dev/null || echo 0`,
    `echo ${MARK}dpkg; dpkg-query -W -f='\${binary:Package}\\t\${Version}\\t\${db:Status-Status}\\t\${Architecture}\\n' ${names.map(shellQuote).join(' ')} 2>/dev/null`,
    'true',
  ];
  if (names.length === 0) read[1] = `echo ${MARK}dpkg`;
  if (deb) {
    read.push(
      `echo ${MARK}deb; if [ -f ${shellQuote(deb)} ]; then f=${shellQuote(deb)}; dpkg-deb -f "$f" Package Version Architecture; ` +
        `p=$(dpkg-deb -f "$f" Package); echo ${MARK}debinstalled; dpkg-query -W -f='\${Version}\\t\${db:Status-Status}\\n' "$p" 2>/dev/null; true; fi`,
    );
  }
  const first = await ctx.conn.exec(read.join('\n'), { become: ctx.become });
  const sec = parseSections(first.stdout);
  const [nowText, mtimeText] = (sec.get('time') ?? '').trim().split('\n');
  const now = Number(nowText);
  let cacheTime = Number(mtimeText) || 0;
  const updateDue = wantCache && !(cacheTime + args.cache_valid_time >= now);
  const installed = new Map<string, Installed>();
  for (const line of (sec.get('dpkg') ?? '').split('\n')) {
    const [pkg, version, status, arch] = line.split('\t');
    if (!pkg || status === undefined) continue;
    const name = pkg.replace(/:.*$/, '');
    const prev = installed.get(name);
    if (!prev || prev.status !== 'installed') installed.set(name, { version, status, arch });
  }
  // In --check, what earlier apt tasks of this run would have installed or removed (see `PLANNED_DPKG`).
  const plannedDpkg = await plannedPackages(ctx);
  for (const [name, stanza] of plannedDpkg) {
    if (stanza === null) installed.delete(name);
    else installed.set(name, { version: field(stanza, 'Version'), status: field(stanza, 'Status').split(' ')[2] ?? '', arch: field(stanza, 'Architecture') });
  }
  const overlay = ctx.conn;
  // An earlier task of a --check run would update the cache (apt_repository): plan on fresh lists too.
  const stampPlanned = (overlay.plannedUnder?.(UPDATE_STAMP) ?? []).length > 0;

  // The deb: on the host, else on the controller (sent over stdin to a scratch file in the simulation and the run).
  let debBytes: Buffer | undefined;
  let debInfo: { pkg: string; version: string; arch: string; installedVersion?: string; installedStatus?: string } | undefined;
  if (deb) {
    const fields = (sec.get('deb') ?? '').trim();
    if (!sec.has('deb') || fields === '') {
      let local: string;
      try {
        local = ctx.findFile(deb, 'files');
      } catch {
        throw new ModuleError(`deb file ${deb} is neither on the host nor on the controller`);
      }
      debBytes = (await ctx.controller.get(local)) ?? undefined;
      if (!debBytes) throw new ModuleError(`deb file ${deb} is neither on the host nor on the controller`);
    } else {
      debInfo = parseDebFields(fields, sec.get('debinstalled') ?? '');
    }
  }

  const action = chooseAction(args, specs, installed, all, debInfo, !!debBytes);
  if (!action && !debBytes) {
    if (!updateDue) return { changed: false, result: { cache_updated: false, cache_update_time: cacheTime, stdout: '', stderr: '' } };
    return {
      changed: true,
      msg: 'update the apt cache',
      result: { cache_updated: true, cache_update_time: now, stdout: '', stderr: '' },
      apply: () => runApt(ctx, [ENV, 'apt-get update -q 2>&1'], undefined, 'update', now),
    };
  }
  const scratchUpdate = updateDue || stampPlanned;
  const planned = scratchUpdate ? await plannedSources(ctx) : [];

  // Round trip 2: (scratch update) + resolve globs + simulate.
  const flags = commonFlags(args).join(' ');
  const simulate = [
    'T=$(mktemp -d /tmp/kplay-apt.XXXXXX) || exit 90',
    'trap \'rm -rf "$T"\' EXIT',
    ENV,
    `O="${READ_OPTS}"`,
  ];
  if (debBytes) simulate.push('cat > "$T/pkg.deb"', `echo ${MARK}deb; dpkg-deb -f "$T/pkg.deb" Package Version Architecture; p=$(dpkg-deb -f "$T/pkg.deb" Package); echo ${MARK}debinstalled; dpkg-query -W -f='\${Version}\\t\${db:Status-Status}\\n' "$p" 2>/dev/null; true`);
  if (plannedDpkg.size > 0) {
    // dpkg's status as the earlier planned tasks would leave it, for the simulation.
    const names = [...plannedDpkg.keys()].join(' ');
    const stanzas = [...plannedDpkg.values()].filter((v): v is string => v !== null).map((v) => `${v.trim()}\n\n`).join('');
    simulate.push(
      `awk -v skip=${shellQuote(names)} 'BEGIN{n=split(skip,a," "); for(i=1;i<=n;i++) s[a[i]]=1; RS=""; ORS="\\n\\n"} ` +
        `{ split($0, l, "\\n"); sub(/^Package: /, "", l[1]); if (!(l[1] in s)) print }' /var/lib/dpkg/status > "$T/status"`,
      `printf %s ${shellQuote(Buffer.from(stanzas).toString('base64'))} | base64 -d >> "$T/status"`,
      'O="$O -o Dir::State::status=$T/status"',
    );
  }
  if (scratchUpdate) {
    simulate.push(
      sourcesScript(planned),
      'mkdir -p "$T/lists/partial"',
      // The host's update hooks (a success stamp, notifiers) must not run for a scratch update.
      `printf '%s\\n' '#clear APT::Update::Pre-Invoke;' '#clear APT::Update::Post-Invoke;' '#clear APT::Update::Post-Invoke-Success;' > "$T/hooks.conf"`,
      'O="$O -c $T/hooks.conf"',
      `echo ${MARK}update; apt-get update -q $SRC -o Dir::State::Lists="$T/lists" -o APT::Sandbox::User=root $O 2>&1 || { echo ${MARK}updatefailed; exit 0; }`,
      'O="$O $SRC -o Dir::State::Lists=$T/lists"',
    );
  }
  if (action || debBytes) {
    simulate.push(
      action?.resolve ?? '',
      `echo ${MARK}sim; apt-get $O -s ${flags} ${action ? action.words : `install "$T/pkg.deb"`} > "$T/sim" 2>&1; rc=$?; cat "$T/sim"; echo "${MARK}rc$rc"`,
      // What the planned state would be, for later tasks of a --check run: the stanza of each package to install,
      // and whether a package to remove keeps conffiles.
      `echo ${MARK}show; sed -n 's/^Inst \\([^ ]*\\) .*(\\([^ ]*\\) .*/\\1=\\2/p' "$T/sim" | while read -r pv; do apt-cache $O show "$pv" 2>/dev/null | awk 'BEGIN{RS=""} NR==1{print; print ""}'; done`,
      `echo ${MARK}conffiles; sed -n 's/^Remv \\([^ ]*\\).*/\\1/p' "$T/sim" | while read -r p; do [ -n "$(dpkg-query -W -f='\${Conffiles}' "$p" 2>/dev/null)" ] && echo "$p"; done; true`,
    );
  }
  const second = await ctx.conn.exec(simulate.join('\n'), { become: ctx.become, stdin: debBytes });
  const sec2 = parseSections(second.stdout);
  if (sec2.has('updatefailed')) throw new ModuleError(`Failed to update apt cache: ${(sec2.get('update') ?? '').trim()}`);
  if (second.rc !== 0 && !sec2.has('sim')) throw new ModuleError(`apt simulation failed: ${(second.stderr || second.stdout).trim()}`);
  let finalAction = action;
  if (debBytes) {
    debInfo = parseDebFields((sec2.get('deb') ?? '').trim(), sec2.get('debinstalled') ?? '');
    finalAction = debAction(args, debInfo, true);
  }
  const simText = sec2.get('sim') ?? '';
  const rcLine = Object.keys(Object.fromEntries(sec2)).find((k) => k.startsWith('rc'));
  const simRc = rcLine ? Number(rcLine.slice(2)) : 0;
  if (finalAction && simRc !== 0) {
    const errors = simText.split('\n').filter((l) => l.startsWith('E:')).join('\n');
    const missing = /Unable to locate package (\S+)|Package '?([^' ]+)'? has no installation candidate|Version '([^']+)' for '([^']+)' was not found/.exec(simText);
    const msg = missing
      ? missing[1] || missing[2]
        ? `No package matching '${missing[1] || missing[2]}' is available`
        : `no available installation candidate for ${missing[4]}=${missing[3]}`
      : `'apt-get ${finalAction.words}' failed: ${errors || simText.trim()}`;
    throw new ModuleError(msg, { rc: simRc, stdout: simText, stderr: errors });
  }
  const sim = finalAction ? parseSimulation(simText) : { install: [], remove: [], text: '' };
  const effects = dpkgEffects(sim, sec2.get('show') ?? '', new Set((sec2.get('conffiles') ?? '').split('\n').filter((l) => l !== '')));
  const pkgChange = sim.install.length > 0 || sim.remove.length > 0;
  // A deb of the same version is reinstalled only with force (dpkg -i does not show as Inst in a simulation).
  const debReinstall = !!finalAction && !!debInfo && args.force && !pkgChange;
  const changed = pkgChange || updateDue || debReinstall;
  const diffText = finalAction && pkgChange ? prepared(simText) : '';
  if (updateDue) cacheTime = now;
  const result: Record<string, unknown> = { cache_updated: updateDue, cache_update_time: cacheTime, stdout: '', stderr: '' };
  if (!changed) return { changed: false, result };

  const summary = [
    ...sim.install.map((p) => `${p.from ? 'upgrade' : 'install'} ${p.name} ${p.from ? `${p.from} → ` : ''}${p.to}`),
    ...sim.remove.map((p) => `${p.purge ? 'purge' : 'remove'} ${p.name}`),
  ];
  if (updateDue) summary.unshift('update the apt cache');
  return {
    changed: true,
    msg: summary.join(', ') || undefined,
    diff: diffText ? [{ path: 'apt', before: '', after: '', prepared: diffText }] : undefined,
    effects,
    result: { ...result, ...(diffText ? { diff: { prepared: diffText } } : {}) },
    apply: () => {
      const script = [ENV];
      if (debBytes) script.push('T=$(mktemp -d /tmp/kplay-apt.XXXXXX)', 'trap \'rm -rf "$T"\' EXIT', 'cat > "$T/pkg.deb"');
      if (updateDue) script.push('apt-get update -q 2>&1');
      if (finalAction && (pkgChange || debReinstall)) {
        script.push(finalAction.resolve, `apt-get ${flags} ${debReinstall ? '--reinstall ' : ''}${finalAction.words}`);
      }
      return runApt(ctx, script, debBytes, finalAction?.words ?? 'update', cacheTime);
    },
  };
}

/** The real run: one shell with the update (when due) and one apt-get; then the cache's time, as Ansible reports it. */
async function runApt(ctx: ModuleContext, lines: string[], stdin: Buffer | undefined, what: string, cacheTime: number): Promise<Record<string, unknown>> {
  const body = lines.filter((l) => l !== '').join('\n');
  const script = `(\nset -e\n${body}\n)\nrc=$?\necho ${MARK}time\nstat -c %Y ${UPDATE_STAMP} 2>/dev/null || stat -c %Y ${LISTS} 2>/dev/null\nexit $rc`;
  const r = await ctx.conn.exec(script, { become: ctx.become, stdin });
  const at = r.stdout.lastIndexOf(`${MARK}time\n`);
  const stdout = at >= 0 ? r.stdout.slice(0, at) : r.stdout;
  const updateTime = at >= 0 ? Number(r.stdout.slice(at + MARK.length + 5).trim()) || cacheTime : cacheTime;
  if (r.rc !== 0) {
    const why = r.stderr.split('\n').filter((l) => l.startsWith('E:')).join('\n') || r.stderr.trim() || stdout.trim().split('\n').slice(-3).join('\n');
    throw new ModuleError(`'apt-get ${what}' failed: ${why}`, { rc: r.rc, stdout, stderr: r.stderr });
  }
  return { stdout, stderr: r.stderr, cache_update_time: updateTime };
}

/**
 * The --check overlay holds files only, so apt's plan leaves one pseudo file per package it would change under this
 * folder (never written to a host): its dpkg status stanza, or absent when purged. Later apt tasks of the same --check
 * run read them through the overlay and simulate against dpkg's status with them applied.
 */
export const PLANNED_DPKG = '/var/lib/dpkg/kplay-planned';

const field = (stanza: string, name: string): string => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1].trim() ?? '';

async function plannedPackages(ctx: ModuleContext): Promise<Map<string, string | null>> {
  const overlay = ctx.conn;
  const paths = (overlay.plannedUnder?.(PLANNED_DPKG) ?? []).filter((p) => p !== PLANNED_DPKG);
  const out = new Map<string, string | null>();
  for (const path of paths) out.set(path.split('/').pop() ?? '', (await ctx.conn.get(path))?.toString() ?? null);
  return out;
}

const STATUS_FIELDS = ['Package', 'Architecture', 'Version', 'Multi-Arch', 'Priority', 'Section', 'Maintainer', 'Pre-Depends', 'Depends',
  'Recommends', 'Suggests', 'Breaks', 'Conflicts', 'Replaces', 'Provides', 'Description'];

function dpkgEffects(sim: Simulated, shown: string, keepsConffiles: Set<string>): FileEffect[] {
  const effects: FileEffect[] = [];
  const stanzas = new Map<string, string>();
  for (const block of shown.split(/\n\s*\n/)) {
    const name = field(block, 'Package');
    if (name && !stanzas.has(name)) stanzas.set(name, block);
  }
  for (const p of sim.install) {
    const block = stanzas.get(p.name) ?? `Package: ${p.name}\nVersion: ${p.to}\nArchitecture: ${p.arch}`;
    const lines = STATUS_FIELDS.map((f) => (field(block, f) ? `${f}: ${field(block, f)}` : '')).filter((l) => l !== '');
    lines.splice(1, 0, 'Status: install ok installed');
    effects.push({ path: `${PLANNED_DPKG}/${p.name}`, state: 'file', content: Buffer.from(`${lines.join('\n')}\n`) });
  }
  for (const p of sim.remove) {
    if (p.purge || !keepsConffiles.has(p.name)) effects.push({ path: `${PLANNED_DPKG}/${p.name}`, state: 'absent' });
    else {
      const text = `Package: ${p.name}\nStatus: deinstall ok config-files\nVersion: ${p.version}\nArchitecture: all\n`;
      effects.push({ path: `${PLANNED_DPKG}/${p.name}`, state: 'file', content: Buffer.from(text) });
    }
  }
  return effects;
}

function parseDebFields(fields: string, installedText: string): { pkg: string; version: string; arch: string; installedVersion?: string; installedStatus?: string } {
  const get = (k: string): string => new RegExp(`^${k}: (.*)$`, 'm').exec(fields)?.[1].trim() ?? '';
  const [installedVersion, installedStatus] = installedText.trim().split('\t');
  return { pkg: get('Package'), version: get('Version'), arch: get('Architecture'), installedVersion: installedVersion || undefined, installedStatus };
}

function debAction(
  args: AptArgs,
  info: { pkg: string; version: string; installedVersion?: string; installedStatus?: string } | undefined,
  scratch: boolean,
  path?: string,
): Action | undefined {
  if (!info) return undefined;
  const same = info.installedStatus === 'installed' && info.installedVersion === info.version;
  if (same && !args.force) return undefined;
  // apt-get takes an argument as a file only when it has a slash in it.
  const file = path && !path.includes('/') ? `./${path}` : (path ?? '');
  return { words: `install ${scratch ? '"$T/pkg.deb"' : shellQuote(file)}`, resolve: '' };
}

function chooseAction(
  args: AptArgs,
  specs: Spec[],
  installed: Map<string, Installed>,
  all: boolean,
  debInfo: { pkg: string; version: string; installedVersion?: string; installedStatus?: string } | undefined,
  debOnController: boolean,
): Action | undefined {
  const auto = args.autoremove ? ' --auto-remove' : '';
  if (args.deb) return debOnController ? undefined : debAction(args, debInfo, false, args.deb);
  if (args.upgrade !== 'no') {
    const verb = args.upgrade === 'dist' || args.upgrade === 'full' ? 'dist-upgrade' : 'upgrade --with-new-pkgs';
    return { words: `${verb}${auto}`, resolve: '' };
  }
  if (all) return { words: `upgrade --with-new-pkgs${auto}`, resolve: '' };
  if (specs.length === 0) {
    if (args.autoremove) return { words: `autoremove${args.purge ? ' --purge' : ''}`, resolve: '' };
    return undefined;
  }
  if (args.state === 'absent') {
    const gone = specs.filter((s) => {
      const i = installed.get(s.name);
      if (!i) return false;
      if (s.version && !globToRegExp(s.version).test(i.version)) return false;
      return i.status === 'installed' || i.status === 'half-installed' || i.status === 'unpacked' || (args.purge && i.status === 'config-files');
    });
    if (gone.length === 0) return undefined;
    return { words: `${args.purge ? 'remove --purge' : 'remove'}${auto} ${gone.map((s) => shellQuote(s.name)).join(' ')}`, resolve: '' };
  }
  const words: string[] = [];
  const resolve: string[] = [];
  specs.forEach((s, i) => {
    const now = installed.get(s.name);
    const isIn = now?.status === 'installed';
    if (args.only_upgrade && !isIn) return;
    const matches = isIn && (!s.version || globToRegExp(s.version).test(now.version));
    // present/fixed: an installed package (of the asked version) is left alone; latest asks apt for the candidate.
    if (matches && args.state !== 'latest') return;
    if (s.version && isGlob(s.version)) {
      // The highest available version matching the glob, as apt-cache lists them (newest first).
      resolve.push(
        `V_${i}=$(apt-cache $O madison ${shellQuote(s.name)} 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | ` +
          `while read -r v; do case "$v" in ${s.version.replace(/[^A-Za-z0-9*?.:~+-]/g, '')}) echo "$v"; break;; esac; done)`,
        `[ -n "$V_${i}" ] || V_${i}=${shellQuote(s.version)}`,
      );
      words.push(`${shellQuote(s.name)}="$V_${i}"`);
    } else {
      words.push(shellQuote(s.version ? `${s.name}=${s.version}` : s.name));
    }
  });
  if (words.length === 0) return undefined;
  const extra = [args.only_upgrade ? '--only-upgrade' : '', args.state === 'fixed' ? '--fix-broken' : ''].filter((w) => w !== '').join(' ');
  return { words: `install${extra ? ` ${extra}` : ''}${auto} ${words.join(' ')}`, resolve: resolve.join('\n') };
}

export default defineModule<AptArgs>({
  name: 'apt',
  spec: {
    args: {
      name: { type: 'list', elements: 'str', aliases: ['pkg', 'package'], description: 'Packages: `name`, `name=version`, `name=1.*`; `*` with state=latest.' },
      state: { type: 'str', default: 'present', choices: ['present', 'absent', 'latest', 'fixed'] },
      update_cache: { type: 'bool', aliases: ['update-cache'] },
      cache_valid_time: { type: 'int', default: 0 },
      update_cache_retries: { type: 'int', default: 5 },
      update_cache_retry_max_delay: { type: 'int', default: 12 },
      deb: { type: 'path', description: 'A .deb on the host, or else on the controller (role files/, beside the playbook).' },
      install_recommends: { type: 'bool', aliases: ['install-recommends'] },
      autoremove: { type: 'bool', default: false },
      purge: { type: 'bool', default: false },
      force: { type: 'bool', default: false },
      force_apt_get: { type: 'bool', default: false },
      allow_downgrade: { type: 'bool', default: false, aliases: ['allow-downgrade', 'allow_downgrades', 'allow-downgrades'] },
      allow_unauthenticated: { type: 'bool', default: false, aliases: ['allow-unauthenticated'] },
      allow_change_held_packages: { type: 'bool', default: false },
      only_upgrade: { type: 'bool', default: false },
      fail_on_autoremove: { type: 'bool', default: false },
      dpkg_options: { type: 'str', default: 'force-confdef,force-confold' },
      upgrade: { type: 'str', default: 'no', choices: ['dist', 'full', 'no', 'safe', 'yes'] },
      default_release: { type: 'str', aliases: ['default-release'] },
      lock_timeout: { type: 'int', default: 60 },
    },
    mutuallyExclusive: [['deb', 'name', 'upgrade']],
    requiredOneOf: [['autoremove', 'deb', 'name', 'update_cache', 'upgrade']],
  },
  plan: (args, ctx) => planApt(args, ctx),
});
