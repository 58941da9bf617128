// ansible_play_batch / play_hosts (the batch), ansible_play_hosts (the whole play) and ansible_play_hosts_all, with
// serial and a host failing in the first batch: each host's view, as ansible-playbook prints it (three inventory
// hosts on the local connection).

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay } from '../helpers/kplay.ts';

const PLAY = `
- hosts: all
  gather_facts: false
  serial: 2
  tasks:
    - fail: {msg: down}
      when: inventory_hostname == 'h2'
    - debug: {msg: "{{ inventory_hostname }} batch={{ ansible_play_batch }} old={{ play_hosts }} hosts={{ ansible_play_hosts }} all={{ ansible_play_hosts_all }}"}
`;

t.test('play host lists with serial and a failed host, as ansible-playbook', async (t) => {
  const dir = t.testdir({ 'play.yml': PLAY });
  writeFileSync(join(dir, 'inventory.ini'), ['h1', 'h2', 'h3'].map((h) => `${h} ansible_connection=local ansible_python_interpreter=/usr/bin/python3`).join('\n') + '\n');
  const messages = (text: string): string[] => (text.match(/^ {4}"msg": "h.*$/gm) ?? []).sort();
  const env = { ...process.env, ANSIBLE_NOCOLOR: '1' };
  const ansible = spawnSync('ansible-playbook', ['-i', 'inventory.ini', 'play.yml'], { cwd: dir, env, encoding: 'utf8' });
  const k = await kplay(['run', 'play.yml', '-i', 'inventory.ini'], { cwd: dir, env: { NO_COLOR: '1' } });
  t.equal(k.code, ansible.status, 'same exit code');
  t.same(messages(k.stdout), messages(ansible.stdout), k.stderr);
  t.same(messages(ansible.stdout), [
    `    "msg": "h1 batch=['h1'] old=['h1'] hosts=['h1', 'h3'] all=['h1', 'h2', 'h3']"`,
    `    "msg": "h3 batch=['h3'] old=['h3'] hosts=['h1', 'h3'] all=['h1', 'h2', 'h3']"`,
  ], 'the oracle: the batch and the play, without the failed host');
});
