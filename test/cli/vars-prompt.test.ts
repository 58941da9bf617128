// Issue 11: vars_prompt through a real pseudo-terminal (util-linux `script`), for kplay and for ansible-playbook:
// the same answers typed at the same prompts give the same variables (files written from them compared byte for
// byte, an encrypt: sha512_crypt hash with a fixed salt included); a private answer is never echoed, a shown one is;
// an empty answer takes the default; confirm asks twice. An -e value skips the question; with no terminal and no
// -e value kplay stops at the prompt's file:line:col before any host is touched.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { kplay, KPLAY } from '../helpers/kplay.ts';

const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/** Run a command in a pty; each time the output ends with a prompt of `answers`, type its answer. */
function inPty(command: string[], cwd: string, answers: [RegExp, string][]): Promise<{ output: string; code: number }> {
  const line = `unset NODE_OPTIONS; ${command.map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, TERM: 'dumb', ANSIBLE_NOCOLOR: '1', NO_COLOR: '1' };
    delete env.CI;
    const child = spawn('script', ['-qfec', line, '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let next = 0;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (next < answers.length && answers[next][0].test(output.slice(-200))) {
        const answer = answers[next++][1];
        setTimeout(() => child.stdin.write(`${answer}\r`), 100);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => resolve({ output, code: code ?? 1 }));
  });
}

const PLAY = `- hosts: all
  gather_facts: false
  vars_prompt:
    - name: secret
      prompt: Secret word
    - name: shown
      prompt: Your name
      private: false
    - name: with_default
      prompt: Port
      default: "8080"
      private: false
    - name: twice
      prompt: New password
      confirm: true
    - name: hashed
      prompt: Hash me
      encrypt: sha512_crypt
      salt: abcdefgh12345678
    - name: given
      prompt: Never asked
  tasks:
    - copy:
        dest: "{{ out }}/answers"
        content: |
          secret={{ secret }}
          shown={{ shown }}
          default={{ with_default }}
          twice={{ twice }}
          hashed={{ hashed }}
          given={{ given }}
`;

const ANSWERS: [RegExp, string][] = [
  [/Secret word: $/, 'hunter2-sekrit'],
  [/Your name: $/, 'visible-name'],
  [/Port \[8080\]: $/, ''],
  [/New password: $/, 'pw-one'],
  [/confirm New password: $/, 'pw-one'],
  [/Hash me: $/, 'to-hash'],
];

t.test('the same answers at the same prompts give the same variables as Ansible', async (t) => {
  const dir = t.testdir({ a: {}, k: {} });
  writeFileSync(join(dir, 'play.yml'), PLAY);
  writeFileSync(join(dir, 'inventory.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
  const extra = (out: string): string[] => ['-e', `out=${out}`, '-e', 'given=from-e'];
  const [a, k] = await Promise.all([
    inPty(['ansible-playbook', '-i', 'inventory.ini', 'play.yml', ...extra(join(dir, 'a'))], dir, ANSWERS),
    inPty([process.execPath, KPLAY, 'run', 'play.yml', '-i', 'inventory.ini', ...extra(join(dir, 'k'))], dir, ANSWERS),
  ]);
  t.equal(a.code, 0, `ansible-playbook: ${a.output}`);
  t.equal(k.code, 0, `kplay: ${k.output}`);
  const answers = readFileSync(join(dir, 'k/answers'), 'utf8');
  t.equal(answers, readFileSync(join(dir, 'a/answers'), 'utf8'), 'the same variables');
  t.match(answers, /^secret=hunter2-sekrit\nshown=visible-name\ndefault=8080\ntwice=pw-one\nhashed=\$6\$abcdefgh12345678\$\S+\ngiven=from-e\n$/, 'every answer (the test can fail)');
  t.notMatch(k.output, /hunter2-sekrit|pw-one|to-hash/, 'private answers are not echoed');
  t.match(k.output, /visible-name/, 'a private: false answer is echoed');
  t.notMatch(k.output, /Never asked/, 'an -e value skips its question');
});

t.test('no terminal and no -e value: an error at the prompt before any host is touched', async (t) => {
  const dir = t.testdir({});
  writeFileSync(join(dir, 'play.yml'), `- hosts: all
  gather_facts: false
  tasks:
    - copy: content=x dest={{ playbook_dir }}/first
- hosts: all
  gather_facts: false
  vars_prompt:
    - name: token
      prompt: Token
  tasks:
    - debug: var=token
    - copy: content={{ token }} dest={{ playbook_dir }}/token
`);
  writeFileSync(join(dir, 'inventory.ini'), 'localhost ansible_connection=local\n');
  const r = await kplay(['run', 'play.yml', '-i', 'inventory.ini'], { cwd: dir });
  t.equal(r.code, 1, 'exit 1');
  t.match(r.stderr, /^play\.yml:8:7: vars_prompt "token" needs a terminal to ask on \(stdin is not one\): give it with -e token=\.\.\./);
  t.equal(existsSync(join(dir, 'first')), false, 'not even the first play ran');
  const given = await kplay(['run', 'play.yml', '-i', 'inventory.ini', '-e', 'token=abc', '--output', 'json'], { cwd: dir });
  t.equal(given.code, 0, given.stderr);
  t.equal(readFileSync(join(dir, 'token'), 'utf8'), 'abc', 'the -e value is the variable');
  t.notOk(given.stdout.includes('abc'), 'a prompted (private) value is masked in the output');
});
