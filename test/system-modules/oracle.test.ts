// user, group, authorized_key, cron, sysctl, hostname, getent and include_vars against Ansible on real systemd hosts: the same playbook
// through ansible-playbook on one fresh host and through kplay on another; both hosts end with the same accounts,
// keys, crontabs, sysctl files and values, and the same recap. kplay's --check on its fresh host predicts its first
// run exactly and changes nothing; a second run changes nothing, with either tool; --diff shows the file edits.

import t from 'tap';
import { join } from 'node:path';
import { ansiblePlaybook, kplayRun, onHost, startSysLab } from './lab.ts';

const PLAYBOOK = join(import.meta.dirname, 'fixtures/accounts.yml');
const CHANGES = join(import.meta.dirname, 'fixtures/changes.yml');
const ANSIBLE_HOST = 'controller-0';
const KPLAY_HOST = 'controller-1';

/** What the playbook leaves on a host, as a user would look: getent, id, the files, crontab -l, sysctl -n. */
const STATE = [
  'for u in alice bob carol; do getent passwd $u; getent shadow $u | cut -d: -f1,2,4-; done',
  'getent group ops sysgrp users alice carol bob',
  'id alice; id bob',
  'stat -c "%n %a %U %G" /home/alice /home/alice/.ssh /home/alice/.ssh/authorized_keys',
  'cat -A /home/alice/.ssh/authorized_keys',
  'stat -c "%n %a %U %G" /home/alice/.ssh/id_ed25519 /home/alice/.ssh/id_ed25519.pub; cut -d" " -f1,3 /home/alice/.ssh/id_ed25519.pub',
  'echo "-- alice"; crontab -l -u alice; echo "-- root"; crontab -l',
  'echo "-- cron.d"; stat -c "%n %a %U" /etc/cron.d/kplay-test 2>&1; cat /etc/cron.d/kplay-test 2>&1',
  'echo "-- sysctl"; sysctl -n net.ipv4.ip_forward net.core.somaxconn; cat /etc/sysctl.conf | sha256sum; cat -A /etc/sysctl.d/60-kplay.conf',
  'echo "-- lookups"; cat /root/lookups.txt',
].join('; ');

const HOSTNAME = 'echo "$(hostnamectl --static) $(hostname) $(cat /etc/hostname)"';
// Everything a --check run could have touched.
const SNAPSHOT = `${STATE}; ${HOSTNAME}; find /etc /home /var/spool/cron -xdev -printf "%p %m %s\\n" 2>/dev/null | sort | sha256sum`;

t.test('system modules: kplay and Ansible leave the same state', async (t) => {
  process.env.ANSIBLE_PIPELINING = '1';
  process.env.ANSIBLE_NOCOLOR = '1';
  const lab = await startSysLab('sysora', 2, { cron: true });
  t.teardown(() => lab.stop());
  const cwd = t.testdir({});

  const freshState = await onHost(lab, KPLAY_HOST, SNAPSHOT);
  const check = await kplayRun(lab, PLAYBOOK, ['-l', KPLAY_HOST, '--check', '--diff'], cwd);
  t.equal(check.code, 0, 'kplay --check exits 0', { output: check.code === 0 ? '' : check.stderr + check.stdout.slice(-2000) });
  t.equal(await onHost(lab, KPLAY_HOST, SNAPSHOT), freshState, '--check changed nothing on the host');
  const diffs = check.events.flatMap((e) => (e.type === 'result' && e.diff ? e.diff.map((d) => d.path) : []));
  t.ok(diffs.includes('/home/alice/.ssh/authorized_keys'), '--diff shows the authorized_keys file');
  t.ok(diffs.includes('/etc/cron.d/kplay-test'), '--diff shows the cron file');
  t.ok(diffs.includes('/etc/sysctl.d/60-kplay.conf'), '--diff shows the sysctl file');
  t.ok(diffs.includes('crontab for user "alice"'), "--diff shows alice's crontab");

  const [ansible, first] = await Promise.all([
    ansiblePlaybook(lab, PLAYBOOK, ['-l', ANSIBLE_HOST], cwd),
    kplayRun(lab, PLAYBOOK, ['-l', KPLAY_HOST], cwd),
  ]);
  t.equal(ansible.code, 0, 'ansible-playbook exits 0', { output: ansible.code === 0 ? '' : ansible.stdout.slice(-3000) + ansible.stderr });
  t.equal(first.code, 0, 'kplay exits 0', { output: first.code === 0 ? '' : first.stderr + first.stdout.slice(-2000) });
  t.equal(first.recap?.[KPLAY_HOST]?.changed, check.recap?.[KPLAY_HOST]?.changed, '--check predicted the changed count of the first run');
  t.same(
    { ok: first.recap?.[KPLAY_HOST]?.ok, changed: first.recap?.[KPLAY_HOST]?.changed, failed: first.recap?.[KPLAY_HOST]?.failed },
    { ok: ansible.recap[ANSIBLE_HOST]?.ok, changed: ansible.recap[ANSIBLE_HOST]?.changed, failed: ansible.recap[ANSIBLE_HOST]?.failed },
    'the same recap as Ansible',
  );
  t.equal(first.recap?.[KPLAY_HOST]?.changed, 16, 'every task but "no carol" and the lookups changed');

  const [ansibleState, kplayState] = await Promise.all([onHost(lab, ANSIBLE_HOST, STATE), onHost(lab, KPLAY_HOST, STATE)]);
  t.equal(kplayState, ansibleState, 'the same users, groups, shadow entries, keys, crontabs and sysctl settings');
  t.match(kplayState, /^alice:x:2001:2001:Alice Example:\/home\/alice:\/bin\/bash$/m);
  t.match(kplayState, /uid=2001\(alice\) gid=2001\(alice\) groups=2001\(alice\),100\(users\),2345\(ops\),\d+\(sysgrp\)/);
  t.match(kplayState, /^\/home\/alice\/\.ssh\/id_ed25519 600 alice alice\n\/home\/alice\/\.ssh\/id_ed25519\.pub 644 alice alice\nssh-ed25519 alice@lab$/m, 'a key pair for alice');
  t.match(kplayState, /^#Ansible: backup\n5 2 \* \* \* \/usr\/local\/bin\/backup --quiet$/m);
  t.match(kplayState, /^-- sysctl\n1\n1024\n/m);
  t.match(kplayState, /^-- lookups\nroot_uid=0 root_shell=\/bin\/bash staff_gid=50 port=8080$/m, 'getent and include_vars gave the copy task its values');
  t.equal((await onHost(lab, KPLAY_HOST, HOSTNAME)).trim(), `sys-${KPLAY_HOST} sys-${KPLAY_HOST} sys-${KPLAY_HOST}`, 'hostname set, now and for boot');
  t.equal((await onHost(lab, ANSIBLE_HOST, HOSTNAME)).trim(), `sys-${ANSIBLE_HOST} sys-${ANSIBLE_HOST} sys-${ANSIBLE_HOST}`);

  const [ansible2, second] = await Promise.all([
    ansiblePlaybook(lab, PLAYBOOK, ['-l', ANSIBLE_HOST], cwd),
    kplayRun(lab, PLAYBOOK, ['-l', KPLAY_HOST], cwd),
  ]);
  t.equal(second.code, 0, 'the second kplay run exits 0', { output: second.stderr });
  t.equal(second.recap?.[KPLAY_HOST]?.changed, 0, 'the second run changes nothing');
  t.equal(ansible2.recap[ANSIBLE_HOST]?.changed, 0, "and Ansible's second run agrees");
  t.equal(await onHost(lab, KPLAY_HOST, STATE), kplayState, 'the second run left the state as it was');

  // The second round: changes and removals, again with both tools, after --check predicted kplay's exactly.
  const before = await onHost(lab, KPLAY_HOST, SNAPSHOT);
  const check2 = await kplayRun(lab, CHANGES, ['-l', KPLAY_HOST, '--check', '--diff'], cwd);
  t.equal(check2.code, 0, 'kplay --check of the changes exits 0', { output: check2.code === 0 ? '' : check2.stderr + check2.stdout.slice(-2000) });
  t.equal(await onHost(lab, KPLAY_HOST, SNAPSHOT), before, '--check of the changes changed nothing');
  const [ansible3, third] = await Promise.all([
    ansiblePlaybook(lab, CHANGES, ['-l', ANSIBLE_HOST], cwd),
    kplayRun(lab, CHANGES, ['-l', KPLAY_HOST], cwd),
  ]);
  t.equal(ansible3.code, 0, 'ansible-playbook of the changes exits 0', { output: ansible3.code === 0 ? '' : ansible3.stdout.slice(-3000) });
  t.equal(third.code, 0, 'kplay of the changes exits 0', { output: third.code === 0 ? '' : third.stderr + third.stdout.slice(-2000) });
  t.equal(third.recap?.[KPLAY_HOST]?.changed, check2.recap?.[KPLAY_HOST]?.changed, '--check predicted the changes exactly');
  t.same(
    { ok: third.recap?.[KPLAY_HOST]?.ok, changed: third.recap?.[KPLAY_HOST]?.changed },
    { ok: ansible3.recap[ANSIBLE_HOST]?.ok, changed: ansible3.recap[ANSIBLE_HOST]?.changed },
    'the same recap as Ansible for the changes',
  );
  const [ansibleAfter, kplayAfter] = await Promise.all([onHost(lab, ANSIBLE_HOST, STATE), onHost(lab, KPLAY_HOST, STATE)]);
  t.equal(kplayAfter, ansibleAfter, 'after the changes: the same accounts, keys, crontabs and sysctl settings as Ansible');
  t.match(kplayAfter, /^uid=2001\(alice\) gid=2001\(alice\) groups=2001\(alice\),2346\(ops\)$/m, 'alice only in ops, which has its new gid');
  t.notMatch(kplayAfter, /^bob:/m, 'bob is gone');
  t.match(kplayAfter, /kplay-test': No such file/, 'the emptied cron.d file is gone');
  const again = await kplayRun(lab, CHANGES, ['-l', KPLAY_HOST], cwd);
  t.equal(again.recap?.[KPLAY_HOST]?.changed, 0, 'the changes, run again, change nothing');
});
