// modprobe: a kernel module loaded or unloaded now (modprobe / modprobe -r), and with persistent, listed for boot in
// /etc/modules-load.d/NAME.conf with its options in /etc/modprobe.d/NAME.conf, as community.general.modprobe does.
//
// One round trip reads whether it is loaded (/sys/module) and both files. A module that cannot be loaded (not in
// this kernel, or inside a container, which may not load modules) fails with modprobe's own words.

import { shellQuote } from '../core/shell.ts';
import type { FileDiff, FileEffect } from './contract.ts';
import { ModuleError, defineModule } from './contract.ts';
import { fileDiff } from './diff-text.ts';
import { asBecome } from './file-attrs.ts';

interface ModprobeArgs {
  name: string;
  state: 'present' | 'absent';
  params: string;
  persistent: 'disabled' | 'present' | 'absent';
}

export default defineModule<ModprobeArgs>({
  name: 'modprobe',
  spec: {
    args: {
      name: { type: 'str', required: true },
      state: { type: 'str', default: 'present', choices: ['present', 'absent'] },
      params: { type: 'str', default: '', description: 'Options for the module (with persistent, written to modprobe.d).' },
      persistent: { type: 'str', default: 'disabled', choices: ['disabled', 'present', 'absent'], description: 'Also load it at boot (or stop).' },
    },
  },
  async plan(args, ctx) {
    const become = asBecome(ctx.become);
    const sysName = args.name.replace(/-/g, '_');
    const loadFile = `/etc/modules-load.d/${args.name}.conf`;
    const optionsFile = `/etc/modprobe.d/${args.name}.conf`;
    const [loaded, loadBuf, optionsBuf] = await Promise.all([
      ctx.conn
        .exec(`command -v modprobe >/dev/null || echo no-modprobe; { [ -d /sys/module/${shellQuote(sysName)} ] || grep -q ${shellQuote(`^${sysName} `)} /proc/modules; } 2>/dev/null`, become)
        .then((r) => ({ exists: r.rc === 0, modprobe: !r.stdout.includes('no-modprobe') })),
      args.persistent === 'disabled' ? Promise.resolve(null) : ctx.conn.get(loadFile, become),
      args.persistent === 'disabled' ? Promise.resolve(null) : ctx.conn.get(optionsFile, become),
    ]);
    const steps: string[] = [];
    const diff: FileDiff[] = [];
    const effects: FileEffect[] = [];
    const writes: [string, string][] = [];
    const removes: string[] = [];
    // Known before anything runs, so --check fails the same way the real run would.
    if (!loaded.modprobe && loaded.exists === (args.state === 'absent')) {
      throw new ModuleError('modprobe is not installed on the host (Debian: the kmod package), so the module cannot be loaded or unloaded', { name: args.name });
    }
    if (args.state === 'present' && !loaded.exists) steps.push(['modprobe', args.name, ...args.params.split(/\s+/).filter(Boolean)].map(shellQuote).join(' '));
    if (args.state === 'absent' && loaded.exists) steps.push(`modprobe -r ${shellQuote(args.name)}`);
    if (args.persistent === 'present') {
      const wantLoad = `${args.name}\n`;
      if (loadBuf?.toString() !== wantLoad) writes.push([loadFile, wantLoad]);
      if (args.params.trim() !== '') {
        const wantOptions = `options ${args.name} ${args.params.trim()}\n`;
        if (optionsBuf?.toString() !== wantOptions) writes.push([optionsFile, wantOptions]);
      }
    } else if (args.persistent === 'absent') {
      if (loadBuf !== null) removes.push(loadFile);
      if (optionsBuf !== null) removes.push(optionsFile);
    }
    for (const [path, text] of writes) {
      diff.push(fileDiff(path, path === loadFile ? loadBuf : optionsBuf, text));
      effects.push({ path, state: 'file', content: Buffer.from(text), mode: 0o644 });
    }
    for (const path of removes) {
      diff.push(fileDiff(path, path === loadFile ? loadBuf : optionsBuf, ''));
      effects.push({ path, state: 'absent' });
    }
    const result = { name: args.name, state: args.state, params: args.params, persistent: args.persistent, commands: steps };
    if (steps.length === 0 && writes.length === 0 && removes.length === 0) return { changed: false, result };
    return {
      changed: true,
      msg: [...steps, ...writes.map(([p]) => `write ${p}`), ...removes.map((p) => `remove ${p}`)].join('; '),
      diff,
      result,
      effects,
      apply: async () => {
        for (const step of steps) {
          const r = await ctx.conn.exec(step, become);
          if (r.rc !== 0) {
            const why = (r.stderr || r.stdout).trim() || 'no message';
            // Inside a container modprobe cannot load anything: say so rather than leave "not found" unexplained.
            if (r.rc === 127) throw new ModuleError(`modprobe is not installed on the host (Debian: the kmod package): ${why}`, { rc: r.rc });
            const hint = /not permitted|not found in directory/.test(why) ? ' (a container cannot load kernel modules: load it on the machine that runs it)' : '';
            throw new ModuleError(`${step} failed (rc ${r.rc}): ${why}${hint}`, { rc: r.rc, stderr: r.stderr });
          }
        }
        for (const [path, text] of writes) {
          await ctx.conn.exec(`mkdir -p -- ${shellQuote(path.replace(/\/[^/]*$/, ''))}`, become);
          await ctx.conn.put(path, text, { mode: 0o644, ...become });
        }
        if (removes.length > 0) await ctx.conn.exec(`rm -f -- ${removes.map(shellQuote).join(' ')}`, become);
      },
    };
  },
});
