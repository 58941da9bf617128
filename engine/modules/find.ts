// find: files on the host chosen by name patterns, type, age, size and content, as Ansible's find. One command on the
// host lists every candidate under every path with its attributes (and, with `contains`, whether it matches, by
// grep -P); the patterns, age, size and hidden rules are applied here.

import { posix } from 'node:path';
import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule } from './contract.ts';
import { asBecome, statMode } from './file-attrs.ts';
import { pythonRegExp } from './edit-file.ts';

interface FindArgs {
  paths: string[];
  patterns: string[];
  excludes?: string[];
  contains?: string;
  read_whole_file: boolean;
  file_type: 'file' | 'directory' | 'link' | 'any';
  recurse: boolean;
  hidden: boolean;
  age?: string;
  age_stamp: 'atime' | 'ctime' | 'mtime';
  size?: string;
  use_regex: boolean;
  depth?: number;
  follow: boolean;
  get_checksum: boolean;
}

/** Python's fnmatch (case-sensitive, as on Linux) as a RegExp. */
function fnmatch(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^(?:${re})$`, 's');
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const SIZES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

function parseAmount(text: string, units: Record<string, number>, what: string): number {
  const m = /^(-?\d+)([a-z]?)$/i.exec(text.trim());
  if (!m || (m[2] !== '' && units[m[2].toLowerCase()] === undefined)) throw new ModuleError(`failed to process ${what}: ${text}`);
  return Number(m[1]) * (m[2] ? units[m[2].toLowerCase()] : 1);
}

// Fields printed for each path; %y is the type (f d l ...), %Y the type a link points to.
const FORMAT = ['%y', '%Y', '%m', '%s', '%U', '%G', '%u', '%g', '%A@', '%T@', '%C@', '%i', '%n', '%D', '%d', '%p'].join('\\t');

export default defineModule<FindArgs>({
  name: 'find',
  spec: {
    args: {
      paths: { type: 'list', elements: 'str', required: true, aliases: ['name', 'path'] },
      patterns: { type: 'list', elements: 'str', default: [], aliases: ['pattern'], description: 'Shell globs (or, with use_regex, regular expressions) for the base name.' },
      excludes: { type: 'list', elements: 'str', aliases: ['exclude'] },
      contains: { type: 'str', description: 'A regular expression a line must start with (with read_whole_file: found anywhere).' },
      read_whole_file: { type: 'bool', default: false },
      file_type: { type: 'str', default: 'file', choices: ['file', 'directory', 'link', 'any'] },
      recurse: { type: 'bool', default: false },
      hidden: { type: 'bool', default: false },
      age: { type: 'str', description: 'At least this old (2d, 1w, 3h); negative: at most.' },
      age_stamp: { type: 'str', default: 'mtime', choices: ['atime', 'ctime', 'mtime'] },
      size: { type: 'str', description: 'At least this big (10k, 1m); negative: at most.' },
      use_regex: { type: 'bool', default: false },
      depth: { type: 'int', description: 'With recurse: how many levels down at most.' },
      follow: { type: 'bool', default: false },
      get_checksum: { type: 'bool', default: false, description: 'Add the sha256 of each file as checksum (Ansible\'s is sha1).' },
    },
  },
  async plan(args, ctx) {
    const match = (patterns: string[]): ((name: string) => boolean) => {
      const res = patterns.map((p) => (args.use_regex ? pythonRegExp(`^(?:${p})`) : fnmatch(p)));
      return (name) => res.some((re) => re.test(name));
    };
    const wanted = match(args.patterns);
    const excludes = args.excludes ?? [];
    const excluded = match(excludes);
    // As Ansible: no patterns and no excludes picks all; excludes without patterns pick nothing.
    const picked = (name: string): boolean => (args.patterns.length === 0 && excludes.length === 0) || (wanted(name) && !excluded(name));
    const age = args.age !== undefined ? parseAmount(args.age, UNITS, 'age') : undefined;
    const size = args.size !== undefined ? parseAmount(args.size, SIZES, 'size') : undefined;
    const maxDepth = args.recurse ? (args.depth ?? undefined) : 1;
    const contains = args.contains !== undefined
      ? ` \\( -type f -exec grep -qsP${args.read_whole_file ? 'z' : ''} -e ${shellQuote(args.read_whole_file ? args.contains : `^(?:${args.contains})`)} -- {} \\; -printf '\\t1' -o -printf '\\t0' \\)`
      : '';
    const sums = args.get_checksum ? ` \\( -type f -exec sh -c 'printf "\\t%s" "$(sha256sum < "$1" | cut -d" " -f1)"' sh {} \\; -o -printf '\\t' \\)` : '';
    // Per path: a line "PATH <path>" and its entries, NUL-terminated so names may hold anything.
    const script = args.paths
      .map((p) => {
        const q = shellQuote(p);
        return `if [ -d ${q} ]; then printf 'PATH\\t%s\\0' ${q}; find ${args.follow ? '-L ' : ''}${q} -mindepth 1${maxDepth !== undefined ? ` -maxdepth ${maxDepth}` : ''} -printf '${FORMAT}'${contains}${sums} -printf '\\0'; else printf 'SKIP\\t%s\\0' ${q}; fi`;
      })
      .join('; ');
    const r = await ctx.conn.exec(script, asBecome(ctx.become));
    if (r.rc !== 0 && r.stdout === '') throw new ModuleError(`find failed: ${r.stderr.trim()}`);
    const now = Date.now() / 1000;
    const files: Record<string, unknown>[] = [];
    const skipped: Record<string, string> = {};
    let examined = 0;
    for (const record of r.stdout.split('\0')) {
      if (record === '') continue;
      const fields = record.split('\t');
      if (fields[0] === 'PATH') continue;
      if (fields[0] === 'SKIP') {
        skipped[fields[1]] = `'${fields[1]}' is not a directory`;
        continue;
      }
      const [y, , m, s, uid, gid, owner, group, atime, mtime, ctime, inode, nlink, dev, , rawPath] = fields;
      const path = posix.normalize(rawPath);
      const extra = fields.slice(16);
      examined++;
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (!args.hidden && name.startsWith('.')) continue;
      const type = y === 'd' ? 'directory' : y === 'l' ? 'link' : y === 'f' ? 'file' : 'other';
      const stamp = Number(args.age_stamp === 'atime' ? atime : args.age_stamp === 'ctime' ? ctime : mtime);
      const ageOk = age === undefined || (age >= 0 ? now - stamp >= age : now - stamp <= -age);
      const bytes = Number(s);
      const sizeOk = size === undefined || (size >= 0 ? bytes >= size : bytes <= -size);
      if (!picked(name) || !ageOk) continue;
      // As Ansible: with file_type any, size counts for regular files only and contains not at all.
      if (args.file_type === 'any') {
        if (type === 'file' && !sizeOk) continue;
      } else if (args.file_type !== type) continue;
      else if (type === 'file' && (!sizeOk || (args.contains !== undefined && extra[0] !== '1'))) continue;
      const mode = parseInt(m, 8);
      const bit = (b: number): boolean => (mode & b) !== 0;
      const entry: Record<string, unknown> = {
        path,
        mode: statMode(mode),
        isdir: type === 'directory',
        isreg: type === 'file',
        islnk: type === 'link',
        ischr: y === 'c',
        isblk: y === 'b',
        isfifo: y === 'p',
        issock: y === 's',
        uid: Number(uid),
        gid: Number(gid),
        size: bytes,
        inode: Number(inode),
        dev: Number(dev),
        nlink: Number(nlink),
        atime: Number(atime),
        mtime: Number(mtime),
        ctime: Number(ctime),
        pw_name: owner,
        gr_name: group,
        rusr: bit(0o400), wusr: bit(0o200), xusr: bit(0o100),
        rgrp: bit(0o40), wgrp: bit(0o20), xgrp: bit(0o10),
        roth: bit(0o4), woth: bit(0o2), xoth: bit(0o1),
        isuid: bit(0o4000), isgid: bit(0o2000),
      };
      if (args.get_checksum && type === 'file') entry.checksum = extra[args.contains !== undefined ? 1 : 0];
      files.push(entry);
    }
    const msg = Object.keys(skipped).length > 0 ? 'Not all paths examined, check warnings for details' : 'All paths examined';
    return { changed: false, result: { files, matched: files.length, examined, skipped_paths: skipped, msg } };
  },
});
