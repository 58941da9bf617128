// Issue 11, acceptance point 2: one playbook (fixtures/everything/) with the issue's modules, loops, keywords, facts
// and lookups runs with kplay on one fresh systemd lab host and with Debian's ansible-playbook on another, unchanged;
// both hosts must end with the same files (names, modes, sizes, contents), packages, users, groups, crontabs, sysctl
// values, hostname and running services, and both runs with the same recap counts. A second run of each changes
// nothing. What the playbook leaves out, and why, is in the README (Playbooks: the acceptance playbook).

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ansiblePlaybook, kplayRun, onHost, startSysLab } from './lab.ts';
import { ansibleAptDebs, bridgeAddress, installDebs, isolateApt, startAptRepo } from '../lab/apt-repo.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures/everything');
const ANSIBLE_HOST = 'controller-0';
const KPLAY_HOST = 'controller-1';

/** What a user would look at on the host afterwards. */
const STATE = [
  'cd /srv/every && find . -printf "%p %y %m %s\\n" | sort',
  'cd /srv/every && find . -type f ! -name Release | sort | xargs -d "\\n" sha256sum',
  'cat /srv/every/report.txt /srv/every/facts.txt /srv/every/app.conf /srv/every/app.ini',
  "dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\\n' 'kplay-*'",
  'ls /etc/apt/sources.list.d; cat /etc/apt/sources.list.d/*',
  'for u in ada bea cyd; do getent passwd $u | cut -d: -f1,6,7; id -nG $u; crontab -l -u $u; ls -la /home/$u/.ssh 2>/dev/null | awk \'{print $1, $3, $NF}\' | tail -n +4; cat /home/$u/.ssh/authorized_keys 2>/dev/null; done',
  'getent group ops dev web | cut -d: -f1,4',
  'sysctl -n net.ipv4.ip_forward net.core.somaxconn; cat /etc/sysctl.d/60-every.conf',
  'hostname; systemctl is-active nginx; systemctl is-enabled nginx',
].join('; echo ---; ');

t.test('one playbook with everything: kplay and Ansible leave the same hosts', async (t) => {
  process.env.ANSIBLE_PIPELINING = '1';
  process.env.ANSIBLE_NOCOLOR = '1';
  const lab = await startSysLab('every', 2, { cron: true });
  t.teardown(() => lab.stop());
  const cwd = t.testdir({});
  const repo = await startAptRepo(join(cwd, 'repo'), bridgeAddress(lab));
  t.teardown(() => repo.stop());
  const debs = await ansibleAptDebs();
  for (const h of lab.hosts) {
    await isolateApt(lab, h.name);
    await installDebs(lab, h.name, debs);
  }
  const project = join(cwd, 'project');
  cpSync(FIXTURE, project, { recursive: true });
  // An archive made by the real tar, for unarchive (without a `./` entry, which would reset the mode an earlier task
  // gives the destination folder on every run).
  mkdirSync(join(cwd, 'bundle/inner'), { recursive: true });
  execFileSync('sh', ['-c', 'echo one > bundle/one.txt && echo two > bundle/inner/two.txt && tar -C bundle -czf project/files/bundle.tar.gz one.txt inner'], { cwd });
  const releaseSha = createHash('sha256').update(readFileSync(join(repo.dir, 'dists/kplay/Release'))).digest('hex');
  const playbook = join(project, 'play.yml');
  const vars = (tool: string): string[] => ['-e', `repo_url=${repo.url}`, '-e', `release_sha=${releaseSha}`, '-e', `fetch_dir=${join(cwd, `fetched-${tool}`)}`];

  const [ansible, first] = await Promise.all([
    ansiblePlaybook(lab, playbook, ['-l', ANSIBLE_HOST, ...vars('ansible')], project, 900_000),
    kplayRun(lab, playbook, ['-l', KPLAY_HOST, ...vars('kplay')], project),
  ]);
  t.equal(ansible.code, 0, 'ansible-playbook exits 0', { output: ansible.code === 0 ? '' : ansible.stdout.slice(-4000) + ansible.stderr });
  t.equal(first.code, 0, 'kplay exits 0', { output: first.code === 0 ? '' : first.stderr + first.stdout.slice(-4000) });
  t.same(first.recap?.[KPLAY_HOST] && { ok: first.recap[KPLAY_HOST].ok, changed: first.recap[KPLAY_HOST].changed, failed: first.recap[KPLAY_HOST].failed, skipped: first.recap[KPLAY_HOST].skipped }, ansible.recap[ANSIBLE_HOST], 'the same recap as Ansible');

  const [theirs, mine] = await Promise.all([onHost(lab, ANSIBLE_HOST, STATE), onHost(lab, KPLAY_HOST, STATE)]);
  t.equal(mine, theirs, 'the same files, packages, users, crontabs, sysctl values, hostname and services');
  t.match(mine, /^net\.ipv4\.ip_forward\s*=\s*1$/m, 'the sysctl file (the test can fail)');
  t.match(mine, /^password=FixedSecret1$/m, 'the lookups rendered');
  t.equal(readFileSync(join(cwd, `fetched-kplay/${KPLAY_HOST}/srv/every/app.conf`), 'utf8'), readFileSync(join(cwd, `fetched-ansible/${ANSIBLE_HOST}/srv/every/app.conf`), 'utf8'), 'fetch brought the same file');

  const [ansible2, second] = await Promise.all([
    ansiblePlaybook(lab, playbook, ['-l', ANSIBLE_HOST, ...vars('ansible')], project, 900_000),
    kplayRun(lab, playbook, ['-l', KPLAY_HOST, ...vars('kplay')], project),
  ]);
  t.equal(second.code, 0, 'the second kplay run exits 0', { output: second.stderr + second.stdout.slice(-3000) });
  // What still changes: tempfile (a new file each run), command (always changed) and the handler it notifies.
  t.same(second.recap?.[KPLAY_HOST]?.changed, ansible2.recap[ANSIBLE_HOST]?.changed, 'the second runs change as much');
  const [theirs2, mine2] = await Promise.all([onHost(lab, ANSIBLE_HOST, STATE), onHost(lab, KPLAY_HOST, STATE)]);
  t.equal(mine2, theirs2, 'after the second runs, the hosts are still the same');
});
