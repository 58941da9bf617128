// `npm run lab -- up | status | down` end to end: the hosts answer over SSH with the keys the inventory names, and
// `down` leaves no process, mount, bridge, network namespace, cgroup or nspawn propagate folder behind, even after a
// `kill -9` of one systemd-nspawn (its container keeps running, reparented).

import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { DEFAULT_STATE_DIR, LAB_NAME, readLabState, sshRun } from '../lab/nspawn.ts';

const INVENTORY = 'inventory/lab.yml';
const execFileP = promisify(execFile);
const lab = (...args: string[]): Promise<{ stdout: string }> => execFileP('node', ['bin/run-ts.js', 'test/lab/lab.ts', ...args]);
/** `status` exits 3 when a host is not fully up: its output is what matters here. */
const status = (): Promise<string> => lab('status').then((r) => r.stdout, (error: { stdout: string }) => error.stdout);

const cgroupOf = (pid: number): string => readFileSync(`/proc/${pid}/cgroup`, 'utf8');
// The default lab's cgroup; named labs that other tests run at the same time live in `controllers-NAME`.
const inLab = (pid: number): boolean => cgroupOf(pid).includes(`/${LAB_NAME}/controllers/`);
const inNamedLab = (pid: number): boolean => cgroupOf(pid).includes(`/${LAB_NAME}/controllers-`);

/** Live (non-zombie) processes in the lab's cgroups, or that are systemd-nspawn. */
function labProcesses(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      const pid = Number(entry);
      if (inLab(pid) || (stat.includes('(systemd-nspawn)') && !inNamedLab(pid))) found.push(pid);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

const netNamespaceOf = (pid: number): string => readlinkSync(`/proc/${pid}/ns/net`);
const allNetNamespaces = (): Set<string> => {
  const seen = new Set<string>();
  for (const entry of readdirSync('/proc')) {
    try {
      if (/^\d+$/.test(entry)) seen.add(readlinkSync(`/proc/${entry}/ns/net`));
    } catch {
      // gone
    }
  }
  return seen;
};
const links = async (): Promise<string> => (await execFileP('ip', ['-o', 'link', 'show'])).stdout;

t.test('lab up, status, kill -9 of one nspawn, down: nothing left', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root: the lab boots containers, mounts overlays and makes a bridge');
  const netnsBefore = (await execFileP('ip', ['netns', 'list'])).stdout;
  t.teardown(() => lab('down'));
  await lab('down'); // whatever an earlier run left

  const up = await lab('up', '2');
  t.match(up.stdout, /controller-1 {2}10\.240\.0\.11/);
  const inventory = parse(readFileSync(INVENTORY, 'utf8')) as {
    all: { children: { controllers: { hosts: Record<string, { ansible_host: string }>; vars: Record<string, string> } } };
  };
  const controllers = inventory.all.children.controllers;
  t.same(controllers.hosts, { 'controller-0': { ansible_host: '10.240.0.10' }, 'controller-1': { ansible_host: '10.240.0.11' } });
  t.equal(controllers.vars.kplay_known_hosts, `${DEFAULT_STATE_DIR}/known_hosts`);
  t.equal(controllers.vars.ansible_ssh_known_hosts_file, `${DEFAULT_STATE_DIR}/known_hosts`);

  const state = await readLabState();
  if (!state) throw new Error('no lab state after up');
  // Strict host key checking against the known_hosts written before boot: no trust on first use.
  for (const host of state.hosts) {
    const r = await sshRun(state, host.name, 'hostname; systemctl is-active ssh nginx; systemctl is-enabled etcd');
    t.equal(r.stdout, `${host.name}\nactive\nactive\ndisabled\n`, `${host.name} runs sshd and nginx, etcd installed but off`);
  }
  t.match((await status()), /controller-0 {2}10\.240\.0\.10 {2}running, \d+ processes, ssh up/);

  const hostNetns = netNamespaceOf(process.pid);
  const containerNetns = [...new Set(labProcesses().map(netNamespaceOf))].filter((ns) => ns !== hostNetns);
  t.equal(containerNetns.length, 2, 'each container has a network namespace of its own');
  process.kill(state.hosts[0].pid, 'SIGKILL'); // the container stays up without its nspawn
  t.match((await status()), /controller-0 {2}10\.240\.0\.10 {2}running without its nspawn/);

  await lab('down');
  t.same(labProcesses(), [], 'no process');
  t.notOk(readFileSync('/proc/self/mountinfo', 'utf8').includes(DEFAULT_STATE_DIR), 'no mount');
  t.notMatch(await links(), /kplab0|vb-controller/, 'no bridge, no veth');
  const namespaces = allNetNamespaces();
  t.same(containerNetns.filter((ns) => namespaces.has(ns)), [], 'no network namespace of a container');
  t.equal((await execFileP('ip', ['netns', 'list'])).stdout, netnsBefore, 'no named network namespace');
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) t.notOk(existsSync(`/sys/fs/cgroup/${hierarchy}/${LAB_NAME}/controllers`), `no cgroup in ${hierarchy}`);
  const propagate = existsSync('/run/systemd/nspawn/propagate') ? readdirSync('/run/systemd/nspawn/propagate') : [];
  t.same(propagate.filter((name) => name.startsWith('controller-')), [], 'no nspawn propagate folder');
  t.notOk(existsSync(DEFAULT_STATE_DIR), 'no state folder');
  t.notOk(existsSync(INVENTORY), 'no inventory');
  t.equal((await status()).trim(), 'no lab');
});
