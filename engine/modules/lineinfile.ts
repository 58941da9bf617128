// lineinfile: make sure one line is in a file (or that lines matching are not), as Ansible's lineinfile: regexp or
// search_string picks the line to replace, insertafter/insertbefore (a pattern, BOF or EOF) where a new one goes.
// Lines are matched on the file's bytes, so any encoding passes through unchanged.

import { ModuleError, defineModule, type ModuleContext, type Plan } from './contract.ts';
import { EDIT_ARG_SPECS, asBytesText, bytesText, pythonExpand, pythonRegExp, readForEdit, readLines, searchLine, writeEdit, type EditArgs } from './edit-file.ts';
import { omitNulls } from '../core/given.ts';

interface LineinfileArgs extends EditArgs {
  state: 'present' | 'absent';
  regexp?: string;
  search_string?: string;
  line?: string;
  insertafter?: string;
  insertbefore?: string;
  backrefs: boolean;
  firstmatch: boolean;
  create: boolean;
}

const strip = (line: string): string => line.replace(/[\r\n]+$/, '');

/** state=present: the new lines and Ansible's msg ('' when nothing changes). */
function present(lines: string[], args: LineinfileArgs): [string[], string] {
  const line = asBytesText(args.line ?? '');
  const re = args.regexp !== undefined ? pythonRegExp(asBytesText(args.regexp)) : undefined;
  const insertPattern = args.insertafter ?? (args.insertbefore !== 'BOF' ? args.insertbefore : undefined);
  const insertRe = insertPattern !== undefined && insertPattern !== 'BOF' && insertPattern !== 'EOF' ? pythonRegExp(asBytesText(insertPattern)) : undefined;
  let found = -1;
  let insertAt = -1;
  let match: RegExpExecArray | null | boolean = null;
  let exact = false;
  if (re) {
    for (const [i, cur] of lines.entries()) {
      const m = searchLine(re, cur);
      if (m) {
        found = i;
        match = m;
        if (args.firstmatch) break;
      }
    }
  } else if (args.search_string !== undefined) {
    const needle = asBytesText(args.search_string);
    for (const [i, cur] of lines.entries()) {
      if (cur.includes(needle)) {
        found = i;
        match = true;
        if (args.firstmatch) break;
      }
    }
  }
  if (!match) {
    for (const [i, cur] of lines.entries()) {
      if (strip(cur) === line) {
        found = i;
        exact = true;
      } else if (insertRe && searchLine(insertRe, cur)) {
        if (args.insertafter !== undefined) {
          insertAt = i + 1;
          if (args.firstmatch) break;
        }
        if (args.insertbefore !== undefined) {
          insertAt = i;
          if (args.firstmatch) break;
        }
      }
    }
  }
  const out = [...lines];
  const addAt = (at: number): [string[], string] => {
    out.splice(at, 0, `${line}\n`);
    return [out, 'line added'];
  };
  if (found !== -1) {
    let newLine = args.backrefs && match instanceof Array ? pythonExpand(line, match) : line;
    if (!newLine.endsWith('\n')) newLine += '\n';
    if (args.regexp === undefined && args.search_string === undefined && !match && !exact) return [out, ''];
    if (out[found] === newLine) return [out, ''];
    out[found] = newLine;
    return [out, 'line replaced'];
  }
  if (args.backrefs) return [out, ''];
  if (args.insertbefore === 'BOF' || args.insertafter === 'BOF') return addAt(0);
  if (args.insertafter === 'EOF' || insertAt === -1) {
    if (out.length > 0 && !/[\r\n]$/.test(out[out.length - 1])) out.push('\n');
    return addAt(out.length);
  }
  if (args.insertafter !== undefined) {
    // The line is already right after the anchor: nothing to do.
    if (insertAt === out.length) {
      // As Ansible: no newline is added to a last line without one (the new line joins it).
      if (strip(out[insertAt - 1]) === line) return [out, ''];
      return addAt(insertAt);
    }
    if (strip(out[insertAt]) === line) return [out, ''];
    return addAt(insertAt);
  }
  return addAt(insertAt);
}

/** state=absent: the lines left and how many were removed. */
function absent(lines: string[], args: LineinfileArgs): [string[], number] {
  const re = args.regexp !== undefined ? pythonRegExp(asBytesText(args.regexp)) : undefined;
  const needle = args.search_string !== undefined ? asBytesText(args.search_string) : undefined;
  const line = asBytesText(args.line ?? '');
  const matches = (cur: string): boolean =>
    re ? searchLine(re, cur) !== null : needle !== undefined ? cur.includes(needle) : strip(cur) === line;
  const kept = lines.filter((cur) => !matches(cur));
  return [kept, lines.length - kept.length];
}

async function plan(args: LineinfileArgs, ctx: ModuleContext): Promise<Plan> {
  if (args.state === 'present') {
    if (args.backrefs && args.regexp === undefined) throw new ModuleError('regexp is required with backrefs=true');
    if (args.line === undefined) throw new ModuleError('line is required with state=present');
  } else if (args.regexp === undefined && args.search_string === undefined && args.line === undefined) {
    throw new ModuleError('one of line, search_string, or regexp is required with state=absent');
  }
  const found = await readForEdit(args.path, ctx);
  const toBuffer = (lines: string[]): Buffer => Buffer.from(lines.join(''), 'latin1');
  if (args.state === 'absent') {
    if (found.content === null) return { changed: false, result: { msg: 'file not present', backup: '' } };
    const [kept, removed] = absent(readLines(bytesText(found.content)), args);
    return writeEdit(args, found, toBuffer(kept), { msg: removed > 0 ? `${removed} line(s) removed` : '', result: { found: removed }, backupKey: 'backup' }, ctx);
  }
  if (found.content === null && !args.create) throw new ModuleError(`Destination ${args.path} does not exist !`, { rc: 257 });
  const [lines, msg] = present(readLines(bytesText(found.content)), args);
  return writeEdit(args, found, toBuffer(lines), { msg, backupKey: 'backup' }, ctx);
}

export default defineModule<LineinfileArgs>({
  name: 'lineinfile',
  spec: {
    args: {
      path: { type: 'path', required: true, aliases: ['dest', 'destfile', 'name'] },
      state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
      regexp: { type: 'str', aliases: ['regex'], description: 'A Python regular expression: the last matching line is replaced (or removed).' },
      search_string: { type: 'str', description: 'A literal string: the last line containing it is replaced (or removed).' },
      line: { type: 'str', aliases: ['value'], description: 'The line to put in the file (with backrefs: \\1 and \\g<name> from regexp).' },
      insertafter: { type: 'str', description: 'A regular expression, or EOF (default) or BOF: where a new line goes.' },
      insertbefore: { type: 'str', description: 'A regular expression, or BOF: where a new line goes.' },
      backrefs: { type: 'bool', default: false, description: 'Expand regexp groups in line; leave the file alone when regexp does not match.' },
      firstmatch: { type: 'bool', default: false, description: 'Use the first matching line instead of the last.' },
      create: { type: 'bool', default: false, description: 'Create the file (and its folder) when it is missing.' },
      ...EDIT_ARG_SPECS,
    },
    mutuallyExclusive: [['insertbefore', 'insertafter'], ['regexp', 'search_string'], ['backrefs', 'search_string']],
  },
  plan: (given, ctx) => plan(omitNulls(given), ctx),
});
