// Issue 12 item 4: `.kplay/last-run.json` is one record per playbook, written atomically, read defensively; a state
// folder that cannot be written is a warning and the run keeps its own exit code; a `--limit` or `hosts:` that matches
// nothing is an error (exit 1) before anything runs; `hosts:` is templated from the play's vars and -e, as Ansible does
// (Ansible itself is the oracle for that part).

import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { KPLAY, kplay } from '../helpers/kplay.ts';

const INVENTORY = 'all:\n  hosts:\n    h1: {ansible_connection: local}\n    h2: {ansible_connection: local}\n    h3: {ansible_connection: local}\n  children:\n    web: {hosts: {h1: {}, h2: {}}}\n    empty: {hosts: {}}\n';
// Fails on the hosts listed in -e bad (a comma-separated list), fine elsewhere.
const FAILING = '- hosts: all\n  gather_facts: false\n  tasks:\n    - fail: msg=broken\n      when: inventory_hostname in (bad | default("")).split(",")\n';
const FINE = '- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=fine\n';

const state = (cwd: string) => JSON.parse(readFileSync(join(cwd, '.kplay/last-run.json'), 'utf8')) as { version: number; runs: Record<string, { failed: string[] }> };
const ran = (stdout: string) => [...stdout.matchAll(/^(h\d)\s+: ok=/gm)].map((m) => m[1]);

t.test('one record per playbook: another playbook\'s run does not empty @failed', async (t) => {
  const cwd = t.testdir({ 'inv.yml': INVENTORY, 'a.yml': FAILING, 'b.yml': FINE });
  const a = await kplay(['run', 'a.yml', '-i', 'inv.yml', '-e', 'bad=h2'], { cwd });
  t.equal(a.code, 2);
  const b = await kplay(['run', 'b.yml', '-i', 'inv.yml'], { cwd });
  t.equal(b.code, 0);
  const runs = state(cwd).runs;
  t.same(runs[join(cwd, 'a.yml')].failed, ['h2']);
  t.same(runs[join(cwd, 'b.yml')].failed, []);
  t.same(readdirSync(join(cwd, '.kplay')), ['last-run.json'], 'no temp file left beside it');
  const rerun = await kplay(['run', 'a.yml', '-i', 'inv.yml', '--limit', '@failed'], { cwd });
  t.equal(rerun.code, 0);
  t.same(ran(rerun.stdout), ['h2'], '@failed of a.yml is still h2 after b.yml ran');
  const nothing = await kplay(['run', 'a.yml', '-i', 'inv.yml', '--limit', '@failed'], { cwd });
  t.equal(nothing.code, 1, 'nothing failed last time: nothing to rerun is an error, not an empty success');
  t.match(nothing.stderr, /--limit @failed: no host failed in the last run of .*a\.yml: nothing to rerun/);
  const never = await kplay(['run', 'b.yml', '-i', 'inv.yml', '--limit', '@failed', '--check'], { cwd });
  t.equal(never.code, 1);
  const other = await kplay(['run', 'FINE.yml', '-i', 'inv.yml', '--limit', '@failed'], { cwd: t.testdir({ 'FINE.yml': FINE, 'inv.yml': INVENTORY }) });
  t.equal(other.code, 1);
  t.match(other.stderr, /no earlier run of .*FINE\.yml recorded in \.kplay\/last-run\.json/);
});

t.test('a truncated or damaged file: a warning when recording, a clear error for @failed, never a stack trace', async (t) => {
  const cwd = t.testdir({ 'inv.yml': INVENTORY, 'a.yml': FAILING, '.kplay': { 'last-run.json': '{"version": 1, "runs": {"x' } });
  const limited = await kplay(['run', 'a.yml', '-i', 'inv.yml', '--limit', '@failed'], { cwd });
  t.equal(limited.code, 1);
  t.match(limited.stderr, /^kplay: --limit @failed: \.kplay\/last-run\.json is damaged \(.+\): run without @failed once to record a new run\n$/);
  const run = await kplay(['run', 'a.yml', '-i', 'inv.yml', '-e', 'bad=h3'], { cwd });
  t.equal(run.code, 2, 'the run keeps its own exit code');
  t.match(run.stderr, /\[WARNING\]: \.kplay\/last-run\.json is damaged .*: replaced by a new one holding only this run/);
  t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
  t.same(state(cwd).runs[join(cwd, 'a.yml')].failed, ['h3']);
  for (const damaged of ['', '[1, 2]', '{"version": 1, "runs": {"a": {"failed": "h1"}}}', '\u0000\u0000']) {
    writeFileSync(join(cwd, '.kplay/last-run.json'), damaged);
    const r = await kplay(['run', 'a.yml', '-i', 'inv.yml', '--limit', '@failed'], { cwd });
    t.equal(r.code, 1, JSON.stringify(damaged));
    t.match(r.stderr, /is damaged/);
  }
});

t.test('the first format (one record for the folder) is still read', async (t) => {
  const cwd = t.testdir({ 'inv.yml': INVENTORY, 'a.yml': FINE });
  execFileSync('mkdir', ['-p', join(cwd, '.kplay')]);
  writeFileSync(join(cwd, '.kplay/last-run.json'), JSON.stringify({ playbook: join(cwd, 'a.yml'), time: 'x', exitCode: 2, hosts: {}, failed: ['h3'] }));
  const r = await kplay(['run', 'a.yml', '-i', 'inv.yml', '--limit', '@failed'], { cwd });
  t.equal(r.code, 0);
  t.same(ran(r.stdout), ['h3']);
});

t.test('.kplay as a file, or a read-only folder: a warning, and the run\'s own exit code', async (t) => {
  const cwd = t.testdir({ 'inv.yml': INVENTORY, 'a.yml': FAILING, '.kplay': 'not a folder\n' });
  const r = await kplay(['run', 'a.yml', '-i', 'inv.yml', '-e', 'bad=h1'], { cwd });
  t.equal(r.code, 2);
  t.match(r.stderr, /\[WARNING\]: cannot record this run in \.kplay\/last-run\.json \(--limit @failed will not know it\): .*\.kplay is not a folder/);
  t.notMatch(r.stderr, /\n\s+at /);
  t.equal(readFileSync(join(cwd, '.kplay'), 'utf8'), 'not a folder\n', 'the file is left as it was');

  // Root writes anywhere a mode allows nothing: a read-only bind mount, in a mount namespace of the run's own.
  const ro = t.testdir({ 'inv.yml': INVENTORY, 'a.yml': FAILING, '.kplay': {} });
  const script = `mount --bind -o ro .kplay .kplay && exec "$0" "$@"`;
  const child = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, process.execPath, KPLAY, 'run', 'a.yml', '-i', 'inv.yml', '-e', 'bad=h1'], {
    cwd: ro,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', NO_COLOR: '1', NODE_OPTIONS: '' },
  });
  t.equal(child.status, 2, child.stderr);
  t.match(child.stderr, /\[WARNING\]: cannot record this run in \.kplay\/last-run\.json .*read-only file system/i);
  t.same(readdirSync(join(ro, '.kplay')), [], 'nothing written');
});

t.test('a --limit or hosts: that matches nothing is an error before anything runs', async (t) => {
  const cwd = t.testdir({
    'inv.yml': INVENTORY,
    'site.yml': FINE,
    'typo.yml': '- hosts: wbe\n  gather_facts: false\n  tasks:\n    - copy: content=x dest=/nonexistent/never\n',
    'empty.yml': '- hosts: ""\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n',
    'emptylist.yml': '- hosts: []\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n',
    'group.yml': '- hosts: empty\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n- hosts: web\n  gather_facts: false\n  tasks:\n    - debug: msg=y\n',
  });
  const limit = await kplay(['run', 'site.yml', '-i', 'inv.yml', '--limit', 'nosuch'], { cwd });
  t.equal(limit.code, 1);
  t.equal(limit.stderr, 'kplay: --limit nosuch matches no host of the inventory: nothing to run\n');
  t.equal(limit.stdout, '');
  const disjoint = await kplay(['run', 'group.yml', '-i', 'inv.yml', '--limit', 'h3'], { cwd });
  t.equal(disjoint.code, 1, 'the limit names a host, but no play runs on it');
  t.match(disjoint.stderr, /--limit h3 leaves no host to run on/);
  const typo = await kplay(['run', 'typo.yml', '-i', 'inv.yml'], { cwd });
  t.equal(typo.code, 1);
  t.match(typo.stderr, /^typo\.yml:1:10: hosts "wbe" matches no host or group of the inventory \(groups: web, empty\)\n1 \| - hosts: wbe\n/);
  const json = await kplay(['run', 'typo.yml', '-i', 'inv.yml', '--output', 'json'], { cwd });
  t.match(json.events, [{ type: 'error', file: 'typo.yml', line: 1, col: 10 }]);
  for (const file of ['empty.yml', 'emptylist.yml']) {
    const r = await kplay(['run', file, '-i', 'inv.yml'], { cwd });
    t.equal(r.code, 1, file);
    t.match(r.stderr, new RegExp(`^${file.replace('.', '\\.')}:1:10: "hosts" is empty`));
  }
  // Naming a group of the inventory says "its hosts, if any": an empty group skips its play, as Ansible does.
  const group = await kplay(['run', 'group.yml', '-i', 'inv.yml'], { cwd });
  t.equal(group.code, 0);
  t.match(group.stderr, /\[WARNING\]: play "empty": no hosts matched "empty"/);
  t.same(ran(group.stdout), ['h1', 'h2']);
});

t.test('hosts: "{{ x }}" is rendered from the play\'s vars and -e, as Ansible renders it', async (t) => {
  const cwd = t.testdir({
    'inv.yml': INVENTORY,
    'tmpl.yml': '- hosts: "{{ target }}"\n  gather_facts: false\n  vars: {target: web}\n  tasks:\n    - debug: msg=x\n',
    'list.yml': '- hosts: "{{ groups.web }}"\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n',
    'undef.yml': '- hosts: "{{ nowhere }}"\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n',
    'blank.yml': '- hosts: "{{ \'\' }}"\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n',
  });
  const ansible = (args: string[]) => {
    const out = spawnSync('ansible-playbook', ['-i', 'inv.yml', ...args], { cwd, encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' } });
    return [...out.stdout.matchAll(/^(h\d)\s+: ok=/gm)].map((m) => m[1]);
  };
  for (const args of [['tmpl.yml'], ['tmpl.yml', '-e', 'target=h3'], ['tmpl.yml', '-e', 'target=web:h3'], ['list.yml']]) {
    const r = await kplay(['run', ...args, '-i', 'inv.yml'], { cwd });
    t.equal(r.code, 0, args.join(' '));
    t.same(ran(r.stdout), ansible(args), `${args.join(' ')}: the hosts Ansible runs on`);
  }
  const play = await kplay(['run', 'tmpl.yml', '-i', 'inv.yml'], { cwd });
  t.match(play.stdout, /PLAY \[web\]/, 'an unnamed play is named by its rendered pattern');
  const unknown = await kplay(['run', 'tmpl.yml', '-i', 'inv.yml', '-e', 'target=nosuch'], { cwd });
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /^tmpl\.yml:1:10: hosts "{{ target }}" \(rendered "nosuch"\) matches no host or group/);
  const undef = await kplay(['run', 'undef.yml', '-i', 'inv.yml'], { cwd });
  t.equal(undef.code, 1);
  t.match(undef.stderr, /^undef\.yml:1:10: hosts "{{ nowhere }}": .*nowhere.* is undefined/);
  const blank = await kplay(['run', 'blank.yml', '-i', 'inv.yml'], { cwd });
  t.equal(blank.code, 1);
  t.match(blank.stderr, /renders to an empty pattern/);
});
