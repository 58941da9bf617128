// The workload read from bench/workload/playbook.yml, independently of kplay: what each task must leave on a host
// (to verify every tool's result) and the shell command that does it (for the floors).
// Only the forms the workload uses are understood; anything else is an error, so the two cannot drift apart silently.

import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import ejs from 'ejs';
import { parse } from 'yaml';
import { shellQuote } from '../engine/core/shell.ts';

export const WORKLOAD_DIR = join(import.meta.dirname, 'workload');
export const PLAYBOOK = join(WORKLOAD_DIR, 'playbook.yml');
/** The folder the workload writes in; the bench empties it on every host before cold and --check runs. */
export const WORKLOAD_ROOT = '/srv/kbench';

/**
 * -e values per tool: both render the same Jinja templates. (Absolute, so a playbook written elsewhere, the round-trip
 * count's, finds them too.) The EJS twins in templates-ejs/ are only the bench's own reference rendering: what a
 * template must produce is computed without either tool's Jinja.
 */
export const TEMPLATE_VARS = {
  kplay: { template_dir: join(WORKLOAD_DIR, 'templates-jinja'), template_ext: 'j2' },
  ansible: { template_dir: join(WORKLOAD_DIR, 'templates-jinja'), template_ext: 'j2' },
  /** A baseline from before kplay spoke Jinja (it rendered every template as EJS): the EJS twins. */
  ejs: { template_dir: join(WORKLOAD_DIR, 'templates-ejs'), template_ext: 'ejs' },
} as const;
const REFERENCE_TEMPLATES = join(WORKLOAD_DIR, 'templates-ejs');

/** One path the workload leaves on a host. `content` undefined for directories; `mode` undefined when not set. */
export interface ExpectedEntry {
  path: string;
  type: 'directory' | 'file';
  mode?: number;
  content?: string;
}

export interface WorkloadTask {
  name: string;
  /** The one shell command that does this task (idempotent where the module is: `creates`). */
  shell: string;
  expected: ExpectedEntry;
}

interface Play {
  vars?: Record<string, unknown>;
  tasks: Array<Record<string, unknown> & { name: string }>;
}

type Args = Record<string, string>;

/** The workload's tasks as seen on one host. */
export function workloadTasks(hostName: string, hostnameFile: string): WorkloadTask[] {
  const [play] = parse(readFileSync(PLAYBOOK, 'utf8')) as Play[];
  const vars: Record<string, unknown> = { ...play.vars, ...TEMPLATE_VARS.kplay, inventory_hostname: hostName };
  return play.tasks.map((task) => {
    const [module, args] = Object.entries(task).find(([key]) => key !== 'name') as [string, Args];
    return { name: task.name, ...taskOnHost(module, args, vars, hostnameFile) };
  });
}

function taskOnHost(module: string, args: Args, vars: Record<string, unknown>, hostnameFile: string): Omit<WorkloadTask, 'name'> {
  const mode = args.mode === undefined ? undefined : parseInt(args.mode, 8);
  const writeFile = (path: string, content: string) => ({
    shell: `printf %s ${shellQuote(content)} > ${path} && chmod ${args.mode} ${path}`,
    expected: { path, type: 'file' as const, mode, content },
  });
  switch (module) {
    case 'file':
      if (args.state !== 'directory') break;
      return {
        shell: `mkdir -p ${args.path} && chmod ${args.mode} ${args.path}`,
        expected: { path: args.path, type: 'directory', mode },
      };
    case 'copy':
      return writeFile(args.dest, interpolate(args.content, vars));
    case 'template': {
      const src = resolve(WORKLOAD_DIR, interpolate(args.src, vars));
      const reference = join(REFERENCE_TEMPLATES, basename(src).replace(/\.j2$/, '.ejs'));
      const content = ejs.render(readFileSync(reference, 'utf8'), vars, { escape: String });
      return writeFile(args.dest, content);
    }
    case 'command': {
      const [program, from, to] = args.cmd.split(' ');
      if (program !== 'cp' || to !== args.creates) break;
      return {
        shell: `test -e ${args.creates} || ${args.cmd}`,
        expected: { path: args.creates, type: 'file', content: readFileSync(from === '/etc/hostname' ? hostnameFile : from, 'utf8') },
      };
    }
  }
  throw new Error(`the bench does not understand this task: ${module} ${JSON.stringify(args)}`);
}

/** `{{ name }}` only: the simple form that means the same in kplay and Ansible. */
function interpolate(text: string, vars: Record<string, unknown>): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => {
    if (!(name in vars)) throw new Error(`the workload uses an unknown variable: ${name}`);
    return String(vars[name]);
  });
}
