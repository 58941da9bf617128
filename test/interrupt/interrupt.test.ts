// Issue 12, acceptance 3: SIGINT and SIGTERM in the middle of a run on a fleet that writes large and small files and
// runs a long command: no temp file is left on any host or on the controller, the remote command is gone (ps over a
// separate ssh), the recap is printed, the exit code is 130 / 143, and `--limit @failed` then completes exactly the
// hosts that had not finished. Then a connection dropped mid-write, 20 times: after the next run no temp file is left.

import t from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kplay, KPLAY, type KplayResult } from '../helpers/kplay.ts';
import { sleep } from '../lab/net.ts';
import { labFleet, sshCli } from '../ssh/fixture.ts';
import type { Fleet } from '../lab/fleet.ts';

/** A duration no other test's command uses: the host's `ps` sees the whole machine (hosts share its pid namespace). */
const SLEEP = 9731;

const PLAYBOOK = `
- hosts: fleet
  strategy: free
  gather_facts: false
  vars:
    heavy: "{{ inventory_hostname != groups.fleet[-1] }}"
    sleeper: "{{ inventory_hostname == groups.fleet[-2] }}"
  tasks:
    - file: { path: /srv/intr, state: directory }
    - copy: { content: "{{ inventory_hostname }} {{ item }} {{ run }}", dest: "/srv/intr/small-{{ run }}-{{ item }}.txt" }
      loop: [1, 2, 3, 4, 5, 6, 7, 8]
    - command: sleep ${SLEEP}
      when: heavy and sleeper and not (quick | default(false))
    - copy: { src: big.bin, dest: "/srv/intr/big-{{ run }}.bin" }
      when: heavy
    - fetch: { src: "/srv/intr/big-{{ run }}.bin", dest: fetched/ }
      when: heavy
    - command: sleep ${SLEEP}
      when: heavy and not (quick | default(false))
    - copy: { content: done, dest: "/srv/intr/done-{{ run }}" }
`;

/** Names of kplay temp files (core/temp-path.ts) under the given folders of every host, over a separate ssh. */
async function hostTemps(fleet: Fleet): Promise<string[]> {
  const found = await Promise.all(
    fleet.hosts.map(async (h) => {
      const out = await sshCli(fleet, h, "find /srv /tmp /root -name '*.kplay-*' 2>/dev/null; true");
      return out.split('\n').filter(Boolean).map((p) => `${h.name}:${p}`);
    }),
  );
  return found.flat();
}

function controllerTemps(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => p.includes('.kplay-'));
}

async function sleepers(fleet: Fleet): Promise<number> {
  const out = await sshCli(fleet, fleet.hosts[0], `ps -eo args | grep -c '^sleep ${SLEEP}$'; true`);
  return Number(out.trim());
}

/** Start kplay; send `signal` once `ready()` holds (polled), and resolve with what it printed and its exit code. */
function interrupted(args: string[], cwd: string, signal: NodeJS.Signals, ready: () => Promise<boolean>, env: Record<string, string>): Promise<KplayResult & { signalled: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KPLAY, ...args], { cwd, env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    let exited = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      exited = true;
      const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as KplayResult['events'][number]);
      const recap = events.find((e): e is Extract<KplayResult['events'][number], { type: 'recap' }> => e.type === 'recap');
      resolve({ code: code ?? 1, stdout, stderr, events, recap: recap?.hosts, signalled });
    });
    void (async () => {
      for (let i = 0; i < 1500 && !exited; i++) {
        if (await ready().catch(() => false)) {
          signalled = true;
          child.kill(signal);
          return;
        }
        await sleep(20);
      }
    })();
  });
}

t.test('an interrupted run leaves nothing behind and @failed completes it', async (t) => {
  const fleet = await labFleet(t, 4, 'intr');
  if (!fleet) return;
  const cwd = t.testdir({ 'site.yml': PLAYBOOK });
  const env = { KPLAY_STATE_DIR: join(cwd, 'state') };
  // Tens of MB of random bytes (not sparse: every byte goes over the wire).
  const big = Buffer.alloc(48 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 65536) big.fill(i % 251, i, i + 65536);
  big.writeUInt32BE(0xdeadbeef, 12345);
  writeFileSync(join(cwd, 'big.bin'), big);
  const base = ['run', 'site.yml', '-i', fleet.inventoryFile];
  const [h1, , h3, h4] = fleet.hosts;
  // What `--limit @failed` will select: the one playbook's record, its failed and unfinished hosts.
  const failedHosts = () => {
    const state = JSON.parse(readFileSync(join(cwd, '.kplay/last-run.json'), 'utf8')) as { runs: Record<string, { failed: string[]; unfinished?: string[] }> };
    const records = Object.values(state.runs);
    return records.length === 1 ? [...new Set([...records[0].failed, ...(records[0].unfinished ?? [])])].sort() : [`${records.length} records`];
  };

  for (const [signal, output, run] of [['SIGINT', 'json', '1'], ['SIGTERM', 'text', '2']] as const) {
    // Signal once the large write is under way on host 1 and the long command runs on host 3.
    const ready = async () => {
      const writing = readdirSync(join(h1.root, 'srv/intr')).some((n) => n.startsWith(`.big-${run}.bin.kplay-`));
      return writing && (await sleepers(fleet)) >= 1;
    };
    const r = await interrupted([...base, '--output', output, '-e', `run=${run}`], cwd, signal, ready, env);
    t.ok(r.signalled, `${signal}: sent while a large file was being written and the command ran`);
    t.equal(r.code, signal === 'SIGINT' ? 130 : 143, `${signal}: exit code`);
    if (output === 'json') {
      t.ok(r.recap, 'SIGINT: the recap is printed (json)');
      t.ok(r.events.some((e) => e.type === 'warning' && /interrupted by SIGINT: 3 host\(s\) unfinished/.test(e.message)), 'SIGINT: the unfinished hosts are named');
    } else {
      t.match(r.stdout, /PLAY RECAP/, 'SIGTERM: the recap is printed (text)');
      t.match(r.stdout + r.stderr, /interrupted by SIGTERM: 3 host\(s\) unfinished/, 'SIGTERM: the unfinished hosts are named');
    }
    t.same(await hostTemps(fleet), [], `${signal}: no temp file on any host`);
    t.same(controllerTemps(cwd), [], `${signal}: no temp file on the controller`);
    t.equal(await sleepers(fleet), 0, `${signal}: the remote command is gone`);
    t.same(failedHosts(), fleet.hosts.slice(0, 3).map((h) => h.name), `${signal}: the unfinished hosts are recorded; ${h4.name} had finished`);
    t.ok(readdirSync(join(h4.root, 'srv/intr')).includes(`done-${run}`), `${signal}: ${h4.name} finished its play`);

    const rest = await kplay([...base, '--output', 'json', '-e', `run=${run}`, '-e', 'quick=true', '--limit', '@failed'], { cwd, env });
    t.equal(rest.code, 0, `${signal}: --limit @failed completes: ${rest.stderr}`);
    t.same(Object.keys(rest.recap ?? {}).sort(), fleet.hosts.slice(0, 3).map((h) => h.name), `${signal}: exactly the unfinished hosts ran`);
    for (const h of fleet.hosts.slice(0, 3)) {
      t.equal(readFileSync(join(h.root, `srv/intr/big-${run}.bin`)).equals(big), true, `${signal}: ${h.name} has the whole large file`);
      t.equal(readFileSync(join(cwd, 'fetched', h.name, `srv/intr/big-${run}.bin`)).equals(big), true, `${signal}: its fetched copy is whole`);
    }
    t.equal(readFileSync(join(h3.root, `srv/intr/done-${run}`), 'utf8'), 'done', `${signal}: ${h3.name} finished`);
    t.same(failedHosts(), [], `${signal}: nothing left to complete`);
  }
});

t.test('a connection dropped mid-write, 20 times: the next run leaves no temp file', async (t) => {
  const fleet = await labFleet(t, 1, 'intrdrop');
  if (!fleet) return;
  const host = fleet.hosts[0];
  // Small files go over sftp (a dropped sftp write cannot clean up after itself), larger ones through a command.
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) files[`f${i}.bin`] = `${String(i).repeat(1000)}\n`.repeat(i % 2 ? 200 : 600);
  const cwd = t.testdir({
    files,
    'site.yml': `
- hosts: fleet
  gather_facts: false
  tasks:
    - file: { path: /srv/drop, state: directory }
    - copy: { src: "files/{{ item }}", dest: "/srv/drop/{{ try }}-{{ item }}" }
      loop: ${JSON.stringify(Object.keys(files))}
`,
  });
  const env = { KPLAY_STATE_DIR: join(cwd, 'state') };
  let cut = 0;
  for (let attempt = 1; attempt <= 20; attempt++) {
    const running = kplay(['run', 'site.yml', '-i', fleet.inventoryFile, '--output', 'json', '-e', `try=${attempt}`], { cwd, env });
    // Wait for the first write of this try, then cut the connection a little later (later each try).
    const listing = () => {
      try {
        return readdirSync(join(host.root, 'srv/drop'));
      } catch {
        return [];
      }
    };
    for (let i = 0; i < 1000 && !listing().some((n) => n.startsWith(`${attempt}-`) || n.includes('.kplay-')); i++) await sleep(5);
    await sleep(attempt * 3);
    await fleet.dropConnections(host.name);
    const r = await running;
    if (r.code === 4) cut++;
  }
  t.ok(cut >= 10, `the connection was cut mid-run in ${cut} of 20 tries`);
  t.comment(`temp files on the host before the next run: ${(await hostTemps(fleet)).length}`);
  const next = await kplay(['run', 'site.yml', '-i', fleet.inventoryFile, '--output', 'json', '-e', 'try=last'], { cwd, env });
  t.equal(next.code, 0, `the next run: ${next.stderr}${next.events.filter((e) => e.type === 'result' && e.status !== 'ok' && e.status !== 'changed').map((e) => JSON.stringify(e)).join('\n')}`);
  t.same(await hostTemps(fleet), [], 'no temp file left on the host after the next run');
});

// A user's module that waits on the controller and does not listen for the interruption: the run stays in it after a
// first signal, which is what a second one is for.
const DEAF_MODULE = `
import { defineModule } from 'kplay/module';
export default defineModule({
  spec: { args: {} },
  async plan() {
    await new Promise((resolve) => setTimeout(resolve, 60000));
    return { changed: false };
  },
});
`;

/** Start `kplay run site.yml` in `cwd`, wait until it printed `marker` (+300 ms), send SIGINT; the child and its output. */
async function startAndInterrupt(cwd: string, marker: string) {
  const child = spawn(process.execPath, [KPLAY, 'run', 'site.yml'], { cwd, env: { ...process.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '' };
  child.stdout.on('data', (d: Buffer) => (out.text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.text += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  for (let i = 0; i < 500 && !out.text.includes(marker); i++) await sleep(20);
  await sleep(300);
  const sent = Date.now();
  child.kill('SIGINT');
  return { child, out, closed, sent };
}

t.test('a second Ctrl-C exits at once', async (t) => {
  const cwd = t.testdir({
    'site.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - deaf: {}\n    - copy: { content: x, dest: never }\n',
    modules: { 'deaf.ts': DEAF_MODULE },
  });
  const { child, out, closed } = await startAndInterrupt(cwd, 'deaf');
  await sleep(1000);
  t.equal(child.exitCode, null, 'after one Ctrl-C the run finishes what is in flight (the module)');
  const second = Date.now();
  child.kill('SIGINT');
  t.equal(await closed, 130, 'the second exits with 130');
  t.ok(Date.now() - second < 2000, `at once (${Date.now() - second} ms)`);
  t.match(out.text, /SIGINT: stopping/, 'the first said what it does');
  t.same(controllerTemps(cwd), [], 'no temp file');
});

// Waits on the controller end at the first Ctrl-C: a pause, a retry's delay, a loop's pause; nothing runs after them.
for (const [what, task] of [
  ['pause', '    - pause: { seconds: 60 }\n'],
  ['a retry delay', '    - command: "true"\n      register: r\n      until: false\n      retries: 3\n      delay: 60\n'],
  ['a loop pause', '    - debug: { msg: "{{ item }}" }\n      loop: [1, 2, 3]\n      loop_control: { pause: 60 }\n'],
] as const) {
  t.test(`the first Ctrl-C ends ${what} at once`, async (t) => {
    const cwd = t.testdir({ 'site.yml': `- hosts: localhost\n  gather_facts: false\n  tasks:\n${task}    - copy: { content: x, dest: never }\n` });
    const { out, closed, sent } = await startAndInterrupt(cwd, 'TASK');
    t.equal(await closed, 130, 'exit 130');
    t.ok(Date.now() - sent < 5000, `ended ${Date.now() - sent} ms after the signal`);
    t.match(out.text, /interrupted by SIGINT: 1 host\(s\) unfinished: localhost/, 'the host is unfinished');
    t.notOk(readdirSync(cwd).includes('never'), 'no task ran after it');
  });
}
