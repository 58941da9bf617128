// The oracle: runs every probe (expressions, conditions, templates under test/jinja/oracle/) through
// ansible-playbook in ONE run and through kplay's Jinja, and returns both sides' outcomes to compare.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Jinja } from '../../engine/jinja/index.ts';
import { pyToJson } from '../../engine/jinja/serialize.ts';

export const ORACLE_DIR = join(import.meta.dirname, 'oracle');

export type Kind = 'expression' | 'condition' | 'template';

export interface Probe {
  kind: Kind;
  text: string; // the expression or condition, or the template's file name
}

/** One side's outcome: a value as canonical JSON text (Python's json.dumps), or an error. */
export interface Outcome {
  error: boolean;
  value: string;
  message?: string;
}

function lines(file: string): string[] {
  return readFileSync(join(ORACLE_DIR, file), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

export function loadProbes(): Probe[] {
  return [
    ...lines('expressions.txt').map((text) => ({ kind: 'expression' as const, text })),
    ...lines('conditions.txt').map((text) => ({ kind: 'condition' as const, text })),
    ...readdirSync(join(ORACLE_DIR, 'templates')).filter((f) => /^\d\d-.*\.j2$/.test(f)).sort().map((text) => ({ kind: 'template' as const, text })),
  ];
}

/** Copy the oracle folder to a fresh temp dir (both sides read files from there). */
export function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kplay-oracle-'));
  cpSync(ORACLE_DIR, dir, { recursive: true });
  mkdirSync(join(dir, 'out'));
  return dir;
}

const env: Record<string, string | undefined> = { ...process.env };
delete env.KPLAY_ORACLE_UNSET;

/** Every probe through ansible-playbook, in one run. */
export function runAnsible(probes: Probe[], dir: string): Outcome[] {
  const tasks = probes.map((p, i) => {
    if (p.kind === 'expression') return { name: `p${i}`, debug: { msg: `{{ ${p.text} }}` }, ignore_errors: true };
    if (p.kind === 'condition') return { name: `p${i}`, debug: { msg: 'ran' }, when: p.text, ignore_errors: true };
    return { name: `p${i}`, template: { src: join(dir, 'templates', p.text), dest: join(dir, 'out', p.text) }, ignore_errors: true };
  });
  const play = [{ hosts: 'localhost', gather_facts: false, vars_files: [join(dir, 'vars.yml')], tasks }];
  writeFileSync(join(dir, 'playbook.yml'), JSON.stringify(play, null, 1));
  const raw = execFileSync('ansible-playbook', ['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=/usr/bin/python3', join(dir, 'playbook.yml')], {
    cwd: dir,
    env: { ...env, ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_DEPRECATION_WARNINGS: 'false', ANSIBLE_RETRY_FILES_ENABLED: 'false' },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  writeFileSync(join(dir, 'ansible.json'), raw);
  // Python re-dumps each msg so floats keep their `.0` (JSON.parse would lose it).
  const canon = execFileSync('python3', ['-c', `
import json, sys
r = json.load(open(sys.argv[1]))
out = []
for t in r['plays'][0]['tasks']:
    h = t['hosts']['localhost']
    if h.get('failed'):
        out.append({'error': True, 'value': '', 'message': str(h.get('msg', ''))})
    elif 'msg' in h and t['task']['name'] and h.get('skipped') is not True and 'template' not in str(h.get('invocation', {}).get('module_args', {}).get('src', '')) and 'dest' not in h:
        out.append({'error': False, 'value': json.dumps(h['msg'], sort_keys=True)})
    else:
        out.append({'error': False, 'value': json.dumps(not h.get('skipped', False)) if 'dest' not in h else ''})
json.dump(out, sys.stdout)
`, join(dir, 'ansible.json')], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const outcomes = JSON.parse(canon) as Outcome[];
  probes.forEach((p, i) => {
    const o = outcomes[i];
    if (p.kind === 'condition' && !o.error) o.value = o.value === '"ran"' ? 'true' : o.value;
    if (p.kind === 'template' && !o.error) {
      const out = join(dir, 'out', p.text);
      o.value = existsSync(out) ? readFileSync(out, 'utf8') : '<no file>';
    }
  });
  return outcomes;
}

/** Every probe through kplay's Jinja, with the same variables and files. */
export function runKplay(probes: Probe[], dir: string): Outcome[] {
  const jinja = new Jinja();
  const vars = parseYaml(readFileSync(join(dir, 'vars.yml'), 'utf8')) as Record<string, unknown>;
  const scopeOptions = {
    searchPath: (kind: 'files' | 'templates' | 'vars') => [join(dir, kind), dir],
    basedir: dir,
  };
  Object.assign(vars, {
    inventory_hostname: 'localhost',
    groups: { all: ['localhost'], ungrouped: ['localhost'] },
    group_names: ['ungrouped'],
    playbook_dir: dir,
  });
  const scope = jinja.createScope(vars, scopeOptions);
  // Play vars are not host vars: hostvars holds the inventory's and magic variables only.
  const hostScope = jinja.createScope({ inventory_hostname: 'localhost', group_names: ['ungrouped'] });
  vars.hostvars = { localhost: hostScope.varsView() };
  return probes.map((p) => {
    try {
      if (p.kind === 'expression') {
        const v = jinja.renderValue(`{{ ${p.text} }}`, scope);
        return { error: false, value: pyToJson(v, { indent: null, sortKeys: true, ensureAscii: true }) };
      }
      if (p.kind === 'condition') return { error: false, value: String(jinja.condition(p.text, scope)) };
      const file = join(dir, 'templates', p.text);
      jinja.checkTemplate(readFileSync(file, 'utf8'), file);
      return { error: false, value: jinja.renderTemplate(readFileSync(file, 'utf8'), file, scope) };
    } catch (error) {
      return { error: true, value: '', message: (error as Error).message };
    }
  });
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
