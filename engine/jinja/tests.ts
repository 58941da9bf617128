// The tests of Jinja2 and ansible.builtin (`x is defined`, `r is changed`, `v is version('1.2', '>=')`...).

import { existsSync, lstatSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { TestFn } from './interpret.ts';
import { arg } from './filters.ts';
import { pyRegex } from './regex.ts';
import {
  Callable,
  JinjaRuntimeError,
  PyFloat,
  Undefined,
  failUndefined,
  isFloat,
  isPlainObject,
  isString,
  num,
  pyCompare,
  pyContains,
  pyEq,
  str,
  truthy,
} from './values.ts';

function fail(message: string): never {
  throw new JinjaRuntimeError(message);
}

function defined(v: unknown): unknown {
  if (v instanceof Undefined) failUndefined(v);
  return v;
}

function resultDict(v: unknown, test: string): Record<string, unknown> {
  defined(v);
  if (!isPlainObject(v)) fail(`The ${test} test expects a dictionary`);
  return v;
}

function looseParts(v: string): (number | string)[] {
  return (v.match(/\d+|[a-z]+|\.|[^a-z\d.]+/gi) ?? []).filter((p) => p !== '.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function semverCompare(a: string, b: string): number {
  const parse = (s: string): [number[], string[]] => {
    const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(s);
    if (!m) fail(`invalid semantic version '${s}'`);
    return [[Number(m[1]), Number(m[2]), Number(m[3])], m[4] ? m[4].split('.') : []];
  };
  const [na, pa] = parse(a);
  const [nb, pb] = parse(b);
  for (let i = 0; i < 3; i++) if (na[i] !== nb[i]) return na[i] - nb[i];
  if (pa.length === 0 || pb.length === 0) return pb.length - pa.length;
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = /^\d+$/.test(pa[i]) ? Number(pa[i]) : pa[i];
    const y = /^\d+$/.test(pb[i]) ? Number(pb[i]) : pb[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** PEP 440 ordering for the common forms: release numbers, then dev < a < b < rc < final < post. */
function pep440Compare(a: string, b: string): number {
  const key = (s: string): number[] => {
    const m = /^v?(\d+(?:\.\d+)*)(?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?(?:[-_.]?(post|rev|r)[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?$/i.exec(s.trim());
    if (!m) fail(`Version comparison failed: Invalid version: '${s}'`);
    const release = m[1].split('.').map(Number);
    while (release.length < 6) release.push(0);
    const pre = m[2] ? ({ a: 0, alpha: 0, b: 1, beta: 1, c: 2, rc: 2, pre: 2, preview: 2 } as Record<string, number>)[m[2].toLowerCase()] : 3;
    return [...release, m[2] ? pre : m[6] !== undefined && !m[4] ? -1 : 3, Number(m[3] || 0), m[4] ? Number(m[5] || 0) + 1 : 0, m[6] !== undefined ? Number(m[6] || 0) : Infinity];
  };
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
  return 0;
}

function versionCompare(value: unknown, version: unknown, operator: unknown, strictArg: unknown, type: unknown): boolean {
  const strict = truthy(strictArg ?? false);
  const ops: Record<string, (c: number) => boolean> = {
    '==': (c) => c === 0, '=': (c) => c === 0, eq: (c) => c === 0,
    '<': (c) => c < 0, lt: (c) => c < 0, '<=': (c) => c <= 0, le: (c) => c <= 0,
    '>': (c) => c > 0, gt: (c) => c > 0, '>=': (c) => c >= 0, ge: (c) => c >= 0,
    '!=': (c) => c !== 0, '<>': (c) => c !== 0, ne: (c) => c !== 0,
  };
  const op = str(operator ?? 'eq');
  if (!(op in ops)) fail(`Invalid operator type (${op})`);
  const a = str(defined(value) === null ? '' : value);
  const b = str(defined(version) === null ? '' : version);
  if (!a) fail('Input version value cannot be empty');
  if (!b) fail('Version parameter to compare against cannot be empty');
  // Ansible refuses both when strict is given at all (even False).
  if (strictArg !== null && strictArg !== undefined && type !== null && type !== undefined) fail("Cannot specify both 'strict' and 'version_type'");
  const kind = type === null || type === undefined ? (strict ? 'strict' : 'loose') : str(type);
  if (!['loose', 'strict', 'semver', 'semantic', 'pep440'].includes(kind)) fail(`Invalid version type (${kind}). Must be one of loose, strict, semver, semantic, pep440`);
  let c: number;
  if (kind === 'semver' || kind === 'semantic') c = semverCompare(a, b);
  else if (kind === 'pep440') c = pep440Compare(a, b);
  else {
    if (kind === 'strict') {
      const re = /^\d+\.\d+(\.\d+)?([ab]\d+)?$/;
      if (!re.test(a)) fail(`Version comparison failed: invalid version number '${a}'`);
      if (!re.test(b)) fail(`Version comparison failed: invalid version number '${b}'`);
    }
    const pa = looseParts(a);
    const pb = looseParts(b);
    c = 0;
    for (let i = 0; i < Math.min(pa.length, pb.length) && c === 0; i++) {
      if (typeof pa[i] !== typeof pb[i]) fail(`Version comparison failed: '<' not supported between instances of '${typeof pa[i] === 'number' ? 'int' : 'str'}' and '${typeof pb[i] === 'number' ? 'int' : 'str'}'`);
      c = pyCompare(pa[i], pb[i]);
    }
    if (c === 0) c = pa.length - pb.length;
  }
  return ops[op](c);
}

function regexTest(value: unknown, pattern: unknown, ignorecase: unknown, multiline: unknown, mode: 'match' | 'search' | 'fullmatch'): boolean {
  // Ansible's regex test reads the value as text first (to_text): a dict is searched in its repr.
  const text = str(defined(value));
  const re = pyRegex(str(pattern), { ignorecase: truthy(ignorecase ?? false), multiline: truthy(multiline ?? false) });
  const m = re.exec(text);
  if (!m) return false;
  if (mode === 'match') return m.index === 0;
  if (mode === 'fullmatch') return m.index === 0 && m[0].length === text.length;
  return true;
}

function anyChanged(r: Record<string, unknown>): boolean {
  if (truthy(r.changed ?? false)) return true;
  if (Array.isArray(r.results)) return r.results.some((x) => isPlainObject(x) && truthy(x.changed ?? false));
  return false;
}

function anyFailed(r: Record<string, unknown>): boolean {
  return truthy(r.failed ?? false);
}

function pathTest(v: unknown, check: (p: string) => boolean): boolean {
  const p = str(defined(v));
  try {
    return check(p);
  } catch {
    return false;
  }
}

const tests: Record<string, TestFn> = {
  // ----- Jinja2 -----
  defined: (_c, v) => !(v instanceof Undefined),
  undefined: (_c, v) => v instanceof Undefined,
  none: (_c, v) => v === null,
  boolean: (_c, v) => typeof v === 'boolean',
  false: (_c, v) => v === false,
  true: (_c, v) => v === true,
  integer: (_c, v) => typeof v === 'number' && !isFloat(v),
  float: (_c, v) => isFloat(v),
  number: (_c, v) => typeof v === 'number' || v instanceof PyFloat || typeof v === 'boolean',
  string: (_c, v) => isString(v),
  mapping: (_c, v) => isPlainObject(v),
  iterable: (_c, v) => isString(v) || Array.isArray(v) || isPlainObject(v),
  sequence: (_c, v) => isString(v) || Array.isArray(v) || isPlainObject(v),
  callable: (_c, v) => v instanceof Callable,
  sameas: (_c, v, a) => v === a[0] || (v === null && a[0] === null),
  escaped: () => false,
  lower: (_c, v) => str(defined(v)) === str(v).toLowerCase() && /[a-z]/.test(str(v)),
  upper: (_c, v) => str(defined(v)) === str(v).toUpperCase() && /[A-Z]/.test(str(v)),
  divisibleby: (_c, v, a) => num(defined(v)) % num(a[0]) === 0,
  even: (_c, v) => num(defined(v)) % 2 === 0,
  odd: (_c, v) => Math.abs(num(defined(v)) % 2) === 1,
  eq: (_c, v, a) => pyEq(defined(v), a[0]),
  ne: (_c, v, a) => !pyEq(defined(v), a[0]),
  lt: (_c, v, a) => pyCompare(defined(v), a[0]) < 0,
  le: (_c, v, a) => pyCompare(defined(v), a[0]) <= 0,
  gt: (_c, v, a) => pyCompare(defined(v), a[0]) > 0,
  ge: (_c, v, a) => pyCompare(defined(v), a[0]) >= 0,
  in: (_c, v, a) => pyContains(a[0], defined(v)),
  // ----- ansible.builtin -----
  contains: (_c, v, a) => pyContains(defined(v), a[0]),
  abs: (_c, v) => isAbsolute(str(defined(v))),
  exists: (_c, v) => existsSync(str(defined(v))),
  file: (_c, v) => pathTest(v, (p) => statSync(p).isFile()),
  directory: (_c, v) => pathTest(v, (p) => statSync(p).isDirectory()),
  link: (_c, v) => pathTest(v, (p) => lstatSync(p).isSymbolicLink()),
  link_exists: (_c, v) => pathTest(v, (p) => lstatSync(p) !== undefined),
  mount: (_c, v) => pathTest(v, (p) => p === '/' || statSync(p).dev !== statSync(`${p}/..`).dev),
  same_file: (_c, v, a) => pathTest(v, (p) => {
    const x = statSync(p);
    const y = statSync(str(a[0]));
    return x.ino === y.ino && x.dev === y.dev;
  }),
  truthy: (_c, v, a, k) => (truthy(arg(a, k, 0, 'convert_bool', false)) ? boolish(v) : truthy(defined(v))),
  falsy: (_c, v, a, k) => !(truthy(arg(a, k, 0, 'convert_bool', false)) ? boolish(v) : truthy(defined(v))),
  version: (_c, v, a, k) => versionCompare(v, arg(a, k, 0, 'version'), arg(a, k, 1, 'operator', 'eq'), arg(a, k, 2, 'strict', null), arg(a, k, 3, 'version_type', null)),
  match: (_c, v, a, k) => regexTest(v, arg(a, k, 0, 'pattern'), arg(a, k, 1, 'ignorecase', false), arg(a, k, 2, 'multiline', false), 'match'),
  search: (_c, v, a, k) => regexTest(v, arg(a, k, 0, 'pattern'), arg(a, k, 1, 'ignorecase', false), arg(a, k, 2, 'multiline', false), 'search'),
  regex: (_c, v, a, k) =>
    regexTest(v, arg(a, k, 0, 'pattern'), arg(a, k, 1, 'ignorecase', false), arg(a, k, 2, 'multiline', false), str(arg(a, k, 3, 'match_type', 'search')) as 'match' | 'search' | 'fullmatch'),
  subset: (_c, v, a) => (defined(v) as unknown[]).every((x) => (a[0] as unknown[]).some((y) => pyEq(x, y))),
  superset: (_c, v, a) => (a[0] as unknown[]).every((x) => (defined(v) as unknown[]).some((y) => pyEq(x, y))),
  any: (_c, v) => (defined(v) as unknown[]).some(truthy),
  all: (_c, v) => (defined(v) as unknown[]).every(truthy),
  nan: (_c, v) => typeof v === 'number' && Number.isNaN(v),
  changed: (_c, v) => anyChanged(resultDict(v, 'changed')),
  failed: (_c, v) => anyFailed(resultDict(v, 'failed')),
  succeeded: (_c, v) => !anyFailed(resultDict(v, 'succeeded')),
  skipped: (_c, v) => truthy(resultDict(v, 'skipped').skipped ?? false),
  finished: (_c, v) => {
    const r = resultDict(v, 'finished');
    return 'finished' in r ? truthy(r.finished) : true;
  },
  started: (_c, v) => {
    const r = resultDict(v, 'started');
    return 'started' in r ? truthy(r.started) : true;
  },
  unreachable: (_c, v) => truthy(resultDict(v, 'unreachable').unreachable ?? false),
  reachable: (_c, v) => !truthy(resultDict(v, 'reachable').unreachable ?? false),
  vault_encrypted: (_c, v) => isString(v) && str(v).startsWith('$ANSIBLE_VAULT;'),
};
tests['=='] = tests.eq;
tests.equalto = tests.eq;
tests['!='] = tests.ne;
tests['<'] = tests.lt;
tests['<='] = tests.le;
tests['>'] = tests.gt;
tests['>='] = tests.ge;
tests.greaterthan = tests.gt;
tests.lessthan = tests.lt;
tests.success = tests.succeeded;
tests.successful = tests.succeeded;
tests.failure = tests.failed;
tests.change = tests.changed;
tests.skip = tests.skipped;
tests.version_compare = tests.version;
tests.issubset = tests.subset;
tests.issuperset = tests.superset;
tests.is_abs = tests.abs;
tests.is_dir = tests.directory;
tests.is_file = tests.file;
tests.is_link = tests.link;
tests.is_mount = tests.mount;
tests.is_same_file = tests.same_file;
tests.isnan = tests.nan;

function boolish(v: unknown): boolean {
  if (isString(v) && ['no', 'off', 'false', 'n', 'f', '0', ''].includes(str(v).toLowerCase())) return false;
  if (isString(v) && ['yes', 'on', 'true', 'y', 't', '1'].includes(str(v).toLowerCase())) return true;
  return truthy(defined(v));
}

export const BUILTIN_TESTS: Readonly<Record<string, TestFn>> = tests;
