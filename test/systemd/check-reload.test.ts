// --check predicts an update run exactly when a unit file changes, its handler (daemon_reload + restarted) is flushed,
// and a later task asks for daemon_reload again: the planned reload of the handler has loaded the planned file, so the
// later task changes nothing, as on the host. (It predicted one reload too many.) Real systemd, a named lab host.

import t from 'tap';
import { kplayRun, onHost, startSysLab, type KplayResult } from '../system-modules/lab.ts';

const HOST = 'controller-0';
const PLAY = `
- hosts: all
  gather_facts: false
  vars: {greeting: one}
  tasks:
    - name: unit
      copy:
        dest: /etc/systemd/system/kplay-reload.service
        content: "[Unit]\\nDescription=demo {{ greeting }}\\n[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n"
      notify: restart
    - meta: flush_handlers
    - name: enabled and started
      systemd: {name: kplay-reload, enabled: true, state: started, daemon_reload: true}
  handlers:
    - name: restart
      systemd: {name: kplay-reload, state: restarted, daemon_reload: true}
`;

/** Each task's (and handler's) status in run order. */
const statuses = (r: KplayResult): string[] => r.events.flatMap((e) => (e.type === 'result' ? [`${e.task.name}: ${e.status}`] : []));

t.test('--check predicts fresh and update runs with a flushed daemon-reload handler exactly', async (t) => {
  const lab = await startSysLab('chkreload', 1);
  t.teardown(() => lab.stop());
  const cwd = t.testdir({ 'play.yml': PLAY });
  for (const [label, args] of [['fresh', []], ['update', ['-e', 'greeting=two']], ['unchanged', ['-e', 'greeting=two']]] as const) {
    const check = await kplayRun(lab, 'play.yml', ['--check', ...args], cwd);
    t.equal(check.code, 0, `${label}: --check exits 0 ${check.stderr}`);
    const real = await kplayRun(lab, 'play.yml', [...args], cwd);
    t.equal(real.code, 0, `${label}: the run exits 0 ${real.stderr}`);
    t.same(statuses(check), statuses(real), `${label}: --check predicted every task`);
    t.equal(check.recap?.[HOST]?.changed, real.recap?.[HOST]?.changed, `${label}: and the changed count`);
  }
  t.match(await onHost(lab, HOST, 'systemctl show -p Description,ActiveState,NeedDaemonReload kplay-reload'), /ActiveState=active\nDescription=demo two\nNeedDaemonReload=no|Description=demo two/, 'the unit runs with the new file');
});
