// Ansible's lookups, run on the controller: file, env, template, pipe, fileglob, first_found, vars, items, list,
// dict, indexed_items, sequence, lines, password, ini, csvfile, url; the loop ones: together, nested, cartesian,
// subelements, random_choice. Relative controller paths resolve through the
// search path the runner gives (role files/ or templates/, then the playbook's folder).

import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { lazy } from '../core/lazy.ts';
import { encrypt as cryptEncrypt } from 'unixcrypt';
import { pyRegex } from './regex.ts';
import { JinjaRuntimeError, isPlainObject, isString, num, pyStr, str, tuple } from './values.ts';

const ini = lazy<typeof import('ini')>('ini');
const csv = lazy<typeof import('csv-parse/sync')>('csv-parse/sync');

/** What a lookup may use from its run: files by search path, variables, template rendering. */
export interface LookupHost {
  /** Ordered folders to find a controller file in, for a kind of file. */
  searchPath(kind: 'files' | 'templates' | 'vars'): string[];
  /** The folder relative paths of written files (password) are taken from: the playbook's. */
  basedir(): string;
  variable(name: string): unknown;
  /** Every variable name of the scope (the varnames lookup). */
  variableNames(): string[];
  renderTemplateFile(path: string, extraVars: Record<string, unknown>): string;
}

export type LookupFn = (host: LookupHost, terms: unknown[], kw: Record<string, unknown>) => unknown[];

/** A lookup's failure that `errors='ignore'|'warn'` may swallow (Ansible's AnsibleLookupError). */
export class LookupError extends JinjaRuntimeError {}

function find(host: LookupHost, kind: 'files' | 'templates' | 'vars', name: string): string | undefined {
  if (isAbsolute(name)) return existsSync(name) ? name : undefined;
  for (const dir of host.searchPath(kind)) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function mustFind(host: LookupHost, kind: 'files' | 'templates', name: string, lookup: string): string {
  const p = find(host, kind, name);
  if (!p) throw new LookupError(`The '${lookup}' lookup had an issue accessing the file '${name}'. file not found, use -vvvvv to see paths searched`);
  return p;
}

/** `key=value key2=value2` options after the term, as Ansible's parse_kv reads them. */
function parseKv(text: string): { head: string; opts: Record<string, string> } {
  const words = text.trim().split(/\s+/);
  const opts: Record<string, string> = {};
  const head: string[] = [];
  for (const w of words) {
    const i = w.indexOf('=');
    if (i > 0 && /^\w+$/.test(w.slice(0, i))) opts[w.slice(0, i)] = w.slice(i + 1);
    else head.push(w);
  }
  return { head: head.join(' '), opts };
}

const ASCII_LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const CHAR_SETS: Record<string, string> = {
  ascii_letters: ASCII_LETTERS,
  ascii_lowercase: 'abcdefghijklmnopqrstuvwxyz',
  ascii_uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  hexdigits: '0123456789abcdefABCDEF',
  octdigits: '01234567',
  punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
};

function passwordChars(spec: string | undefined): string {
  const names = spec === undefined ? ['ascii_letters', 'digits', '.,:-_'] : spec.split(',');
  const out = new Set<string>();
  for (const n of names) for (const ch of CHAR_SETS[n] ?? n) out.add(ch);
  return [...out].join('');
}

function sequenceTerm(term: string, kw: Record<string, unknown>): unknown[] {
  const opts: Record<string, string> = {};
  const text = term.trim();
  const short = /^(?:(0x[0-9a-f]+|0[0-7]*|\d+)-)?(0x[0-9a-f]+|0[0-7]*|\d+)(?:\/(0x[0-9a-f]+|0[0-7]*|\d+))?(?::(.+))?$/i.exec(text);
  if (short) {
    if (short[1] !== undefined) opts.start = short[1];
    opts.end = short[2];
    if (short[3] !== undefined) opts.stride = short[3];
    if (short[4] !== undefined) opts.format = short[4];
  } else Object.assign(opts, parseKv(text).opts);
  for (const [k, v] of Object.entries(kw)) opts[k] = pyStr(v);
  const int = (s: string | undefined, d: number): number => (s === undefined ? d : Number(s.startsWith('0x') ? parseInt(s, 16) : /^0\d/.test(s) ? parseInt(s, 8) : parseInt(s, 10)));
  const start = int(opts.start, 1);
  const stride = int(opts.stride, 1);
  let end: number;
  if (opts.count !== undefined) {
    if (opts.end !== undefined) throw new LookupError("can't specify both count and end in with_sequence");
    end = start + (int(opts.count, 0) - 1) * stride;
  } else if (opts.end !== undefined) end = int(opts.end, 0);
  else throw new LookupError("must specify count or end in with_sequence");
  const format = opts.format ?? '%d';
  const out: unknown[] = [];
  if (stride > 0) for (let i = start; i <= end; i += stride) out.push(fmt(format, i));
  else if (stride < 0) for (let i = start; i >= end; i += stride) out.push(fmt(format, i));
  return out;
}

function fmt(format: string, i: number): string {
  return format.replace(/%(0?)(\d*)([dxXo])/g, (_m, zero: string, width: string, c: string) => {
    const s = c === 'x' ? i.toString(16) : c === 'X' ? i.toString(16).toUpperCase() : c === 'o' ? i.toString(8) : String(i);
    return width ? s.padStart(Number(width), zero ? '0' : ' ') : s;
  });
}

function runShell(command: string): string {
  try {
    return execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { status?: number; stderr?: string };
    throw new LookupError(`lookup_plugin.pipe(${command}) returned ${e.status ?? 1}`);
  }
}

/** One level of lists spliced in (Ansible's LookupBase._flatten). */
function flattenOnce(terms: unknown[]): unknown[] {
  return terms.flatMap((t) => (Array.isArray(t) ? t : [t]));
}

/** Each term as a list: a scalar (or a map) becomes a list of one (listify_lookup_plugin_terms). */
function listsOf(terms: unknown[]): unknown[][] {
  return terms.map((t) => (Array.isArray(t) ? t : [t]));
}

/** Every combination, the first list varying slowest; each combination flattened one level. */
function product(lists: unknown[][]): unknown[] {
  let combos: unknown[][] = [[]];
  for (const list of lists) combos = combos.flatMap((c) => list.map((x) => [...c, x]));
  return combos.map(flattenOnce);
}

const SUBELEMENTS_FLAGS = ['skip_missing'];

/** with_subelements: (item, subitem) for each subitem of each item's list under `key` (a.b for nested maps). */
function subelements(terms: unknown[]): unknown[] {
  const usage = 'subelements lookup expects a list of two or three items, ';
  if (terms.length < 2 || terms.length > 3) throw new LookupError(usage);
  const [base, key, flags = {}] = terms;
  if (!(Array.isArray(base) || isPlainObject(base)) || !isString(key)) throw new LookupError(`${usage}first a dict or a list, second a string pointing to the subkey`);
  if (!isPlainObject(flags) || !Object.keys(flags).every((k) => SUBELEMENTS_FLAGS.includes(k))) {
    throw new LookupError(`${usage}the optional third item must be a dict with flags ${JSON.stringify(SUBELEMENTS_FLAGS)}`);
  }
  if (isPlainObject(base) && base.skipped !== undefined && base.skipped !== false) return [];
  const elements = Array.isArray(base) ? base : Object.values(base);
  const skipMissing = flags.skip_missing === true || (isString(flags.skip_missing) && /^(yes|true|on|1)$/i.test(str(flags.skip_missing)));
  const path = str(key).split('.');
  const out: unknown[] = [];
  for (const element of elements) {
    if (!isPlainObject(element)) throw new LookupError(`subelements lookup expects a dictionary, got '${pyStr(element)}'`);
    if (element.skipped !== undefined && element.skipped !== false) continue;
    // The item as Ansible gives it: without the list it was split by (copied along the path, the variable untouched).
    const item: Record<string, unknown> = { ...element };
    let at = item;
    let list: unknown[] = [];
    for (let i = 0; i < path.length; i++) {
      const sub = path[i];
      const last = i === path.length - 1;
      if (!(sub in at)) {
        if (skipMissing) continue;
        throw new LookupError(`could not find '${sub}' key in iterated item '${pyStr(at)}'`);
      }
      const v = at[sub];
      if (!last) {
        if (!isPlainObject(v)) {
          if (skipMissing) continue;
          throw new LookupError(`the key ${sub} should point to a dictionary, got '${pyStr(v)}'`);
        }
        at = at[sub] = { ...v };
      } else {
        if (!Array.isArray(v)) throw new LookupError(`the key ${sub} should point to a list, got '${pyStr(v)}'`);
        list = v;
        delete at[sub];
      }
    }
    for (const sub of list) out.push(tuple([item, sub]));
  }
  return out;
}

const lookups: Record<string, LookupFn> = {
  file: (host, terms, kw) =>
    terms.map((t) => {
      let text = readFileSync(mustFind(host, 'files', str(t), 'file'), 'utf8');
      if (kw.rstrip !== false) text = text.replace(/\s+$/, '');
      if (kw.lstrip === true) text = text.replace(/^\s+/, '');
      return text;
    }),
  env: (_host, terms, kw) => terms.map((t) => process.env[str(t)] ?? (kw.default !== undefined ? kw.default : '')),
  template: (host, terms, kw) =>
    terms.map((t) => host.renderTemplateFile(mustFind(host, 'templates', str(t), 'template'), isPlainObject(kw.template_vars) ? kw.template_vars : {})),
  pipe: (_host, terms) => terms.map((t) => runShell(str(t)).replace(/\s+$/, '')),
  lines: (_host, terms) => terms.flatMap((t) => runShell(str(t)).split('\n').filter((l, i, all) => i < all.length - 1 || l !== '')),
  fileglob: (host, terms) =>
    terms.flatMap((t) => {
      const term = str(t);
      const dirPart = dirname(term);
      const pattern = term.slice(dirPart === '.' && !term.startsWith('./') ? 0 : dirPart.length + 1);
      const re = new RegExp('^' + pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
      const dirs = isAbsolute(term) ? [dirPart] : host.searchPath('files').map((d) => join(d, dirPart));
      for (const dir of dirs) {
        let names: string[];
        try {
          names = readdirSync(dir);
        } catch {
          continue;
        }
        const found = names.filter((n) => re.test(n) && !n.startsWith('.')).sort().map((n) => join(dir, n)).filter((p) => statSync(p).isFile());
        if (found.length) return found;
      }
      return [];
    }),
  first_found: (host, terms, kw) => {
    const files: string[] = [];
    const paths: string[] = [];
    let skip = kw.skip === true;
    const add = (t: unknown): void => {
      if (isString(t)) files.push(...str(t).split(/[,;]/).map((s) => s.trim()).filter(Boolean));
      else if (Array.isArray(t)) t.forEach(add);
      else if (isPlainObject(t)) {
        const f = t.files;
        const p = t.paths;
        if (t.skip === true) skip = true;
        if (p !== undefined) paths.push(...(Array.isArray(p) ? p.map(str) : str(p).split(/[,;:]/)));
        if (f !== undefined) add(f);
      }
    };
    terms.forEach(add);
    if (kw.files !== undefined) add(kw.files);
    if (kw.paths !== undefined) paths.push(...(Array.isArray(kw.paths) ? kw.paths.map(str) : str(kw.paths).split(/[,;:]/)));
    for (const f of files) {
      const candidates = paths.length && !isAbsolute(f) ? paths.map((p) => join(p, f)) : [f];
      for (const c of candidates) {
        const p = find(host, 'files', c);
        if (p) return [p];
      }
    }
    if (skip) return [];
    throw new LookupError('No file was found when using first_found.');
  },
  vars: (host, terms, kw) =>
    terms.map((t) => {
      const v = host.variable(str(t));
      if (v === undefined) {
        if (kw.default !== undefined) return kw.default;
        throw new JinjaRuntimeError(`No variable found with this name: ${str(t)}`);
      }
      return v;
    }),
  // ansible.builtin.varnames: the names of variables a regular expression finds (re.search), in the scope's order.
  varnames: (host, terms) => {
    const names = host.variableNames();
    return terms.flatMap((t) => {
      let re: RegExp;
      try {
        re = pyRegex(str(t));
      } catch (error) {
        throw new LookupError(`Unable to use "${str(t)}" as a search parameter: ${(error as Error).message}`);
      }
      return names.filter((n) => re.test(n));
    });
  },
  items: (_host, terms) => terms.flatMap((t) => (Array.isArray(t) ? t : [t])),
  list: (_host, terms) => terms,
  dict: (_host, terms) =>
    terms.flatMap((t) => {
      if (!isPlainObject(t)) throw new LookupError("with_dict expects a dict");
      return Object.entries(t).map(([key, value]) => ({ key, value }));
    }),
  indexed_items: (_host, terms) => {
    const items = terms.flatMap((t) => (Array.isArray(t) ? t : [t]));
    return items.map((x, i) => tuple([i, x]));
  },
  sequence: (_host, terms, kw) => terms.flatMap((t) => sequenceTerm(str(t), kw)),
  password: (host, terms, kw) =>
    terms.map((t) => {
      const { head, opts } = parseKv(str(t));
      for (const [k, v] of Object.entries(kw)) opts[k] = pyStr(v);
      const path = isAbsolute(head) ? head : join(host.basedir(), head);
      const length = opts.length === undefined ? 20 : num(Number(opts.length));
      let content = path !== '/dev/null' && existsSync(path) ? readFileSync(path, 'utf8').replace(/\n$/, '') : undefined;
      if (content === undefined) {
        const chars = passwordChars(opts.chars);
        content = Array.from({ length }, () => chars[randomInt(chars.length)]).join('');
        if (path !== '/dev/null') {
          mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
          writeFileSync(path, content + '\n', { mode: 0o600 });
          chmodSync(path, 0o600);
        }
      }
      const [password, saltPart] = content.split(' salt=');
      if (opts.encrypt) {
        const id = opts.encrypt === 'sha512_crypt' ? '6' : opts.encrypt === 'sha256_crypt' ? '5' : undefined;
        if (!id) throw new LookupError(`password: unsupported encrypt '${opts.encrypt}' (sha512_crypt, sha256_crypt)`);
        let salt = saltPart;
        if (!salt) {
          const saltChars = passwordChars('ascii_letters,digits,./');
          salt = Array.from({ length: 16 }, () => saltChars[randomInt(saltChars.length)]).join('');
          if (path !== '/dev/null') writeFileSync(path, `${password} salt=${salt}\n`, { mode: 0o600 });
        }
        return cryptEncrypt(password, `$${id}$${salt}`);
      }
      return password;
    }),
  ini: (host, terms, kw) =>
    terms.map((t) => {
      const { head, opts } = parseKv(str(t));
      for (const [k, v] of Object.entries(kw)) opts[k] = pyStr(v);
      const file = opts.file ?? 'ansible.ini';
      const text = readFileSync(mustFind(host, 'files', file, 'ini'), 'utf8');
      const type = opts.type ?? 'ini';
      const data = ini().parse(type === 'properties' ? `[java_properties]\n${text}` : text) as Record<string, unknown>;
      const section = data[type === 'properties' ? 'java_properties' : (opts.section ?? 'global')];
      if (!isPlainObject(section)) throw new LookupError(`section '${opts.section ?? 'global'}' not found in ${file}`);
      if (opts.re === 'True' || opts.re === 'true') {
        const re = new RegExp(head);
        return Object.entries(section).filter(([k]) => re.test(k)).map(([, v]) => v);
      }
      const v = section[head];
      return v === undefined ? (opts.default ?? '') : v;
    }).flat(),
  csvfile: (host, terms, kw) =>
    terms.map((t) => {
      const { head, opts } = parseKv(str(t));
      for (const [k, v] of Object.entries(kw)) opts[k] = pyStr(v);
      const file = opts.file ?? 'ansible.csv';
      const delimiter = opts.delimiter === undefined || opts.delimiter === 'TAB' || opts.delimiter === '\\t' ? '\t' : opts.delimiter;
      const rows = csv().parse(readFileSync(mustFind(host, 'files', file, 'csvfile'), 'utf8'), { delimiter, relax_column_count: true }) as string[][];
      const col = Number(opts.col ?? 1);
      const row = rows.find((r) => r[0] === head);
      return row ? row[col] : (opts.default ?? null);
    }),
  url: (_host, terms, kw) =>
    terms.map((t) => {
      const url = str(t);
      // Lookups are synchronous (inside an expression): node's fetch runs in a child process.
      const script = 'fetch(process.argv[1]).then(async r=>{const b=await r.text();if(!r.ok){process.stderr.write("HTTP Error "+r.status+": "+r.statusText);process.exit(2)}process.stdout.write(b)}).catch(e=>{process.stderr.write(String(e.cause?.message??e.message));process.exit(3)})';
      let body: string;
      try {
        body = execFileSync(process.execPath, ['-e', script, url], { encoding: 'utf8', timeout: Number(kw.timeout ?? 10) * 1000, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        const e = error as { stderr?: string };
        throw new LookupError(`Failed lookup url for ${url} : ${e.stderr || 'unreachable (no network)'}`);
      }
      return kw.split_lines === false ? [body] : body.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
    }).flat(),
};
Object.assign(lookups, {
  together: (_host, terms) => {
    const lists = listsOf(terms);
    if (lists.length === 0) throw new LookupError('with_together requires at least one element in each list');
    const length = Math.max(...lists.map((l) => l.length));
    return Array.from({ length }, (_, i) => flattenOnce(lists.map((l) => (i < l.length ? l[i] : null))));
  },
  nested: (_host, terms) => {
    if (terms.length === 0) throw new LookupError('with_nested requires at least one element in the nested list');
    return product(listsOf(terms));
  },
  cartesian: (_host, terms) => {
    if (terms.length === 0) throw new LookupError('with_cartesian requires at least one element in each list');
    return product(listsOf(terms));
  },
  subelements: (_host, terms) => subelements(terms),
  random_choice: (_host, terms) => (terms.length ? [terms[randomInt(terms.length)]] : terms),
} satisfies Record<string, LookupFn>);
lookups.with_items = lookups.items;

export const BUILTIN_LOOKUPS: Readonly<Record<string, LookupFn>> = lookups;
