// The input bounds (README, "Input limits") leave real input alone: a big inventory that shares its defaults through
// merge keys (30,000 aliased values, past the 10,000 floor, within the file's length), 400 levels of nesting (which
// Ansible reads too), a playbook that starts with a UTF-8 byte-order mark (PyYAML drops it).

import t from 'tap';
import { kplay } from '../helpers/kplay.ts';

const HOSTS = 3000;

t.test('a 3000-host inventory sharing its defaults through merge keys', async (t) => {
  const keys = Array.from({ length: 10 }, (_, i) => `    k${i}: v${i}`).join('\n');
  const hosts = Array.from({ length: HOSTS }, (_, i) => `    h${i}:\n      <<: *defaults\n      n: ${i}`).join('\n');
  const cwd = t.testdir({
    'inventory.yml': `all:\n  vars:\n    defaults: &defaults\n${keys.replace(/^/gm, '  ')}\n      ansible_connection: local\n  hosts:\n${hosts}\n`,
    'play.yml': '- hosts: h2999\n  gather_facts: false\n  tasks:\n    - debug: msg="{{ k9 }} {{ n }}"\n',
  });
  const r = await kplay(['run', 'play.yml', '-i', 'inventory.yml', '--output', 'json'], { cwd });
  t.equal(r.code, 0, r.stderr);
  const result = r.events.find((e) => e.type === 'result') as { msg?: string } | undefined;
  t.equal(result?.msg, 'v9 2999', "the last host has the shared defaults and its own value");
});

t.test('400 levels of nesting are read', async (t) => {
  const cwd = t.testdir({
    'inventory.yml': 'all:\n  hosts:\n    local:\n      ansible_connection: local\n',
    'play.yml': `- hosts: all\n  gather_facts: false\n  vars:\n    x: ${'['.repeat(400)}1${']'.repeat(400)}\n  tasks:\n    - debug: msg="{{ x | flatten | first }}"\n`,
  });
  const r = await kplay(['run', 'play.yml', '-i', 'inventory.yml', '--output', 'json'], { cwd });
  t.equal(r.code, 0, r.stderr);
  const result = r.events.find((e) => e.type === 'result') as { msg?: string } | undefined;
  t.equal(String(result?.msg), '1');
});

t.test('a UTF-8 byte-order mark at the start is dropped', async (t) => {
  const cwd = t.testdir({
    'inventory.yml': '\uFEFFall:\n  hosts:\n    local:\n      ansible_connection: local\n',
    'play.yml': '\uFEFF- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n',
  });
  const r = await kplay(['run', 'play.yml', '-i', 'inventory.yml', '--output', 'json'], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.same(r.recap, { local: { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: 0, rescued: 0, ignored: 0 } });
});
