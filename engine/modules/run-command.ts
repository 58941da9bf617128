// What command and shell share: creates/removes, chdir, stdin, and Ansible's result (rc, stdout, delta...).
//
// A command's outcome cannot be known without running it: plan() says so (`unpredictable`) unless creates/removes
// decide that it does not run.

import { posix } from 'node:path';
import { shellQuote } from '../core/shell.ts';
import { ModuleError, type ModuleContext, type Plan } from './contract.ts';
import { asBecome } from './file-attrs.ts';

export interface CommandRequest {
  /** The line given to the host's /bin/sh -c. */
  line: string;
  /** What the result shows as `cmd` (argv for command, the string for shell). */
  shown: string | string[];
  creates?: string;
  removes?: string;
  chdir?: string;
  stdin?: string;
  stdinAddNewline: boolean;
  stripEmptyEnds: boolean;
}

/** The options command and shell share, as their arguments hold them. */
export interface CommandOptionArgs {
  creates?: string;
  removes?: string;
  chdir?: string;
  stdin?: string;
  stdin_add_newline: boolean;
  strip_empty_ends: boolean;
}

export function commandRequest(line: string, shown: string | string[], args: CommandOptionArgs): CommandRequest {
  return {
    line,
    shown,
    creates: args.creates,
    removes: args.removes,
    chdir: args.chdir,
    stdin: args.stdin,
    stdinAddNewline: args.stdin_add_newline,
    stripEmptyEnds: args.strip_empty_ends,
  };
}

/** Shared argument specs of command and shell. */
export const COMMAND_ARGS = {
  cmd: { type: 'str', description: 'The command line (the free-form text of the task).' },
  creates: { type: 'path', description: 'Do not run when this path (or glob) exists.' },
  removes: { type: 'path', description: 'Run only when this path (or glob) exists.' },
  chdir: { type: 'path', description: 'Run in this folder.' },
  stdin: { type: 'str' },
  stdin_add_newline: { type: 'bool', default: true },
  strip_empty_ends: { type: 'bool', default: true, description: 'Drop trailing newlines from stdout and stderr.' },
} as const;

const GLOB = /[*?[]/;

/** A glob as a shell word: the glob characters bare, everything else quoted. */
function globWord(pattern: string): string {
  return pattern
    .split(/(\*|\?|\[[^\]]*\])/)
    .map((part, i) => (i % 2 === 1 ? part : part === '' ? '' : shellQuote(part)))
    .join('');
}

/** Whether a path or glob exists on the host; relative to chdir, as Ansible runs the check after changing folder. */
async function exists(pattern: string, chdir: string | undefined, ctx: ModuleContext): Promise<boolean> {
  if (!GLOB.test(pattern)) {
    const path = chdir ? posix.resolve(chdir, pattern) : pattern;
    const conn = ctx.conn;
    return conn.exists ? conn.exists(path, asBecome(ctx.become)) : (await conn.stat(path, asBecome(ctx.become))).exists;
  }
  const cd = chdir ? `cd ${shellQuote(chdir)} && ` : '';
  const r = await ctx.conn.exec(`${cd}for f in ${globWord(pattern)}; do [ -e "$f" ] || [ -L "$f" ] && exit 0; done; exit 1`, asBecome(ctx.become));
  return r.rc === 0;
}

/** Ansible's time format: 2024-05-01 12:00:00.123000 (local time). */
function timestamp(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const date = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  return `${date} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}000`;
}

/** Ansible's duration format: 0:00:01.250000. */
function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.${String(ms % 1000).padStart(3, '0')}000`;
}

function lines(text: string): string[] {
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

function skipped(request: CommandRequest, why: string): Plan {
  const msg = `skipped, since ${why}`;
  return { changed: false, msg, result: { cmd: request.shown, rc: 0, stdout: msg, stdout_lines: [msg], stderr: '', stderr_lines: [] } };
}

export async function planCommand(request: CommandRequest, ctx: ModuleContext): Promise<Plan> {
  if (request.creates && (await exists(request.creates, request.chdir, ctx))) {
    return skipped(request, `${request.creates} exists`);
  }
  if (request.removes && !(await exists(request.removes, request.chdir, ctx))) {
    return skipped(request, `${request.removes} does not exist`);
  }
  return {
    changed: true,
    // With creates/removes the plan is known (it runs, so it changes): --check reports that instead of skipping.
    unpredictable: request.creates || request.removes ? undefined : 'command would run',
    msg: typeof request.shown === 'string' ? request.shown : request.shown.join(' '),
    apply: () => runCommand(request, ctx),
  };
}

async function runCommand(request: CommandRequest, ctx: ModuleContext): Promise<Record<string, unknown>> {
  const stdin = request.stdin === undefined ? undefined : request.stdin + (request.stdinAddNewline ? '\n' : '');
  const start = new Date();
  const r = await ctx.conn.exec(request.line, { ...asBecome(ctx.become), cwd: request.chdir, stdin });
  const end = new Date();
  const strip = (text: string): string => (request.stripEmptyEnds ? text.replace(/[\r\n]+$/, '') : text);
  const stdout = strip(r.stdout);
  const stderr = strip(r.stderr);
  const result = {
    cmd: request.shown,
    rc: r.rc,
    stdout,
    stderr,
    stdout_lines: lines(stdout),
    stderr_lines: lines(stderr),
    start: timestamp(start),
    end: timestamp(end),
    delta: duration(end.getTime() - start.getTime()),
    msg: '',
  };
  // A command that ran and failed still ran: Ansible reports it changed (an ignored one counts changed in the recap).
  if (r.rc !== 0) throw new ModuleError('non-zero return code', { ...result, changed: true, msg: 'non-zero return code' });
  return result;
}
