// A no_log task's arguments are secrets in everything a run reports, except those that cannot hold one: its mode,
// paths, booleans and choices. Masking those hid every later `0600` (other files' modes, command timings) and its
// paths for the rest of the run.

import t from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { kplay } from '../helpers/kplay.ts';

const PLAYBOOK = `- hosts: localhost
  gather_facts: false
  tasks:
    - name: the folder
      file:
        path: "{{ out }}"
        state: directory
    - name: the key
      copy:
        content: "key-material-s3cr3t\\n"
        dest: "{{ out }}/key.pem"
        mode: "0600"
        force: true
      no_log: true
    - name: another file, also 0600
      copy:
        content: "public\\n"
        dest: "{{ out }}/other.txt"
        mode: "0600"
    - name: what the run shows afterwards
      debug:
        msg: "{{ out }}/key.pem has mode 0600; the key is key-material-s3cr3t"
`;

t.test("a no_log task's mode and paths stay readable elsewhere; its content does not", async (t) => {
  const dir = t.testdir({ 'site.yml': PLAYBOOK });
  const out = join(dir, 'out');
  const run = await kplay(['run', 'site.yml', '-e', `out=${out}`, '--output', 'json'], { cwd: dir });
  t.equal(run.code, 0, run.stderr);
  t.equal(readFileSync(join(out, 'key.pem'), 'utf8'), 'key-material-s3cr3t\n', 'the key was written');
  t.equal(statSync(join(out, 'key.pem')).mode & 0o777, 0o600);

  t.notMatch(run.stdout, 'key-material-s3cr3t', 'the no_log content never reaches the output');
  const censored = run.events.find((e) => e.type === 'result' && e.task.name === 'the key');
  t.match(censored, { censored: true, msg: 'the output has been hidden due to no_log: true' });

  const other = run.events.find((e) => e.type === 'result' && e.task.name === 'another file, also 0600');
  t.match(other, { status: 'changed', result: { mode: '0600', dest: join(out, 'other.txt') } }, "another file's mode shows");
  const shown = run.events.find((e) => e.type === 'result' && e.task.name === 'what the run shows afterwards');
  t.match(shown, { result: { msg: `${out}/key.pem has mode 0600; the key is ********` } }, 'path and mode readable, the secret masked');
});
