// replace: every match of a regular expression in a file replaced, as Ansible's replace (Python's re.sub in
// multiline mode, optionally only between `after` and `before`).

import { ModuleError, defineModule, type ModuleContext, type Plan } from './contract.ts';
import { EDIT_ARG_SPECS, pythonExpand, pythonRegExp, readForEdit, writeEdit, type EditArgs } from './edit-file.ts';
import { omitNulls } from '../core/given.ts';

interface ReplaceArgs extends EditArgs {
  regexp: string;
  replace: string;
  after?: string;
  before?: string;
  encoding: string;
}

async function plan(args: ReplaceArgs, ctx: ModuleContext): Promise<Plan> {
  if (args.encoding.toLowerCase().replace('_', '-') !== 'utf-8') throw new ModuleError(`encoding ${args.encoding} is not supported (only utf-8)`);
  const found = await readForEdit(args.path, ctx);
  if (found.content === null) throw new ModuleError(`Path ${args.path} does not exist !`, { rc: 257 });
  const contents = found.content.toString('utf8');
  let section = contents;
  let start = 0;
  let end = contents.length;
  let pattern = '';
  if (args.after && args.before) pattern = `${args.after}(?P<subsection>.*?)${args.before}`;
  else if (args.after) pattern = `${args.after}(?P<subsection>.*)`;
  else if (args.before) pattern = `(?P<subsection>.*)${args.before}`;
  if (pattern) {
    // 'd' gives the subsection's indices, 's' is Python's DOTALL.
    const m = pythonRegExp(pattern, 'sd').exec(contents);
    if (!m?.indices?.groups?.subsection) {
      return { changed: false, result: { rc: 0, msg: `Pattern for before/after params did not match the given file: ${pattern}` } };
    }
    [start, end] = m.indices.groups.subsection;
    section = contents.slice(start, end);
  }
  const re = pythonRegExp(args.regexp, 'gm');
  let count = 0;
  const replaced = section.replace(re, (...parts: unknown[]) => {
    count++;
    const last = parts[parts.length - 1];
    const hasGroups = typeof last === 'object' && last !== null;
    const groupsEnd = parts.length - (hasGroups ? 3 : 2);
    const match = parts.slice(0, groupsEnd) as string[] as RegExpMatchArray;
    if (hasGroups) match.groups = last as Record<string, string>;
    return pythonExpand(args.replace, match);
  });
  const changedText = count > 0 && replaced !== section;
  const after = changedText ? contents.slice(0, start) + replaced + contents.slice(end) : contents;
  return writeEdit(args, found, changedText ? Buffer.from(after, 'utf8') : found.content, { msg: changedText ? `${count} replacements made` : '', result: { rc: 0 } }, ctx);
}

export default defineModule<ReplaceArgs>({
  name: 'replace',
  spec: {
    args: {
      path: { type: 'path', required: true, aliases: ['dest', 'destfile', 'name'] },
      regexp: { type: 'str', required: true, description: 'A Python regular expression, multiline: ^ and $ match at each line.' },
      replace: { type: 'str', default: '', description: 'What each match becomes; \\1 and \\g<name> refer to groups.' },
      after: { type: 'str', description: 'Replace only after the first match of this expression.' },
      before: { type: 'str', description: 'Replace only before the last match of this expression.' },
      encoding: { type: 'str', default: 'utf-8' },
      ...EDIT_ARG_SPECS,
    },
  },
  plan: (given, ctx) => plan(omitNulls(given), ctx),
});
