// file: a path's state (file, directory, touch, absent, link, hard) with its mode, owner and group.
//
// One read (a stat; for hard links one exec of stat), then at most one exec that makes every change and prints the
// resulting attributes, so the result shows what is there after the change. A new directory whose parent exists is
// made by the connection without a process where it can (sftp mkdir + setstat), with the same result.

import { posix } from 'node:path';
import { type FileStat } from '../connection/connection.ts';
import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule, type FileDiff, type FileEffect, type ModuleContext, type Plan } from './contract.ts';
import { omitNulls } from '../core/given.ts';
import { asBecome, attrChanges, attrCommands, attrResult, describeChanges, formatMode, hasChanges, resolveMode, symbolicToOctal, type WantedAttrs } from './file-attrs.ts';

type State = 'file' | 'directory' | 'touch' | 'absent' | 'link' | 'hard';

interface FileArgs extends WantedAttrs {
  path: string;
  state?: State;
  src?: string;
  recurse: boolean;
  force: boolean;
  follow: boolean;
}

// Printed last by every apply: the attributes the path ends up with.
const FINAL_STAT = `stat -c '%a|%U|%G|%u|%g|%s'`;

/** A path's state as text, the way --diff shows a file module change. */
function stateText(state: string, attrs: { mode?: number; owner?: string; group?: string; target?: string }): string {
  const lines = [`state: ${state}`];
  if (attrs.target !== undefined) lines.push(`src: ${attrs.target}`);
  if (attrs.mode !== undefined) lines.push(`mode: ${formatMode(attrs.mode)}`);
  if (attrs.owner !== undefined) lines.push(`owner: ${attrs.owner}`);
  if (attrs.group !== undefined) lines.push(`group: ${attrs.group}`);
  return `${lines.join('\n')}\n`;
}

function currentState(st: FileStat): string {
  if (!st.exists) return 'absent';
  return st.type === 'directory' ? 'directory' : st.type === 'link' ? 'link' : 'file';
}

interface Change {
  msg: string;
  commands: string[];
  after: { state: string; mode?: number; owner?: string; group?: string; target?: string };
  effect: FileEffect;
}

/** A plan that runs `change.commands` in one exec; the result reports what is there afterwards. */
function changePlan(args: FileArgs, ctx: ModuleContext, st: FileStat, change: Change, state: State): Plan {
  const p = shellQuote(args.path);
  const result: Record<string, unknown> = { path: args.path, state, ...(args.src != null ? { src: args.src } : {}) };
  const diff: FileDiff = {
    path: args.path,
    before: stateText(currentState(st), st.exists ? st : {}),
    after: stateText(change.after.state, change.after),
  };
  return {
    changed: true,
    msg: change.msg,
    diff: [diff],
    result: { ...result, ...(change.after.mode !== undefined ? { mode: formatMode(change.after.mode) } : {}) },
    effects: [change.effect],
    apply: async () => {
      const report = state === 'absent' ? '' : ` && ${FINAL_STAT} -- ${p}`;
      const r = await ctx.conn.exec(`${change.commands.join(' && ')}${report}`, asBecome(ctx.become));
      if (r.rc !== 0) throw new ModuleError(`${args.path}: ${r.stderr.trim() || `exit code ${r.rc}`}`, { ...result, rc: r.rc });
      if (state === 'absent') return;
      const [mode, owner, group, uid, gid, size] = r.stdout.trim().split('\n').pop()!.split('|');
      return { mode: formatMode(parseInt(mode, 8)), owner, group, uid: Number(uid), gid: Number(gid), size: Number(size) };
    },
  };
}

function unchanged(args: FileArgs, st: FileStat, state: State): Plan {
  const result = { path: args.path, state, ...(st.exists ? attrResult(st) : {}), ...(args.src != null ? { src: args.src } : {}) };
  return { changed: false, result };
}

function planAbsent(args: FileArgs, ctx: ModuleContext, st: FileStat): Plan {
  if (!st.exists) return unchanged(args, st, 'absent');
  return changePlan(args, ctx, st, {
    msg: `remove ${args.path}`,
    commands: [`rm -rf -- ${shellQuote(args.path)}`],
    after: { state: 'absent' },
    effect: { path: args.path, state: 'absent' },
  }, 'absent');
}

function planFile(args: FileArgs, ctx: ModuleContext, st: FileStat): Plan {
  if (!st.exists) throw new ModuleError(`file (${args.path}) is absent, cannot continue`, { path: args.path, state: 'absent' });
  if (st.type === 'directory') throw new ModuleError(`file (${args.path}) is directory, cannot continue`, { path: args.path });
  return planAttrs(args, ctx, st, 'file', { path: args.path, state: 'file' });
}

/** The path is in the wanted state already: only mode, owner and group may need fixing. */
function planAttrs(args: FileArgs, ctx: ModuleContext, st: FileStat, state: State, effect: FileEffect, link = false): Plan {
  const changes = attrChanges(args, st);
  if (!hasChanges(changes)) return unchanged(args, st, state);
  const after = { ...st, ...changes };
  return changePlan(args, ctx, st, {
    msg: `${args.path}: ${describeChanges(changes, st)}`,
    commands: attrCommands(args.path, changes, { link }),
    after: { ...after, state: currentState(st), mode: link ? undefined : after.mode },
    effect: effect.state === 'file' || effect.state === 'directory' ? { ...effect, mode: after.mode, owner: after.owner, group: after.group } : effect,
  }, state);
}

/**
 * Make a folder and every missing folder above it, each with the task's mode, owner and group: Ansible's file module
 * sets them on every folder it creates, not only the last (`mkdir -p` alone would leave the parents at the umask).
 */
function makeDirs(path: string, changes: ReturnType<typeof attrChanges>): string[] {
  const dirs: string[] = [];
  for (let d = path.replace(/\/+$/, ''); d !== '' && d !== '/' && d !== '.'; d = posix.dirname(d)) dirs.unshift(d);
  // Another task may make the same folder at the same moment (two hosts on one machine): its mkdir failing because the
  // folder is there now is fine, as `mkdir -p` would have it; the folder is then the other's, its attributes too.
  return dirs.map((d) => {
    const q = shellQuote(d);
    const attrs = attrCommands(d, changes);
    return `if [ ! -e ${q} ]; then if mkdir -- ${q} 2>/dev/null; then ${attrs.length ? attrs.join(' && ') : ':'}; else [ -d ${q} ] || mkdir -- ${q}; fi; fi`;
  });
}

async function planDirectory(args: FileArgs, ctx: ModuleContext, st: FileStat): Promise<Plan> {
  const mode = resolveMode(args.mode, st.exists ? st.mode : undefined, true);
  const effect: FileEffect = { path: args.path, state: 'directory', mode: mode ?? st.mode, owner: args.owner ?? st.owner, group: args.group ?? st.group };
  if (!st.exists) {
    const plan = changePlan(args, ctx, st, {
      msg: `create directory ${args.path}${mode != null ? ` ${formatMode(mode)}` : ''}`,
      commands: makeDirs(args.path, attrChanges(args, st, true)),
      after: { owner: args.owner, group: args.group, mode, state: 'directory' },
      effect,
    }, 'directory');
    // Its parent there already: the connection may make it without a process on the host (sftp), else the command.
    const byCommand = plan.apply!;
    const mkdir = ctx.conn.mkdir?.bind(ctx.conn);
    if (!mkdir) return plan;
    return {
      ...plan,
      apply: async () => {
        const made = await mkdir(args.path, { mode: mode ?? undefined, owner: args.owner, group: args.group, ...asBecome(ctx.become) });
        return made ? attrResult(made) : byCommand();
      },
    };
  }
  if (st.type !== 'directory') {
    throw new ModuleError(`${args.path} already exists as a ${st.type === 'link' ? 'link' : 'file'}`, { path: args.path });
  }
  if (!args.recurse || !(await treeDiffers(args, ctx))) return planAttrs(args, ctx, st, 'directory', effect);
  return changePlan(args, ctx, st, {
    msg: `${args.path}: set attributes recursively`,
    commands: [
      ...attrCommands(args.path, { owner: args.owner, group: args.group }, { recurse: true }),
      // A symbolic mode is applied by chmod itself to each path, against that path's own mode.
      ...(args.mode == null ? [] : [`chmod -R ${typeof args.mode === 'number' ? args.mode.toString(8) : shellQuote(args.mode)} -- ${shellQuote(args.path)}`]),
    ],
    after: { owner: args.owner, group: args.group, mode, state: 'directory' },
    effect,
  }, 'directory');
}

/** With recurse: is there anything under the directory without the wanted mode, owner or group? */
async function treeDiffers(args: FileArgs, ctx: ModuleContext): Promise<boolean> {
  const tests: string[] = [];
  if (args.owner != null) tests.push(`! -user ${shellQuote(args.owner)}`);
  if (args.group != null) tests.push(`! -group ${shellQuote(args.group)}`);
  if (typeof args.mode === 'number') tests.push(`! -perm ${args.mode.toString(8)}`);
  if (typeof args.mode === 'string') return (await symbolicTreeDiffers(args.path, args.mode, ctx)) || (tests.length > 0 && treeFinds(args.path, tests, ctx));
  if (tests.length === 0) return false;
  return treeFinds(args.path, tests, ctx);
}

/** Whether find finds a path under `path` failing one of `tests`. */
async function treeFinds(path: string, tests: string[], ctx: ModuleContext): Promise<boolean> {
  const r = await ctx.conn.exec(`find ${shellQuote(path)} \\( ${tests.join(' -o ')} \\) -print -quit`, asBecome(ctx.become));
  if (r.rc !== 0) throw new ModuleError(`cannot inspect ${path}: ${r.stderr.trim()}`, { path });
  return r.stdout.trim() !== '';
}

/** A symbolic mode with recurse: every path's mode, computed against its own, in one listing. */
async function symbolicTreeDiffers(path: string, mode: string, ctx: ModuleContext): Promise<boolean> {
  const r = await ctx.conn.exec(`find ${shellQuote(path)} ! -type l -printf '%y %m\\n'`, asBecome(ctx.become));
  if (r.rc !== 0) throw new ModuleError(`cannot inspect ${path}: ${r.stderr.trim()}`, { path });
  return r.stdout.split('\n').filter(Boolean).some((line) => {
    const [type, octal] = line.split(' ');
    const current = parseInt(octal, 8);
    return symbolicToOctal(mode, current, type === 'd') !== current;
  });
}

function planTouch(args: FileArgs, ctx: ModuleContext, st: FileStat): Plan {
  // Touching always changes the times, so it is always a change (as in Ansible).
  const changes = st.exists ? attrChanges(args, st) : { mode: resolveMode(args.mode, undefined, false) ?? 0o644, owner: args.owner, group: args.group };
  const after = { ...st, ...changes };
  const effect: FileEffect =
    st.type === 'directory'
      ? { path: args.path, state: 'directory', mode: after.mode, owner: after.owner, group: after.group }
      : { path: args.path, state: 'file', mode: after.mode, owner: after.owner, group: after.group, ...(st.exists ? {} : { content: Buffer.alloc(0) }) };
  return changePlan(args, ctx, st, {
    msg: `${st.exists ? 'touch' : 'create'} ${args.path}`,
    commands: [`touch -- ${shellQuote(args.path)}`, ...attrCommands(args.path, changes)],
    after: { ...after, state: st.exists ? currentState(st) : 'file' },
    effect,
  }, 'touch');
}

async function planLink(args: FileArgs, ctx: ModuleContext, st: FileStat): Promise<Plan> {
  const src = args.src!;
  const effect: FileEffect = { path: args.path, state: 'link', target: src };
  if (st.exists && st.type === 'link' && st.target === src) return planAttrs(args, ctx, st, 'link', effect, true);
  if (st.exists && st.type !== 'link' && !args.force) {
    throw new ModuleError(`refusing to convert from ${currentState(st)} to symlink for ${args.path}`, { path: args.path });
  }
  if (!args.force) {
    // As Ansible: a link to nothing only with force (a relative src is relative to the link's folder).
    const target = await ctx.conn.stat(posix.resolve(posix.dirname(args.path), src), asBecome(ctx.become));
    if (!target.exists) throw new ModuleError(`src file does not exist, use "force: true" if you really want to create the link: ${src}`, { path: args.path, src });
  }
  const p = shellQuote(args.path);
  const clear = !st.exists || st.type === 'link' ? [] : [st.type === 'directory' ? `rmdir -- ${p}` : `rm -f -- ${p}`];
  return changePlan(args, ctx, st, {
    msg: `link ${args.path} -> ${src}`,
    commands: [...clear, `ln -sfn -- ${shellQuote(src)} ${p}`, ...attrCommands(args.path, { owner: args.owner, group: args.group }, { link: true })],
    after: { state: 'link', target: src, owner: args.owner, group: args.group },
    effect,
  }, 'link');
}

/** Hard links: stat both paths in one exec to compare device and inode. */
async function planHard(args: FileArgs, ctx: ModuleContext): Promise<Plan> {
  const src = args.src!;
  const srcPath = posix.resolve(posix.dirname(args.path), src);
  const p = shellQuote(args.path);
  const r = await ctx.conn.exec(
    `stat -L -c '%d:%i' -- ${shellQuote(srcPath)} || echo ABSENT; stat -c '%d:%i|%F|%a|%U|%G|%u|%g|%s' -- ${p} 2>/dev/null || echo ABSENT`,
    asBecome(ctx.become),
  );
  const [srcInode, pathLine] = r.stdout.trim().split('\n');
  if (srcInode === 'ABSENT') throw new ModuleError(`src does not exist: ${src}`, { path: args.path, src });
  const st: FileStat = { exists: pathLine !== 'ABSENT' };
  let inode = '';
  if (st.exists) {
    const [ino, type, mode, owner, group, uid, gid, size] = pathLine.split('|');
    Object.assign(st, { type: type.startsWith('regular') ? 'file' : type === 'directory' ? 'directory' : type === 'symbolic link' ? 'link' : 'other', mode: parseInt(mode, 8), owner, group, uid: Number(uid), gid: Number(gid), size: Number(size) });
    inode = ino;
  }
  const effect: FileEffect = { path: args.path, state: 'file', mode: resolveMode(args.mode, st.mode, false), owner: args.owner, group: args.group };
  if (inode === srcInode) return planAttrs(args, ctx, st, 'hard', effect);
  if (st.exists && !args.force) throw new ModuleError(`refusing to replace ${args.path} with a hard link (use force)`, { path: args.path });
  if (st.type === 'directory') throw new ModuleError(`${args.path} is a directory, cannot hard link`, { path: args.path });
  return changePlan(args, ctx, st, {
    msg: `hard link ${args.path} -> ${src}`,
    commands: [`ln -f -- ${shellQuote(srcPath)} ${p}`, ...attrCommands(args.path, attrChanges(args, { exists: false }))],
    after: { owner: args.owner, group: args.group, mode: resolveMode(args.mode, undefined, false), state: 'hard', target: src },
    effect,
  }, 'hard');
}

export default defineModule<FileArgs>({
  name: 'file',
  spec: {
    args: {
      path: { type: 'path', required: true, aliases: ['dest', 'name'] },
      state: { type: 'str', choices: ['file', 'directory', 'touch', 'absent', 'link', 'hard'], description: 'Default: what the path is now; file when it does not exist.' },
      mode: { type: 'mode' },
      owner: { type: 'str' },
      group: { type: 'str' },
      src: { type: 'path', description: 'What a link points to (state link or hard).' },
      recurse: { type: 'bool', default: false, description: 'state directory: set mode, owner and group on everything under it.' },
      force: { type: 'bool', default: false, description: 'link/hard: replace a file or empty directory, or link to a missing src.' },
      follow: { type: 'bool', default: true, description: 'Act on what a link points to, not the link itself.' },
    },
    requiredIf: [
      ['state', 'link', ['src']],
      ['state', 'hard', ['src']],
    ],
  },
  async plan(given, ctx) {
    const args = omitNulls(given);
    if (args.src != null && args.state !== 'link' && args.state !== 'hard') {
      throw new ModuleError(`src option requires state to be 'link' or 'hard'`, { path: args.path });
    }
    if (args.recurse && args.state !== undefined && args.state !== 'directory') {
      throw new ModuleError(`recurse option requires state to be 'directory'`, { path: args.path });
    }
    if (args.state === 'hard') return planHard(args, ctx);
    const follow = args.follow && args.state !== 'link' && args.state !== 'absent';
    const st = await ctx.conn.stat(args.path, { follow, ...asBecome(ctx.become) });
    const state: State = args.state ?? (st.exists ? (currentState(st) as State) : args.recurse ? 'directory' : 'file');
    switch (state) {
      case 'absent':
        return planAbsent(args, ctx, st);
      case 'file':
        return planFile(args, ctx, st);
      case 'directory':
        return planDirectory(args, ctx, st);
      case 'touch':
        return planTouch(args, ctx, st);
      case 'link':
        // A link found where no state was asked for: keep it, fix only its owner and group.
        if (args.src === undefined) return planAttrs(args, ctx, st, 'link', { path: args.path, state: 'link', target: st.target ?? '' }, true);
        return planLink(args, ctx, st);
      default:
        throw new ModuleError(`unsupported state ${state}`);
    }
  },
});
