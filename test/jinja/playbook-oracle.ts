// Ansible as the oracle for whole playbooks: the same project runs through `ansible-playbook -i localhost, -c local`
// and through kplay (local connection); each side's per-task (per-item) status and debug tasks' `msg` come back as
// canonical JSON text (Python's json.dumps, so 2 and 2.0 stay apart) to compare.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Test } from 'tap';
import { kplay } from '../helpers/kplay.ts';

export interface Step {
  status: 'ok' | 'changed' | 'failed' | 'skipped';
  /** json.dumps of a debug task's (or item's) msg, sort_keys; '' when failed, skipped or absent. */
  msg: string;
}

const ANSIBLE_ENV = {
  ANSIBLE_STDOUT_CALLBACK: 'json',
  ANSIBLE_NOCOLOR: '1',
  ANSIBLE_RETRY_FILES_ENABLED: '0',
  ANSIBLE_LOCALHOST_WARNING: '0',
  ANSIBLE_INVENTORY_UNPARSED_WARNING: '0',
  ANSIBLE_DEPRECATION_WARNINGS: '0',
  ANSIBLE_SYSTEM_WARNINGS: '0',
};

/** Python reads both sides' JSON: each result (a loop's items one by one) as a status and its msg re-dumped. */
const CANON = `
import json, sys
def status(h):
    return 'failed' if h.get('failed') else 'skipped' if h.get('skipped') else 'changed' if h.get('changed') else 'ok'
def step(h, debug):
    s = status(h)
    return {'status': s, 'msg': json.dumps(h['msg'], sort_keys=True) if debug and 'msg' in h and s not in ('failed', 'skipped') else ''}
out = []
if sys.argv[1] == 'ansible':
    data = json.load(sys.stdin)
    for play in data['plays']:
        for t in play['tasks']:
            h = t['hosts'].get('localhost')
            # include_* report a result of their own in Ansible, none in kplay
            if h is None or 'include_args' in h or 'include' in h:
                continue
            debug = h.get('action') in ('debug', 'ansible.builtin.debug')
            if isinstance(h.get('results'), list) and h['results']:
                out.extend(step(r, debug) for r in h['results'])
            else:
                out.append(step(h, debug))
else:
    for line in sys.stdin:
        line = line.strip()
        if not line.startswith('{'):
            continue
        e = json.loads(line)
        if e.get('type') != 'result' or e.get('host') != 'localhost':
            continue
        st = e['status']
        r = e.get('result') or {}
        debug = e.get('task', {}).get('module') == 'debug'
        out.append({'status': st, 'msg': json.dumps(r['msg'], sort_keys=True) if debug and 'msg' in r and st not in ('failed', 'skipped') else ''})
json.dump(out, sys.stdout)
`;

function canon(side: 'ansible' | 'kplay', text: string): Step[] {
  return JSON.parse(execFileSync('python3', ['-c', CANON, side], { input: text, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as Step[];
}

/** Write `files` (paths relative to the project) under a fresh folder; returns the project folder. */
export function project(t: Test, files: Record<string, string>): string {
  const dir = join(t.testdir({}), 'project');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  writeFileSync(join(dir, 'inventory.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
  return dir;
}

export function ansibleSteps(dir: string, playbook = 'play.yml', extra: string[] = []): Step[] {
  const r = spawnSync('ansible-playbook', ['-i', 'inventory.ini', playbook, ...extra], { cwd: dir, env: { ...process.env, ...ANSIBLE_ENV }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const start = r.stdout.indexOf('{');
  if (start < 0) throw new Error(`ansible-playbook printed no JSON: ${r.stdout}${r.stderr}`);
  return canon('ansible', r.stdout.slice(start));
}

export async function kplaySteps(dir: string, playbook = 'play.yml', extra: string[] = []): Promise<{ steps: Step[]; stderr: string; code: number }> {
  const r = await kplay(['run', playbook, '-i', 'inventory.ini', '--output', 'json', ...extra], { cwd: dir });
  return { steps: canon('kplay', r.stdout), stderr: r.stderr, code: r.code };
}

/**
 * As sameAsAnsible, each tool given a folder of its own as `root` (`-e root=...`, under the project: `a` and `k`) for
 * the files its tasks write; returns Ansible's steps and the two folders.
 */
export async function sameAsAnsibleInRoots(t: Test, dir: string, playbook = 'play.yml'): Promise<{ steps: Step[]; roots: { ansible: string; kplay: string } }> {
  const roots = { ansible: join(dir, 'a'), kplay: join(dir, 'k') };
  for (const r of Object.values(roots)) mkdirSync(r);
  const steps = ansibleSteps(dir, playbook, ['-e', `root=${roots.ansible}`]);
  const k = await kplaySteps(dir, playbook, ['-e', `root=${roots.kplay}`]);
  t.same(k.steps, steps, `statuses and messages agree${k.stderr ? `\n${k.stderr}` : ''}`);
  return { steps, roots };
}

/** Run the project through both and assert every status and msg agrees; returns Ansible's steps. */
export async function sameAsAnsible(t: Test, dir: string, playbook = 'play.yml', extra: string[] = []): Promise<Step[]> {
  const ansible = ansibleSteps(dir, playbook, extra);
  const k = await kplaySteps(dir, playbook, extra);
  t.ok(ansible.length > 0, 'ansible-playbook ran tasks');
  t.same(k.steps, ansible, `${playbook}: kplay's statuses and messages are ansible-playbook's${k.stderr ? `\n${k.stderr}` : ''}`);
  return ansible;
}
