// blockinfile: a block of lines between two marker lines, inserted, updated or removed as Ansible's blockinfile does
// (markers found: the block between them is replaced; not found: inserted after/before a pattern, at EOF by default).

import { ModuleError, defineModule, type ModuleContext, type Plan } from './contract.ts';
import { EDIT_ARG_SPECS, asBytesText, bytesText, pythonRegExp, readForEdit, searchLine, splitLinesKeep, writeEdit, type EditArgs } from './edit-file.ts';
import { omitNulls } from '../core/given.ts';

interface BlockinfileArgs extends EditArgs {
  state: 'present' | 'absent';
  marker: string;
  marker_begin: string;
  marker_end: string;
  block: string;
  insertafter?: string;
  insertbefore?: string;
  create: boolean;
}

/** The new text; lines as splitlines(True) on the file's bytes. */
function edit(original: string | null, args: BlockinfileArgs): string {
  const lines = splitLinesKeep(original ?? '');
  const present = args.state === 'present';
  let insertafter = args.insertafter;
  const insertbefore = args.insertbefore;
  if (insertbefore === undefined && insertafter === undefined) insertafter = 'EOF';
  const pattern = insertafter !== undefined && insertafter !== 'EOF' ? insertafter : insertbefore !== undefined && insertbefore !== 'BOF' ? insertbefore : undefined;
  // Python's (?m) in the pattern searches the whole file, not line by line.
  const multiline = pattern !== undefined && /^\(\?[aiLmsux]*m/.test(pattern);
  const insertRe = pattern !== undefined ? pythonRegExp(asBytesText(pattern.replace(/^\(\?([aiLsux]*)m([aiLmsux]*)\)/, '(?$1$2)').replace(/^\(\?\)/, '')), multiline ? 'm' : '') : undefined;
  const marker = asBytesText(args.marker);
  const begin = `${marker.replaceAll('{mark}', asBytesText(args.marker_begin))}\n`;
  const end = `${marker.replaceAll('{mark}', asBytesText(args.marker_end))}\n`;
  let block = asBytesText(args.block);
  let blockLines: string[] = [];
  if (present && block !== '') {
    if (!block.endsWith('\n')) block += '\n';
    blockLines = [begin, ...splitLinesKeep(block), end];
  }
  let n0: number | undefined;
  let n1: number | undefined;
  for (const [i, line] of lines.entries()) {
    if (line === begin) n0 = i;
    if (line === end) n1 = i;
  }
  if (n0 === undefined || n1 === undefined) {
    n0 = undefined;
    if (insertRe) {
      if (multiline) {
        const m = insertRe.exec(original ?? '');
        if (m) {
          const upTo = insertafter !== undefined ? m.index + m[0].length : m.index;
          n0 = (original ?? '').slice(0, upTo).split('\n').length - 1;
        }
      } else {
        for (const [i, line] of lines.entries()) if (searchLine(insertRe, line)) n0 = i;
      }
      if (n0 === undefined) n0 = lines.length;
      else if (insertafter !== undefined) n0 += 1;
    } else if (insertbefore !== undefined) n0 = 0;
    else n0 = lines.length;
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
  } else {
    lines.splice(n1, n0 - n1 + 1);
    n0 = n1;
  }
  if (n0 > 0 && !lines[n0 - 1].endsWith('\n')) lines[n0 - 1] += '\n';
  lines.splice(n0, 0, ...blockLines);
  return lines.join('');
}

async function plan(args: BlockinfileArgs, ctx: ModuleContext): Promise<Plan> {
  const found = await readForEdit(args.path, ctx);
  if (found.content === null) {
    if (!args.create) throw new ModuleError(`Path ${args.path} does not exist !`, { rc: 257 });
    if (args.state === 'absent') return { changed: false, result: { msg: `File ${args.path} not present` } };
  }
  const original = found.content === null ? null : bytesText(found.content);
  const after = edit(original, args);
  const msg = original === after ? '' : original === null ? 'File created' : args.state === 'absent' || args.block === '' ? 'Block removed' : 'Block inserted';
  return writeEdit(args, found, Buffer.from(after, 'latin1'), { msg }, ctx);
}

export default defineModule<BlockinfileArgs>({
  name: 'blockinfile',
  spec: {
    args: {
      path: { type: 'path', required: true, aliases: ['dest', 'destfile', 'name'] },
      state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
      marker: { type: 'str', default: '# {mark} ANSIBLE MANAGED BLOCK', description: 'The marker line; {mark} becomes marker_begin or marker_end.' },
      marker_begin: { type: 'str', default: 'BEGIN' },
      marker_end: { type: 'str', default: 'END' },
      block: { type: 'str', default: '', aliases: ['content'], description: 'The lines between the markers; empty removes the block.' },
      insertafter: { type: 'str', description: 'A regular expression or EOF (default): the block goes after the last matching line.' },
      insertbefore: { type: 'str', description: 'A regular expression or BOF: the block goes before the last matching line.' },
      create: { type: 'bool', default: false, description: 'Create the file (and its folder) when it is missing.' },
      ...EDIT_ARG_SPECS,
    },
    mutuallyExclusive: [['insertbefore', 'insertafter']],
  },
  plan: (given, ctx) => plan(omitNulls(given), ctx),
});
