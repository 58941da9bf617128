// ini_file: an option in a section of an INI file set, added or removed, as Ansible's community.general.ini_file
// (6.x, shipped with Debian's Ansible 2.14): `values` for repeated options, `exclusive`, `allow_no_value`.

import { ModuleError, defineModule, type ModuleContext, type Plan } from './contract.ts';
import { EDIT_ARG_SPECS, readForEdit, writeEdit, type EditArgs } from './edit-file.ts';
import { omitNulls } from '../core/given.ts';

interface IniArgs extends EditArgs {
  section?: string;
  option?: string;
  value?: string;
  values?: string[];
  state: 'present' | 'absent';
  exclusive: boolean;
  no_extra_spaces: boolean;
  allow_no_value: boolean;
  create: boolean;
}

const escapeRe = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
/** An option line, active or commented out; group 6 is its value. */
const matchOpt = (option: string, line: string): RegExpExecArray | null =>
  new RegExp(`^[#;]?( |\\t)*(${escapeRe(option)})( |\\t)*(=|$)( |\\t)*(.*)`).exec(line.replace(/\n$/, ''));
const matchActiveOpt = (option: string, line: string): RegExpExecArray | null =>
  new RegExp(`^( |\\t)*(${escapeRe(option)})( |\\t)*(=|$)( |\\t)*(.*)`).exec(line.replace(/\n$/, ''));
const BLANK_OR_COMMENT = /^[ \t]*([#;].*)?$/;
// Stands for "no section" (the lines before the first section), a name no file uses.
const NO_SECTION = 'kplay-no-section-5f1c0e9b';

function edit(text: string | null, args: IniArgs): { after: string; msg: string; changed: boolean } {
  const option = args.option;
  const values: string[] = [];
  for (const v of args.value !== undefined ? [args.value] : (args.values ?? [])) if (!values.includes(v)) values.push(v);
  let lines: string[] = (text ?? '').match(/[^\n]*\n|[^\n]+$/g) ?? [];
  let changed = false;
  if (lines.length === 0) lines.push('\n');
  if (!lines[lines.length - 1].endsWith('\n')) {
    lines[lines.length - 1] += '\n';
    changed = true;
  }
  lines = [`[${NO_SECTION}]`, ...lines, '['];
  const section = args.section ? args.section : NO_SECTION;
  let within = false;
  let sectionStart = 0;
  let sectionEnd = 0;
  for (const [i, line] of lines.entries()) {
    if (line.startsWith(`[${section}]`)) {
      within = true;
      sectionStart = i;
    } else if (line.startsWith('[') && within) {
      sectionEnd = i;
      break;
    }
  }
  const before = lines.slice(0, sectionStart);
  let sectionLines = lines.slice(sectionStart, sectionEnd);
  const after = lines.slice(sectionEnd);
  let changedLines = sectionLines.map(() => false);
  let msg = 'OK';
  const assign = (opt: string, value: string): string => (args.no_extra_spaces ? `${opt}=${value}\n` : `${opt} = ${value}\n`);
  let noValuePresent = false;
  const update = (index: number, newLine: string): void => {
    if (sectionLines[index] !== newLine) {
      changed = true;
      msg = 'option changed';
    }
    sectionLines[index] = newLine;
    changedLines[index] = true;
  };
  if (args.state === 'present' && option) {
    for (const [index, line] of sectionLines.entries()) {
      const m = matchOpt(option, line);
      if (!m) continue;
      const value = m[6];
      if (values.length > 0 && values.includes(value)) {
        if (!value && args.allow_no_value) {
          update(index, `${option}\n`);
          noValuePresent = true;
        } else update(index, assign(option, value));
        values.splice(values.indexOf(value), 1);
      } else if (values.length === 0 && args.allow_no_value) {
        update(index, `${option}\n`);
        noValuePresent = true;
        break;
      }
    }
  }
  if (args.state === 'present' && args.exclusive && !args.allow_no_value && option) {
    if (values.length > 0) {
      for (const [index, line] of sectionLines.entries()) {
        if (!changedLines[index] && matchOpt(option, line)) {
          update(index, assign(option, values.shift()!));
          if (values.length === 0) break;
        }
      }
    }
    for (let index = sectionLines.length - 1; index > 0; index--) {
      if (!changedLines[index] && matchOpt(option, sectionLines[index])) {
        sectionLines.splice(index, 1);
        changedLines.splice(index, 1);
        changed = true;
        msg = 'option changed';
      }
    }
  }
  if (args.state === 'present') {
    for (let index = sectionLines.length; index > 0; index--) {
      if (BLANK_OR_COMMENT.test(sectionLines[index - 1].replace(/\n$/, ''))) continue;
      if (option && values.length > 0) {
        sectionLines.splice(index, 0, ...values.map((v) => assign(option, v)));
        msg = 'option added';
        changed = true;
      } else if (option && values.length === 0 && args.allow_no_value && !noValuePresent) {
        sectionLines.splice(index, 0, `${option}\n`);
        msg = 'option added';
        changed = true;
      }
      break;
    }
  }
  if (args.state === 'absent') {
    if (option) {
      const keep = args.exclusive
        ? sectionLines.filter((line) => !matchActiveOpt(option, line))
        : sectionLines.filter((line) => !(values.length > 0 && values.includes(matchActiveOpt(option, line)?.[6] ?? '\u0000')));
      if (keep.length !== sectionLines.length) {
        changed = true;
        msg = 'option changed';
        sectionLines = keep;
      }
    } else if (sectionLines.length > 0) {
      sectionLines = [];
      msg = 'section removed';
      changed = true;
    }
  }
  changedLines = [];
  let out = [...before, ...sectionLines, ...after];
  out = out.slice(1, -1);
  if (!within && args.state === 'present') {
    out.push(`[${section}]\n`);
    msg = 'section and option added';
    if (option && values.length > 0) for (const v of values) out.push(assign(option, v));
    else if (option && args.allow_no_value) out.push(`${option}\n`);
    else msg = 'only section added';
    changed = true;
  }
  return { after: out.join(''), msg, changed };
}

async function plan(args: IniArgs, ctx: ModuleContext): Promise<Plan> {
  if (args.state === 'present' && !args.allow_no_value && args.value === undefined && !(args.values && args.values.length > 0)) {
    throw new ModuleError("Parameter 'value(s)' must be defined if state=present and allow_no_value=False.");
  }
  const found = await readForEdit(args.path, ctx);
  if (found.content === null && !args.create) throw new ModuleError(`Destination ${args.path} does not exist!`, { rc: 257 });
  // Read as utf-8-sig: a byte order mark is dropped, as Ansible does.
  const text = found.content === null ? null : found.content.toString('utf8').replace(/^\uFEFF/, '');
  const { after, msg, changed } = edit(text, args);
  const content = changed ? Buffer.from(after, 'utf8') : (found.content ?? Buffer.from(after, 'utf8'));
  return writeEdit(args, found, content, { msg: changed ? msg : 'OK', result: { path: args.path } }, ctx);
}

export default defineModule<IniArgs>({
  name: 'ini_file',
  spec: {
    args: {
      path: { type: 'path', required: true, aliases: ['dest'] },
      section: { type: 'str', description: 'The [section]; empty or not given: the options before the first section.' },
      option: { type: 'str', description: 'Without it, state=absent removes the whole section.' },
      value: { type: 'str' },
      values: { type: 'list', elements: 'str', description: 'The option repeated once per value.' },
      state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
      exclusive: { type: 'bool', default: true, description: 'Remove other occurrences of the option (present) or all of them (absent).' },
      no_extra_spaces: { type: 'bool', default: false, description: 'Write option=value instead of option = value.' },
      allow_no_value: { type: 'bool', default: false, description: 'An option without a value (a bare `option` line).' },
      create: { type: 'bool', default: true, description: 'Create the file when it is missing.' },
      ...EDIT_ARG_SPECS,
    },
    mutuallyExclusive: [['value', 'values']],
  },
  plan: (given, ctx) => plan(omitNulls(given), ctx),
});
