// `file` state=directory over SSH, where the connection makes a new directory over sftp (mkdir, setstat, lstat: no
// process on the host): the same directories, attributes and results as Ansible's, on a first and a second run;
// --check predicts the first run and writes nothing. The connection's own answer says when it made the directory
// itself and when it leaves it to the module's command (parents missing, only an owner, a path already there).
// Not compared with Ansible here (kplay differs, before and after this path): missing parents, which Ansible makes
// with the task's mode and owner and kplay's `mkdir -p` with the defaults; the result's `mode` of a setuid/setgid/
// sticky directory, which Ansible's file module shows as `02775` and kplay as `2775`.

import t from 'tap';
import { lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay, type KplayResult } from '../helpers/kplay.ts';
import { ansiblePlaybook, type AnsibleResult } from '../packages/ansible.ts';
import { connect, labFleet } from './fixture.ts';
import type { FleetHost } from '../lab/fleet.ts';

const ROOT = '/srv/kplay-mkdir';

const TASKS: Array<[string, string]> = [
  ['a', `mode: '0750'`],
  ['b', `mode: '0777'`],
  ['c', `mode: '0775'\n        owner: nobody\n        group: nogroup`],
  ['d', `owner: nobody`],
  ['e', `mode: '0700'`],
  ['e/f', `mode: '0701'`],
  ['h', ''],
  ['i', `mode: 'u=rwx,g=rx,o='`],
  ['j', `owner: '65534'\n        group: '65534'`],
];

const PLAY = `- hosts: all
  gather_facts: false
  tasks:
${TASKS.map(([path, attrs]) => `    - name: dir ${path}\n      file:\n        path: ${ROOT}/${path}\n        state: directory\n${attrs ? `        ${attrs}\n` : ''}`).join('')}`;

/** Every path under the host's ROOT: type, mode, owner and group ids. */
function tree(host: FleetHost): string {
  const base = join(host.root, ROOT);
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(base, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(base, path));
      lines.push(`${path} ${st.isDirectory() ? 'dir' : 'other'} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return lines.join('\n');
}

function fresh(host: FleetHost): void {
  rmSync(join(host.root, ROOT), { recursive: true, force: true });
  mkdirSync(join(host.root, ROOT), { mode: 0o755 });
}

const FIELDS = ['changed', 'state', 'mode', 'owner', 'group', 'uid', 'gid', 'size'] as const;
const pick = (r: Record<string, unknown>) => Object.fromEntries(FIELDS.map((f) => [f, r[f]]));

function kplayResults(r: KplayResult, host: string): Array<Record<string, unknown>> {
  return r.events.flatMap((e) => (e.type === 'result' && e.host === host ? [pick({ ...e.result, changed: e.status === 'changed' })] : []));
}

function ansibleResults(r: AnsibleResult, host: string): Array<Record<string, unknown>> {
  return r.tasks.map((task) => pick(task.hosts[host] as Record<string, unknown>));
}

t.test('file state=directory over SSH: as Ansible, first and second run, --check exact', async (t) => {
  const fleet = await labFleet(t, 2, 'mkdir');
  if (!fleet) return;
  const [ours, theirs] = fleet.hosts;
  const project = t.testdir({ 'play.yml': PLAY });
  const play = (...flags: string[]) => kplay(['run', 'play.yml', '-i', fleet.inventoryFile, '--limit', ours.name, '--output', 'json', '-v', ...flags], { cwd: project });
  const ansible = () => ansiblePlaybook(['play.yml', '-i', fleet.inventoryFile, '--limit', theirs.name], project);

  fresh(ours);
  fresh(theirs);
  const check = await play('--check');
  t.equal(check.code, 0, 'kplay --check exits 0', { output: check.stderr });
  t.equal(tree(ours), '', '--check made nothing');
  const [first, ansibleFirst] = await Promise.all([play(), ansible()]);
  t.equal(first.code, 0, 'kplay exits 0', { output: first.stderr + first.stdout.slice(-2000) });
  t.equal(ansibleFirst.code, 0, 'ansible-playbook exits 0', { output: ansibleFirst.stdout.slice(-3000) });
  t.same(kplayResults(check, ours.name).map((r) => r.changed), TASKS.map(() => true), '--check predicts every task changes');
  t.equal(tree(ours), tree(theirs), 'the same directories, modes and owners as Ansible made');
  t.match(tree(ours), /^a dir 750 0:0\nb dir 777 0:0\nc dir 775 65534:65534\n/, 'exact modes (no umask), owner and group');
  t.same(kplayResults(first, ours.name), ansibleResults(ansibleFirst, theirs.name), 'the same results as Ansible');

  const [second, ansibleSecond] = await Promise.all([play(), ansible()]);
  t.same(second.recap?.[ours.name]?.changed, 0, 'kplay: nothing changes the second time');
  t.same(kplayResults(second, ours.name), ansibleResults(ansibleSecond, theirs.name), 'the same results as Ansible, second run');
});

t.test('the connection makes a directory itself only when it can do all the task asks', async (t) => {
  const fleet = await labFleet(t, 1, 'mkdirc');
  if (!fleet) return;
  const [host] = fleet.hosts;
  fresh(host);
  writeFileSync(join(host.root, ROOT, 'file'), 'x');
  const conn = await connect(t, fleet, host);
  const made = await conn.mkdir(`${ROOT}/m`, { mode: 0o1777, owner: 'nobody', group: 'nogroup' });
  t.match(made, { exists: true, type: 'directory', mode: 0o1777, owner: 'nobody', group: 'nogroup', uid: 65534, gid: 65534 });
  t.equal(lstatSync(join(host.root, ROOT, 'm')).mode & 0o7777, 0o1777, 'on the host as answered');
  t.equal(await conn.mkdir(`${ROOT}/x/y`, { mode: 0o755 }), undefined, 'parent missing: left to the command (mkdir -p)');
  t.equal(await conn.mkdir(`${ROOT}/file`, { mode: 0o755 }), undefined, 'a file already there: left to the command');
  t.equal(await conn.mkdir(`${ROOT}/o`, { owner: 'nobody' }), undefined, 'only an owner: left to the command');
  t.equal(await conn.mkdir(`${ROOT}/u`, { owner: 'no-such-user', group: 'root' }), undefined, 'an owner the host does not name: left to the command');
  t.same(readdirSync(join(host.root, ROOT)).sort(), ['file', 'm'], 'nothing made where it answered undefined');
  t.match(await conn.stat(`${ROOT}/m`), { type: 'directory', mode: 0o1777 }, 'a stat afterwards sees it');
});
