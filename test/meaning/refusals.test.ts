// Input Ansible refuses and kplay used to accept (issue 12, point 5), each run through ansible-playbook 2.14 and
// kplay side by side: a role dependency cycle and a role depending on itself, a playbook with bytes that are not
// UTF-8 or with a NUL, `=` in a condition. Ansible stops (at load, or for `=` when the task runs); kplay stops at
// load with file:line:col, exit 1, before any host is touched. And the task `timeout:` on a local pipeline ends the
// whole pipeline, as Ansible's does.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { KPLAY } from '../helpers/kplay.ts';

const HEAD = '- hosts: all\n  gather_facts: false\n';
const MARKER = '    - copy: content=x dest={{ playbook_dir }}/written\n';
const INVENTORY = 'all:\n  hosts:\n    local:\n      ansible_connection: local\n';

interface Outcome {
  code: number | null;
  out: string;
}

/** Run a command to its end, or kill it after `limitMs` (code null): a run that hangs fails the test. */
function run(cmd: string, args: string[], cwd: string, limitMs = 60_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', CI: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0', ANSIBLE_LOCALHOST_WARNING: '0' },
      timeout: limitMs,
      killSignal: 'SIGKILL',
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const ansible = (cwd: string, limitMs?: number): Promise<Outcome> => run('ansible-playbook', ['-i', 'localhost,', '-c', 'local', 'play.yml'], cwd, limitMs);
const kplayRun = (cwd: string, limitMs?: number): Promise<Outcome> => run(process.execPath, [KPLAY, 'run', 'play.yml', '-i', 'inventory.yml'], cwd, limitMs);

interface Refusal {
  files: Record<string, string | Buffer>;
  /** What Ansible's output says. */
  ansible: RegExp;
  /** kplay's first line. */
  kplay: string;
}

const refusals: Record<string, Refusal> = {
  'a role dependency cycle': {
    files: {
      'play.yml': `${HEAD}  pre_tasks:\n${MARKER}  roles: [web]\n`,
      'roles/web/meta/main.yml': 'dependencies: [base]\n',
      'roles/web/tasks/main.yml': '- debug: msg=web\n',
      'roles/base/meta/main.yml': 'dependencies: [web]\n',
      'roles/base/tasks/main.yml': '- debug: msg=base\n',
    },
    ansible: /A recursion loop was detected with the roles specified/,
    kplay: 'roles/base/meta/main.yml:1:16: role dependency cycle: web -> base -> web',
  },
  'a role that depends on itself': {
    files: {
      'play.yml': `${HEAD}  pre_tasks:\n${MARKER}  roles: [app]\n`,
      'roles/app/meta/main.yml': 'dependencies: [app]\n',
      'roles/app/tasks/main.yml': '- debug: msg=app\n',
    },
    ansible: /A recursion loop was detected with the roles specified/,
    kplay: 'roles/app/meta/main.yml:1:16: role "app" depends on itself',
  },
  'a playbook in Latin-1': {
    files: { 'play.yml': Buffer.concat([Buffer.from(`${HEAD}  tasks:\n${MARKER}    - debug: msg="caf`), Buffer.of(0xe9), Buffer.from('"\n')]) },
    ansible: /ERROR!/,
    kplay: 'play.yml:5:22: a byte that is not UTF-8 (0xE9); YAML files must be UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)',
  },
  'a NUL in a playbook': {
    files: { 'play.yml': Buffer.concat([Buffer.from(`${HEAD}  tasks:\n${MARKER}    - debug: msg="a`), Buffer.of(0), Buffer.from('b"\n')]) },
    ansible: /control characters are not allowed/,
    kplay: 'play.yml:5:20: a NUL byte is not allowed in YAML (is this a binary file?)',
  },
  '= in a condition': {
    files: { 'play.yml': `${HEAD}  vars: { a: x }\n  tasks:\n${MARKER}    - debug: msg=hi\n      when: a = 'b'\n` },
    ansible: /The conditional check 'a = 'b'' failed/,
    kplay: `play.yml:7:15: '=' assigns; compare with '==' in expression "a = 'b'"`,
  },
};

for (const [name, c] of Object.entries(refusals)) {
  t.test(name, async (t) => {
    const files: Record<string, string> = { 'inventory.yml': INVENTORY };
    const cwd = t.testdir(files);
    for (const [path, content] of Object.entries(c.files)) {
      spawnSync('mkdir', ['-p', join(cwd, path, '..')]);
      writeFileSync(join(cwd, path), content);
    }
    const a = await ansible(cwd);
    t.not(a.code, 0, 'Ansible fails');
    t.match(a.out, c.ansible, "Ansible's reason");
    // A condition is evaluated when its task runs: Ansible writes the marker first. Every other refusal is at load.
    t.equal(existsSync(join(cwd, 'written')), name === '= in a condition', 'Ansible wrote the marker only when it refused at run time');
    spawnSync('rm', ['-f', join(cwd, 'written')]);
    const k = await kplayRun(cwd);
    t.equal(k.code, 1, 'kplay: exit 1');
    t.equal(k.out.split('\n')[0], c.kplay, 'kplay: file:line:col and why');
    t.notOk(existsSync(join(cwd, 'written')), 'kplay touched no host');
  });
}

t.test('a local timeout ends the whole pipeline, as Ansible does', async (t) => {
  // A sleep no other run of any test starts (its own fraction), so pgrep below finds only this one's.
  const sleep = `sleep 25.${process.pid}`;
  const cmd = `${sleep} | cat`;
  const cwd = t.testdir({ 'inventory.yml': INVENTORY, 'play.yml': `${HEAD}  tasks:\n    - shell: ${cmd}\n      timeout: 2\n` });
  const left = (): string => spawnSync('pgrep', ['-f', sleep], { encoding: 'utf8' }).stdout.trim();
  // Killed after 15 s (code null) if the task waits for the sleep: before the fix it returned after 25 s.
  const k = await kplayRun(cwd, 15_000);
  t.equal(k.code, 2, 'kplay: the task failed (exit 2), before the sleep would have ended');
  t.match(k.out, 'the task did not finish within its timeout (2 s) and was ended');
  t.equal(left(), '', 'no sleep is left running');
  const a = await ansible(cwd);
  t.equal(a.code, 2, 'Ansible: the task failed (exit 2) as well');
  t.match(a.out, 'failed to execute in the expected time frame (2) and was terminated');
  // Ansible's own worker may still be ending its sleep when ansible-playbook exits: not asserted, only cleaned up.
  spawnSync('pkill', ['-f', sleep]);
});
