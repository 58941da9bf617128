// sysctl: a kernel setting in a sysctl file (default /etc/sysctl.conf), applied with `sysctl -p FILE` when the file
// changes (reload) or set at once with `sysctl -w` (sysctl_set). The file is rewritten as Ansible's module rewrites
// it (one `key=value` a line, later duplicates dropped), so both leave the same file.
//
// Reads the live value (`sysctl -n`) and the file at once; apply() writes the file atomically, then one command.

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule } from './contract.ts';
import { fileDiff } from './diff-text.ts';
import { asBecome } from './file-attrs.ts';

interface SysctlArgs {
  name: string;
  value?: string;
  state: 'present' | 'absent';
  reload: boolean;
  sysctl_set: boolean;
  ignoreerrors: boolean;
  sysctl_file: string;
}

const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);

/** Ansible's normalising: yes/true → 1, no/false → 0, else trimmed. */
function normalise(value: string | undefined): string {
  if (value == null) return '';
  const v = String(value);
  if (TRUE.has(v.toLowerCase())) return '1';
  if (FALSE.has(v.toLowerCase())) return '0';
  return v.trim();
}

/** Live values compare word by word (`4096 87380 6291456` against tabs). */
const sameWords = (a: string | undefined, b: string): boolean => a !== undefined && a.split(/\s+/).filter(Boolean).join(' ') === b.split(/\s+/).filter(Boolean).join(' ');

const isSetting = (line: string): boolean => line !== '' && !line.startsWith('#') && !line.startsWith(';') && line.includes('=');

export default defineModule<SysctlArgs>({
  name: 'sysctl',
  spec: {
    args: {
      name: { type: 'str', required: true, aliases: ['key'] },
      value: { type: 'str', aliases: ['val'] },
      state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
      reload: { type: 'bool', default: true, description: 'Run `sysctl -p FILE` when something changed.' },
      sysctl_set: { type: 'bool', default: false, description: 'Also set the live value with `sysctl -w`.' },
      ignoreerrors: { type: 'bool', default: false, description: 'Ignore unknown keys (sysctl -e).' },
      sysctl_file: { type: 'path', default: '/etc/sysctl.conf' },
    },
    requiredIf: [['state', 'present', ['value']]],
  },
  async plan(args, ctx) {
    const name = args.name.trim();
    if (name === '') throw new ModuleError('name cannot be blank');
    const value = normalise(args.value);
    if (args.state === 'present' && value === '') throw new ModuleError('value cannot be blank');
    const become = asBecome(ctx.become);
    const e = args.ignoreerrors ? '-e ' : '';
    const [live, fileBuf] = await Promise.all([
      ctx.conn.exec(`sysctl ${e}-n ${shellQuote(name)}`, { ...become, env: { LANG: 'C' } }),
      ctx.conn.get(args.sysctl_file, become),
    ]);
    const proc = live.rc === 0 && live.stdout !== '' ? live.stdout.replace(/\n$/, '') : undefined;
    const before = fileBuf?.toString() ?? '';
    const lines = before.split('\n').map((l) => l.trim());
    if (before.endsWith('\n') || before === '') lines.pop();

    const values = new Map<string, string>();
    const seen = new Set<string>();
    const fixed: string[] = [];
    for (const line of lines) {
      if (!isSetting(line)) {
        fixed.push(line);
        continue;
      }
      const eq = line.indexOf('=');
      const [k, v] = [line.slice(0, eq).trim(), line.slice(eq + 1).trim()];
      values.set(k, v);
      if (seen.has(k)) continue;
      seen.add(k);
      if (k !== name) fixed.push(`${k}=${v}`);
      else if (args.state === 'present') fixed.push(`${k}=${value}`);
    }
    if (!seen.has(name) && args.state === 'present') fixed.push(`${name}=${value}`);

    const inFile = values.get(name);
    let changed = false;
    let writeFile = false;
    if (inFile === undefined) {
      if (args.state === 'present') changed = writeFile = true;
    } else if (args.state === 'absent') {
      changed = writeFile = true;
    } else if (inFile !== value) {
      changed = writeFile = true;
    } else if (args.reload && !sameWords(proc, value)) {
      changed = true;
    }
    let setLive = false;
    if (args.sysctl_set && args.state === 'present' && !sameWords(proc, value)) {
      changed = true;
      setLive = proc !== undefined;
    }
    const result = { name, value: args.state === 'present' ? value : undefined, state: args.state, sysctl_file: args.sysctl_file };
    if (!changed) return { changed: false, result };
    const after = writeFile ? fixed.map((l) => `${l}\n`).join('') : before;
    const commands: string[] = [];
    if (setLive) commands.push(`sysctl ${e}-w ${shellQuote(`${name}=${value}`)}`);
    if (args.reload) commands.push(`sysctl ${e}-p ${shellQuote(args.sysctl_file)}`);
    return {
      changed: true,
      msg: [writeFile ? `${name}=${value} in ${args.sysctl_file}` : '', ...commands].filter(Boolean).join('; '),
      diff: writeFile ? [fileDiff(args.sysctl_file, fileBuf, after)] : undefined,
      result,
      effects: writeFile ? [{ path: args.sysctl_file, state: 'file', content: Buffer.from(after) }] : [],
      apply: async () => {
        if (setLive) await sysctl(commands.shift()!);
        if (writeFile) await ctx.conn.put(args.sysctl_file, after, { mode: 0o644, ...become });
        for (const command of commands) await sysctl(command);
      },
    };

    async function sysctl(command: string): Promise<void> {
      const r = await ctx.conn.exec(command, { ...become, env: { LANG: 'C' } });
      // sysctl may exit 0 and still fail to set a key (Ansible checks stderr the same way).
      if (r.rc !== 0 || /^sysctl: setting key "[^"]+": (Invalid argument|Read-only file system)$/m.test(r.stderr)) {
        throw new ModuleError(`${command.startsWith('sysctl -p') || command.includes(' -p ') ? 'Failed to reload sysctl' : 'setting failed'}: ${(r.stdout + r.stderr).trim()}`, { rc: r.rc, stderr: r.stderr });
      }
    }
  },
});
