// The file modules over SSH on two fleet hosts: --check on fresh hosts predicts the first run's changes and writes
// nothing; the first run leaves the files it should (checked with OpenSSH's own client); the second changes nothing
// but the tempfile; fetch brings each host's file to the controller under its name.

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay, type KplayResult } from '../helpers/kplay.ts';
import { labFleet, sshCli } from '../ssh/fixture.ts';

const ROOT = '/srv/kplay-files';

const PLAY = `- hosts: all
  gather_facts: false
  tasks:
    - copy: { src: conf/, dest: ${ROOT}/conf/, mode: 'u=rw,g=r,o=', directory_mode: '0750' }
    - lineinfile: { path: ${ROOT}/edit.conf, regexp: '^port\\s*=', line: 'port = 8080', create: true }
    - blockinfile: { path: ${ROOT}/edit.conf, block: "peer = {{ inventory_hostname }}" }
    - copy: { content: "debug = true\\n", dest: ${ROOT}/flags, force: false }
    - replace: { path: ${ROOT}/flags, regexp: '^debug = (\\w+)$', replace: 'debug = false # was \\1' }
    - ini_file: { path: ${ROOT}/app.ini, section: main, option: host, value: "{{ inventory_hostname }}", mode: '0640' }
    - file: { path: ${ROOT}/opt, state: directory }
    - unarchive: { src: tool.tar.gz, dest: ${ROOT}/opt, mode: 'u+rwX,go-w' }
    - copy: { src: tool.zip, dest: ${ROOT}/tool.zip }
    - unarchive: { src: ${ROOT}/tool.zip, dest: ${ROOT}/opt, remote_src: true, exclude: ['*.md'], creates: ${ROOT}/opt/zipped }
    - assemble: { src: frags, remote_src: false, dest: ${ROOT}/assembled, delimiter: '# --' }
    - find: { paths: ${ROOT}, patterns: '*.conf', recurse: true }
      register: found
    - copy: { content: "{{ found.matched }}", dest: ${ROOT}/matched }
    - slurp: { src: ${ROOT}/app.ini }
      register: ini
    - copy: { content: "{{ ini.content | b64decode }}", dest: ${ROOT}/ini-copy }
    - fetch: { src: ${ROOT}/app.ini, dest: fetched }
    - tempfile: { path: /tmp, suffix: .kplay }
`;

t.test('the file modules over SSH on two hosts', async (t) => {
  const fleet = await labFleet(t, 2, 'files');
  if (!fleet) return;
  const project = t.testdir({});
  const conf = join(project, 'files/conf');
  mkdirSync(conf, { recursive: true });
  mkdirSync(join(project, 'files/frags'));
  writeFileSync(join(conf, 'app.conf'), 'name = app\nport = 80\n');
  writeFileSync(join(project, 'files/frags/10-a'), 'a\n');
  writeFileSync(join(project, 'files/frags/20-b'), 'b\n');
  const tool = join(project, 'tool');
  mkdirSync(join(tool, 'tool/bin'), { recursive: true });
  writeFileSync(join(tool, 'tool/bin/run'), '#!/bin/sh\n');
  execFileSync('chmod', ['0777', join(tool, 'tool/bin/run')]);
  writeFileSync(join(tool, 'tool/README.md'), 'r\n');
  writeFileSync(join(tool, 'zipped'), 'z\n');
  execFileSync('tar', ['-czf', join(project, 'files/tool.tar.gz'), '-C', tool, 'tool']);
  execFileSync('zip', ['-qr', join(project, 'files/tool.zip'), 'zipped', 'tool/README.md'], { cwd: tool });
  writeFileSync(join(project, 'play.yml'), PLAY);
  const play = (...flags: string[]): Promise<KplayResult> => kplay(['run', 'play.yml', '-i', fleet.inventoryFile, '--output', 'json', ...flags], { cwd: project });
  const summary = (r: KplayResult): string =>
    r.events.filter((e) => e.type === 'result' && e.host === fleet.hosts[0].name && e.status !== 'ok').map((e) => e.type === 'result' ? `${e.task.line} ${e.status} ${e.msg ?? ''}` : '').join('\n');
  const changed = (r: KplayResult): Record<string, number> => Object.fromEntries(Object.entries(r.recap ?? {}).map(([h, c]) => [h, c.changed]));

  const check = await play('--check');
  t.equal(check.code, 0, check.code === 0 ? '--check ran' : `${check.stderr}\n${summary(check)}`);
  for (const host of fleet.hosts) t.equal(await sshCli(fleet, host, `test -e ${ROOT} && echo there || echo absent`), 'absent\n', `${host.name}: --check wrote nothing`);

  const first = await play('--diff');
  t.equal(first.code, 0, first.code === 0 ? 'the first run passed' : `${first.stderr}\n${summary(first)}`);
  t.same(changed(first), changed(check), '--check predicted the first run');
  t.same(Object.values(changed(first)), [15, 15], 'every task but find and slurp changed something');
  for (const host of fleet.hosts) {
    const seen = await sshCli(fleet, host, `cd ${ROOT} && cat conf/app.conf edit.conf flags app.ini assembled matched && stat -c '%n %a' conf conf/app.conf app.ini opt/tool/bin/run opt/zipped && ls opt/tool`);
    t.equal(
      seen,
      'name = app\nport = 80\n' +
        `port = 8080\n# BEGIN ANSIBLE MANAGED BLOCK\npeer = ${host.name}\n# END ANSIBLE MANAGED BLOCK\n` +
        'debug = false # was true\n' +
        `\n[main]\nhost = ${host.name}\n` +
        'a\n# --\nb\n' +
        '2' +
        'conf 750\nconf/app.conf 640\napp.ini 640\nopt/tool/bin/run 755\nopt/zipped 644\nREADME.md\nbin\n',
      `${host.name}: files, contents and modes`,
    );
    t.equal(readFileSync(join(project, 'fetched', host.name, ROOT, 'app.ini'), 'utf8'), `\n[main]\nhost = ${host.name}\n`, `${host.name}: fetched`);
  }
  const diffs = first.events.filter((e) => e.type === 'result' && e.diff?.some((d) => d.before !== d.after));
  t.ok(diffs.length >= 10, '--diff shows the file changes');

  const second = await play();
  t.equal(second.code, 0, second.stderr);
  t.same(Object.values(changed(second)), [1, 1], 'the second run changes nothing but the new tempfile');
});
