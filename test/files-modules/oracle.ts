// Ansible as the oracle for the file modules: the same playbook runs through `ansible-playbook -i localhost, -c local`
// into one folder and through kplay (local connection) into another; the trees must end byte for byte the same
// (names, types, modes, content, link targets) with the same per-task status, on a first and a second run. kplay's
// --check on a third fresh folder must predict its first run's statuses exactly and write nothing; --diff must show
// each content change.

import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { kplay } from '../helpers/kplay.ts';
import { runProcess } from '../helpers/process.ts';

export type Status = 'ok' | 'changed' | 'failed' | 'skipped';

export interface OracleCase {
  /** Makes the starting files in `root` (called once per folder). */
  setup?: (root: string) => void;
  /** YAML task list (indented by 4), paths under `{{ root }}`. */
  tasks: string;
  /** Extra files beside the playbook (files/ for src). */
  project?: Record<string, string>;
  /** Makes more of the project folder (empty folders, links, modes). */
  projectSetup?: (project: string) => void;
  /** How many changed tasks change only mode/owner (no content diff to show); -1: the module shows no diffs. */
  attrOnly?: number;
}

export interface RunOutcome {
  statuses: Status[];
  trees: string;
}

/** Every path under `dir`: type, mode, link target or content; backup names without their pid and time. */
export function tree(dir: string): string {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(dir, path);
      const st = lstatSync(full);
      const shown = path.replace(/\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/, '.PID.TIME~');
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      if (st.isSymbolicLink()) lines.push(`${shown} link -> ${readlinkSync(full)}`);
      else if (st.isDirectory()) {
        lines.push(`${shown}/ ${mode}`);
        walk(path);
      } else lines.push(`${shown} ${mode} ${JSON.stringify(readFileSync(full).toString('latin1'))}`);
    }
  };
  walk('');
  return lines.join('\n');
}

const exec = runProcess;

interface AnsibleJson {
  plays: { tasks: { task: { name: string }; hosts: Record<string, { changed?: boolean; failed?: boolean; skipped?: boolean; msg?: string } & Registered> }[] }[];
}

export type Registered = Record<string, unknown>;

export async function ansibleRun(project: string, root: string): Promise<{ statuses: Status[]; results: Registered[] }> {
  const r = await exec('ansible-playbook', ['-i', 'localhost,', '-c', 'local', 'play.yml', '-e', `root=${root}`], {
    cwd: project,
    env: { ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0', ANSIBLE_LOCALHOST_WARNING: '0', ANSIBLE_INVENTORY_UNPARSED_WARNING: '0', ANSIBLE_DEPRECATION_WARNINGS: '0' },
  });
  if (!r.stdout.includes('{')) throw new Error(`ansible-playbook printed no JSON: ${r.stdout}${r.stderr}`);
  const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as AnsibleJson;
  const tasks = json.plays[0].tasks;
  return {
    statuses: tasks.map(({ hosts }) => {
      const h = hosts.localhost;
      return h.failed ? 'failed' : h.skipped ? 'skipped' : h.changed ? 'changed' : 'ok';
    }),
    results: tasks.map(({ hosts }) => hosts.localhost as Registered),
  };
}

export async function kplayRun(project: string, root: string, ...flags: string[]): Promise<{ statuses: Status[]; results: Registered[]; diffs: number; stderr: string; code: number; msgs: string[] }> {
  const r = await kplay(['run', 'play.yml', '-i', 'inventory.yml', '-e', `root=${root}`, '--output', 'json', ...flags], { cwd: project });
  const results = r.events.filter((e) => e.type === 'result');
  return {
    statuses: results.map((e) => e.status as Status),
    // A binary file's diff says so on both sides ('<binary>').
    diffs: results.filter((e) => (e.diff ?? []).some((d) => d.before !== d.after || d.after === '<binary>')).length,
    msgs: results.map((e) => e.msg ?? ''),
    results: results.map((e) => e.result ?? {}),
    stderr: r.stderr,
    code: r.code,
  };
}

export interface Compared {
  statuses: Status[];
  /** First run's registered results, per task. */
  kplay: Registered[];
  ansible: Registered[];
  /** The folders each ran in. */
  roots: { ansible: string; kplay: string; check: string };
  project: string;
}

/** Run one case through Ansible and kplay and assert they agree. */
export async function compareWithAnsible(t: Test, c: OracleCase): Promise<Compared> {
  const base = t.testdir({});
  const project = join(base, 'project');
  const roots = { ansible: join(base, 'ansible'), kplay: join(base, 'kplay'), check: join(base, 'check') };
  mkdirSync(project);
  for (const root of Object.values(roots)) {
    mkdirSync(root);
    c.setup?.(root);
  }
  for (const [name, content] of Object.entries(c.project ?? {})) {
    mkdirSync(join(project, name, '..'), { recursive: true });
    writeFileSync(join(project, name), content);
  }
  c.projectSetup?.(project);
  writeFileSync(join(project, 'play.yml'), `- hosts: all\n  gather_facts: false\n  tasks:\n${c.tasks}`);
  writeFileSync(join(project, 'inventory.yml'), 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n');

  const fresh = tree(roots.check);
  const check = await kplayRun(project, roots.check, '--check');
  t.equal(tree(roots.check), fresh, '--check wrote nothing');

  const a1 = await ansibleRun(project, roots.ansible);
  const k1 = await kplayRun(project, roots.kplay, '--diff');
  t.same(k1.statuses, a1.statuses, `first run: the same task statuses as Ansible${k1.stderr ? `\n${k1.stderr}` : ''}`);
  t.equal(tree(roots.kplay), tree(roots.ansible), 'first run: the same files as Ansible');
  t.same(check.statuses, k1.statuses, '--check predicted the first run');
  if (c.attrOnly !== -1) t.equal(k1.diffs, k1.statuses.filter((s) => s === 'changed').length - (c.attrOnly ?? 0), '--diff shows every content change');

  const a2 = await ansibleRun(project, roots.ansible);
  const k2 = await kplayRun(project, roots.kplay);
  t.same(k2.statuses, a2.statuses, 'second run: the same task statuses as Ansible');
  t.equal(tree(roots.kplay), tree(roots.ansible), 'second run: the same files as Ansible');
  return { statuses: k1.statuses, kplay: k1.results, ansible: a1.results, roots, project };
}
