// fetch and slurp against Ansible 2.14 (the fetched tree and slurp's content must be the same), and tempfile through
// the CLI: a new file or folder each run, named prefix + random + suffix, nothing made in --check.

import t from 'tap';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareWithAnsible, kplayRun } from './oracle.ts';

t.test('fetch and slurp agree with Ansible', async (t) => {
  const shared = mkdtempSync(join(tmpdir(), 'kplay-fetch-'));
  t.teardown(() => rmSync(shared, { recursive: true, force: true }));
  writeFileSync(join(shared, 'src.txt'), 'fetch me\n');
  writeFileSync(join(shared, 'bin.dat'), Buffer.from([0, 1, 2, 255, 254, 10]));
  chmodSync(join(shared, 'bin.dat'), 0o600);
  const { kplay: k, ansible: a, statuses } = await compareWithAnsible(t, {
    tasks: `
    - name: host/path layout
      fetch: { src: "${shared}/src.txt", dest: "{{ root }}/fetched" }
    - name: flat into a folder
      fetch: { src: "${shared}/bin.dat", dest: "{{ root }}/flat/", flat: true }
    - name: flat to a file name
      fetch: { src: "${shared}/src.txt", dest: "{{ root }}/flat/renamed.txt", flat: true }
    - name: missing, not failing
      fetch: { src: "${shared}/none", dest: "{{ root }}/fetched", fail_on_missing: false }
    - name: missing
      fetch: { src: "${shared}/none", dest: "{{ root }}/fetched" }
      ignore_errors: true
    - name: slurp
      slurp: { src: "${shared}/bin.dat" }
    - name: slurp a folder
      slurp: { src: "${shared}" }
      ignore_errors: true
`,
    attrOnly: -1,
  });
  t.same(statuses, ['changed', 'changed', 'changed', 'ok', 'failed', 'ok', 'failed']);
  t.equal(k[5].content, a[5].content, 'slurp: the same base64 content');
  t.equal(Buffer.from(String(k[5].content), 'base64').toString('hex'), '000102fffe0a');
  t.equal(k[5].encoding, 'base64');
  t.equal(k[6].msg, a[6].msg, 'slurp of a folder: the same message');
});

t.test('tempfile makes a new file or folder each run, nothing in --check', async (t) => {
  const base = t.testdir({ project: {}, tmp: {} });
  const tmp = join(base, 'tmp');
  writeFileSync(join(base, 'project/play.yml'), `- hosts: all
  gather_facts: false
  tasks:
    - tempfile: { path: "{{ root }}", suffix: .conf }
      register: f
    - tempfile: { path: "{{ root }}", state: directory, prefix: build- }
      register: d
    - copy: { content: "{{ f.path }}", dest: "{{ d.path }}/which" }
`);
  writeFileSync(join(base, 'project/inventory.yml'), 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n');
  const project = join(base, 'project');
  const check = await kplayRun(project, tmp, '--check');
  t.same(check.statuses, ['changed', 'changed', 'changed'], check.stderr);
  t.same(readdirSync(tmp), [], '--check made nothing');
  const first = await kplayRun(project, tmp);
  t.same(first.statuses, ['changed', 'changed', 'changed'], first.stderr);
  const names = readdirSync(tmp).sort();
  t.equal(names.length, 2);
  const file = names.find((n) => n.endsWith('.conf'))!;
  const dir = names.find((n) => n.startsWith('build-'))!;
  t.match(file, /^ansible\.[A-Za-z0-9]{8}\.conf$/);
  t.match(dir, /^build-[A-Za-z0-9]{8}$/);
  t.equal(statSync(join(tmp, file)).mode & 0o7777, 0o600);
  t.equal(statSync(join(tmp, dir)).mode & 0o7777, 0o700);
  t.ok(existsSync(join(tmp, dir, 'which')), 'a later task used the registered path');
  await kplayRun(project, tmp);
  t.equal(readdirSync(tmp).length, 4, 'a second run makes new ones');
});
