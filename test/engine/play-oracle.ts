// Ansible as the oracle for the runner's own features (loops, keywords): the same playbook on localhost through
// `ansible-playbook -c local` (json callback) and through kplay (--output json); what each task did per host, loop
// item by loop item (status, msg, label), in a shape both give, plus the recap counts.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay } from '../helpers/kplay.ts';
import { runProcess, type ProcessResult } from '../helpers/process.ts';

export interface Seen {
  /** Per task (in order, by name): its status, and each loop item's [status, msg, label]. */
  tasks: { name: string; status: string; msg?: unknown; items?: [string, unknown, unknown][] }[];
  recap: Record<string, number>;
  code: number;
  out: string;
}

const ANSIBLE_ENV = {
  ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0', ANSIBLE_LOCALHOST_WARNING: '0',
  ANSIBLE_INVENTORY_UNPARSED_WARNING: '0', ANSIBLE_DEPRECATION_WARNINGS: '0',
};

const run = (cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<ProcessResult> => runProcess(cmd, args, { cwd, env });

function statusOf(r: Record<string, unknown>): string {
  return r.failed ? 'failed' : r.skipped ? 'skipped' : r.changed ? 'changed' : 'ok';
}

type AnsibleResult = Record<string, unknown> & { results?: Record<string, unknown>[] };
interface AnsibleJson {
  plays: { tasks: { task: { name: string }; hosts: Record<string, AnsibleResult> }[] }[];
  stats: Record<string, Record<string, number>>;
}

const RECAP_KEYS = ['ok', 'changed', 'failed', 'skipped', 'rescued', 'ignored'];

export async function ansibleSees(dir: string, host = 'localhost', extra: string[] = []): Promise<Seen> {
  const r = await run('ansible-playbook', ['-i', 'inventory.ini', 'play.yml', ...extra], dir, ANSIBLE_ENV);
  const start = r.stdout.indexOf('{');
  if (start < 0) return { tasks: [], recap: {}, code: r.code, out: r.stdout + r.stderr };
  const json = JSON.parse(r.stdout.slice(start)) as AnsibleJson;
  const tasks = json.plays.flatMap((p) => p.tasks).filter((t) => t.hosts[host]).map(({ task, hosts }) => {
    const h = hosts[host];
    return {
      name: task.name,
      status: statusOf(h),
      ...(h.results ? { items: h.results.map((i) => [statusOf(i), i.msg, i._ansible_item_label ?? i.item] as [string, unknown, unknown]) } : { msg: h.msg }),
    };
  });
  const stats = json.stats[host] ?? {};
  return { tasks, recap: Object.fromEntries(RECAP_KEYS.map((k) => [k, stats[k] ?? 0])), code: r.code, out: r.stderr };
}

export async function kplaySees(dir: string, host = 'localhost', extra: string[] = []): Promise<Seen> {
  const r = await kplay(['run', 'play.yml', '-i', 'inventory.ini', '--output', 'json', ...extra], { cwd: dir });
  const tasks: Seen['tasks'] = [];
  for (const e of r.events) {
    if (e.type !== 'result' || e.host !== host) continue;
    const last = tasks[tasks.length - 1];
    const result = (e.result ?? {}) as Record<string, unknown>;
    if ('item' in e) {
      const entry: [string, unknown, unknown] = [e.status, result.msg, e.item];
      if (last && last.name === e.task.name && last.items) last.items.push(entry);
      else tasks.push({ name: e.task.name, status: '', items: [entry] });
    } else if (Array.isArray(result.results)) tasks.push({ name: e.task.name, status: e.status, items: [] });
    else tasks.push({ name: e.task.name, status: e.status, msg: result.msg });
  }
  // A loop's status is its worst item's (as the recap counts it).
  const order = ['skipped', 'ok', 'changed', 'failed'];
  for (const t of tasks) {
    if (t.items && !t.status) {
      const all = t.items.map(([s]) => s);
      t.status = all.every((s) => s === 'skipped') ? 'skipped' : all.filter((s) => s !== 'skipped').reduce((a, b) => (order.indexOf(b) > order.indexOf(a) ? b : a), 'ok');
    }
  }
  const counts = (r.recap?.[host] ?? {}) as Record<string, number>;
  return { tasks, recap: Object.fromEntries(RECAP_KEYS.map((k) => [k, counts[k] ?? 0])), code: r.code, out: r.stderr };
}

/** A project folder for a localhost playbook: the play, a local inventory, and any extra files. */
export function writeProject(dir: string, play: string, files: Record<string, string> = {}): void {
  writeFileSync(join(dir, 'play.yml'), play);
  writeFileSync(join(dir, 'inventory.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}
