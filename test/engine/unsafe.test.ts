// Issue 12 point 1 (and issue 10's unsafe rule), end to end through the CLI: what a host returns is data, never code.
// A file on the host holds Jinja and JavaScript payloads; a command reads it (registered stdout), set_fact keeps it,
// a loop walks its lines, a file lookup reads it, filters round-trip it; every later use prints or writes the text
// literally and no payload runs on the controller. A control task with the same payload in a trusted variable does
// run it, so the test can fail.

import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay } from '../helpers/kplay.ts';

t.test('a registered stdout, a fact, loop items and a file lookup holding {{ }} / {% %} are printed literally', async (t) => {
  const dir = t.testdir({});
  const marker = (name: string): string => join(dir, `ran-${name}`);
  const payload = [
    `{{ lookup('pipe', 'touch ${marker('jinja')}') }}`,
    `{% set x = lookup('pipe', 'touch ${marker('statement')}') %}`,
    `{{ ''.constructor.constructor('return process')().mainModule.require('fs').writeFileSync('${marker('js')}', 'x') }}`,
    `{{ cycler.__init__.__globals__.os.system('touch ${marker('python')}') }}`,
  ].join('\n');
  writeFileSync(join(dir, 'payload.txt'), `${payload}\n`);
  writeFileSync(join(dir, 'inventory.yml'), 'all:\n  hosts:\n    local:\n      ansible_connection: local\n');
  writeFileSync(
    join(dir, 'play.yml'),
    `- hosts: all
  gather_facts: false
  vars:
    trusted: "{{ lookup('pipe', 'touch ${marker('control')}') }}"
  tasks:
    - name: read the host's file
      command: cat {{ playbook_dir }}/payload.txt
      register: out
    - name: keep it as facts
      set_fact:
        note: "{{ out.stdout }}"
        lines: "{{ out.stdout_lines }}"
        wrapped: "{{ {'text': out.stdout} | combine({'n': 1}) }}"
    - name: print the registered stdout
      debug:
        msg: "{{ out.stdout }}"
    - name: print the fact
      debug:
        msg: "{{ note }}"
    - name: show the fact as a variable
      debug:
        var: note
    - name: print it through filters
      debug:
        msg: "{{ (out | to_json | from_json).stdout }} {{ wrapped.text | upper | lower }}"
    - name: each line
      debug:
        msg: "{{ item }}"
      loop: "{{ lines }}"
    - name: a file lookup
      debug:
        msg: "{{ lookup('file', playbook_dir + '/payload.txt') }}"
    - name: write it to a file
      copy:
        content: "{{ note }}"
        dest: "{{ playbook_dir }}/copied.txt"
    - name: used in a condition
      debug:
        msg: condition held
      when: note is search('lookup')
    - name: the control, a trusted variable
      debug:
        msg: "{{ trusted }}"
`,
  );
  const run = await kplay(['run', 'play.yml', '-i', 'inventory.yml', '--output', 'json'], { cwd: dir });
  t.equal(run.code, 0, run.stderr);
  for (const name of ['jinja', 'statement', 'js', 'python']) t.notOk(existsSync(marker(name)), `the ${name} payload did not run on the controller`);
  t.ok(existsSync(marker('control')), 'the same lookup in a trusted variable does run (the test can fail)');
  const messages = run.events.filter((e) => e.type === 'result' && e.task.module === 'debug').map((e) => (e.type === 'result' ? String(e.msg) : ''));
  t.equal(messages[0], payload, 'registered stdout printed literally');
  t.equal(messages[1], payload, 'fact printed literally');
  const shown = run.events.filter((e) => e.type === 'result' && e.task.module === 'debug').map((e) => (e.type === 'result' ? e.result : undefined));
  t.equal(shown[2]?.note, payload, 'debug var shows the text');
  t.equal(messages[3], `${payload} ${payload.toLowerCase()}`, 'through to_json/from_json, combine, upper/lower');
  t.same(messages.slice(4, 8), payload.split('\n'), 'loop items printed literally');
  t.equal(messages[8], payload, 'file lookup printed literally');
  t.equal(messages[9], 'condition held', 'a test on the text works on the text');
  t.equal(readFileSync(join(dir, 'copied.txt'), 'utf8'), payload, 'written to the file as it is');
});
