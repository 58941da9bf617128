// Real systemd hosts for tests and demos: Debian containers under systemd-nspawn, each with sshd, nginx and etcd.
//
// Recipe (proven in /work/shared/lab-facts.md §1): one debootstrap base, cached outside the checkout; per container an
// overlay over it, with hostname, machine-id, sshd host keys (made here, so known_hosts is exact before boot) and a
// networkd address written before boot; nspawn started detached in a cgroup of its own, which is also how teardown
// finds every process it left. All state lives in one folder, so `down` and `status` work from another process.

import { spawn, execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile, chmod } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SshConnection } from '../../engine/connection/ssh.ts';
import {
  addressInSubnet, bridgeCommands, generateKey, ipBatch, knownHostsLine, listLinks, networksOverlap, run as must, sleep, usedIpv4Networks,
} from './net.ts';

export const LAB_NAME = 'kplay-lab';
// A folder of its own: the netns fleet (fleet.ts) keeps its labs beside it, in /run/kplay-lab/fleet-NAME.
export const DEFAULT_STATE_DIR = `/run/${LAB_NAME}/controllers`;
export const CACHE_DIR = `/var/cache/${LAB_NAME}`;
const SUITE = 'bookworm';
const BASE_DIR = join(CACHE_DIR, `base-${SUITE}`);
const BASE_STAMP = `${BASE_DIR}.stamp`;
// The default lab (`npm run lab`, the control-plane tests) has fixed addresses; a named lab (tests that run beside it)
// gets its own bridge, cgroup, state folder and a free /24 from 10.241 to 10.249.
const DEFAULT_LAB = { bridge: 'kplab0', subnet: '10.240.0.0/24', cgroup: 'controllers' };
const MAX_HOSTS = 20;
// Where each container gets a cgroup of its own: the name=systemd and unified trees on a hybrid layout (as here), the
// one tree on a pure cgroup v2 machine.
const CGROUP_ROOTS = existsSync('/sys/fs/cgroup/cgroup.controllers')
  ? ['/sys/fs/cgroup']
  : ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'].filter((dir) => existsSync(dir));
const PROPAGATE_DIR = '/run/systemd/nspawn/propagate';
// SIGRTMIN+4 asks systemd (as PID 1) to power off; glibc's SIGRTMIN is 34 on Linux.
const SIGRTMIN_PLUS_4 = 38;

/** Everything the base image holds: containers have no route out, so whatever a test needs must be here. */
export const BASE_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'openssh-server',
  'nginx-light',
  'iproute2',
  'python3',
  'sudo',
  'etcd-server',
  'etcd-client',
  'openssl',
  'curl',
  'procps',
  'ca-certificates',
];
// Bump when the way the base is prepared changes, so cached bases are rebuilt.
const BASE_RECIPE = 1;

export interface LabHost {
  name: string;
  address: string;
  /** PID of systemd-nspawn for this host. */
  pid: number;
}

export interface LabState {
  stateDir: string;
  /** The lab's cgroup below `<root>/kplay-lab/`, and the prefix of its containers' machine names. */
  cgroup: string;
  /** e.g. 10.240.0.0/24: the bridge takes .1, hosts .10 onwards. */
  subnet: string;
  hosts: LabHost[];
  inventoryPath: string;
  keyPath: string;
  knownHostsPath: string;
  bridge: string;
}

export interface Lab extends LabState {
  /** Power the hosts off and remove every trace: processes, mounts, cgroups, bridge, files. */
  stop(): Promise<void>;
}

export interface StartOptions {
  count?: number;
  /** A lab of its own beside the default one (own bridge, subnet, cgroup and state folder). */
  name?: string;
  stateDir?: string;
  /** Where to write the inventory (default: `<stateDir>/inventory.yml`). */
  inventoryPath?: string;
  /** Tear down a lab that is still running instead of failing. */
  replace?: boolean;
  /** Progress lines (base build, boot). */
  log?: (line: string) => void;
}

export interface CommandResult {
  rc: number;
  stdout: string;
  stderr: string;
}

/** Run a program without a shell; resolve with its exit code and output, whatever the code (`must` throws instead). */
export function run(file: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      if (error && typeof code !== 'number') {
        reject(error);
        return;
      }
      resolve({ rc: typeof code === 'number' ? code : 0, stdout, stderr });
    });
    child.stdin?.on('error', () => undefined); // the program may exit without reading its input
    child.stdin?.end(options.input ?? '');
  });
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the lab needs root: it mounts overlays, creates a bridge and cgroups, and boots containers');
  }
}

/** Install the host's tools from Debian when missing, so `up` works on a machine that never ran it. */
async function ensureHostTools(log: (line: string) => void): Promise<void> {
  const needed: Record<string, string> = {
    '/usr/bin/systemd-nspawn': 'systemd-container',
    '/usr/sbin/debootstrap': 'debootstrap',
    '/usr/bin/ssh': 'openssh-client',
    '/usr/bin/ssh-keygen': 'openssh-client',
    '/usr/sbin/ip': 'iproute2',
  };
  const missing = [...new Set(Object.entries(needed).filter(([bin]) => !existsSync(bin)).map(([, pkg]) => pkg))];
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')} with apt-get`);
  await must('apt-get', ['update', '-q']);
  await must('apt-get', ['install', '-y', '-q', '-o', 'DPkg::Lock::Timeout=600', ...missing]);
}

/** The Debian mirror this machine uses (first `URIs:` of debian.sources, or a `deb` line of sources.list). */
async function debianMirror(): Promise<string> {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const uris = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/m.exec(text)?.[1];
    if (uris && !uris.includes('security')) return uris;
  }
  return 'http://deb.debian.org/debian';
}

/** Build the base image once; a changed package list, mirror or recipe rebuilds it. Returns its path. */
export async function ensureBase(log: (line: string) => void = () => undefined): Promise<string> {
  const mirror = await debianMirror();
  const stamp = JSON.stringify({ suite: SUITE, mirror, packages: BASE_PACKAGES, recipe: BASE_RECIPE });
  if ((await readFile(BASE_STAMP, 'utf8').catch(() => '')) === stamp && existsSync(join(BASE_DIR, 'usr/bin/systemctl'))) {
    return BASE_DIR;
  }
  log(`building the base image ${BASE_DIR} from ${mirror} (about a minute, once)`);
  const building = `${BASE_DIR}.building`;
  await rm(building, { recursive: true, force: true });
  await rm(BASE_STAMP, { force: true });
  await mkdir(CACHE_DIR, { recursive: true });
  await must('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, SUITE, building, mirror]);
  // Each container gets its own host keys and machine-id; etcd is installed but not started.
  for (const entry of await readdir(join(building, 'etc/ssh'))) {
    if (entry.startsWith('ssh_host_')) await rm(join(building, 'etc/ssh', entry));
  }
  await writeFile(join(building, 'etc/machine-id'), '');
  await must('systemctl', [`--root=${building}`, 'disable', 'etcd.service']);
  await must('systemctl', [`--root=${building}`, 'enable', 'systemd-networkd.service']);
  await writeFile(
    join(building, 'etc/ssh/sshd_config.d/kplay-lab.conf'),
    '# kplay lab: one host key, made on the lab host before boot; keys only.\n' +
      'HostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\nPermitRootLogin prohibit-password\n',
  );
  await rm(join(building, 'var/cache/apt/archives'), { recursive: true, force: true });
  await mkdir(join(building, 'var/cache/apt/archives/partial'), { recursive: true });
  await rm(BASE_DIR, { recursive: true, force: true });
  await rename(building, BASE_DIR);
  await writeFile(BASE_STAMP, stamp);
  return BASE_DIR;
}

const stateFile = (stateDir: string): string => join(stateDir, 'lab.json');
const hostName = (index: number): string => `controller-${index}`;
const hostAddress = (subnet: string, index: number): string => addressInSubnet(subnet, 10 + index);
const cgroupPath = (root: string, lab: string, name?: string): string => join(root, LAB_NAME, lab, name ?? '');
const machineName = (lab: string, host: string): string => (lab === DEFAULT_LAB.cgroup ? host : `${lab}-${host}`);

/** Names and addresses of a lab: the default one, or a named one with a free subnet. */
async function labLayout(name: string | undefined): Promise<{ stateDir: string; bridge: string; subnet: string; cgroup: string }> {
  if (name === undefined) return { stateDir: DEFAULT_STATE_DIR, ...DEFAULT_LAB };
  if (!/^[a-z0-9]{1,10}$/.test(name)) throw new Error(`lab name must be 1-10 lowercase letters or digits, got "${name}"`);
  const bridge = `kpl-${name}`;
  const stateDir = `/run/${LAB_NAME}/controllers-${name}`;
  const previous = await readLabState(stateDir);
  if (previous) return { stateDir, bridge, subnet: previous.subnet, cgroup: `controllers-${name}` };
  const used = await usedIpv4Networks();
  // Start from a slot the name picks, so labs started at the same moment (before either has its bridge) differ.
  const start = [...name].reduce((sum, c) => (sum * 31 + c.charCodeAt(0)) % 9, 0);
  for (let i = 0; i < 9; i++) {
    const subnet = `10.${241 + ((start + i) % 9)}.0.0/24`;
    if (!used.some((network) => networksOverlap(subnet, network))) return { stateDir, bridge, subnet, cgroup: `controllers-${name}` };
  }
  throw new Error('no free subnet between 10.241.0.0/24 and 10.249.0.0/24 for another lab');
}

export async function readLabState(stateDir = DEFAULT_STATE_DIR): Promise<LabState | null> {
  const text = await readFile(stateFile(stateDir), 'utf8').catch(() => null);
  return text === null ? null : (JSON.parse(text) as LabState);
}

/** The process exists and is not a zombie (an orphaned nspawn may wait a while for init to reap it). */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Write what a host needs into its overlay before it boots. Returns its sshd public host key. */
async function prepareRoot(root: string, hostDir: string, name: string, address: string, publicKey: string): Promise<string> {
  await writeFile(join(root, 'etc/hostname'), `${name}\n`);
  await writeFile(join(root, 'etc/hosts'), `127.0.0.1 localhost\n127.0.1.1 ${name}\n`);
  await writeFile(join(root, 'etc/machine-id'), `${randomBytes(16).toString('hex')}\n`);
  const hostKey = join(hostDir, 'ssh_host_ed25519_key');
  const hostPublic = await generateKey(hostKey, `root@${name}`);
  await writeFile(join(root, 'etc/ssh/ssh_host_ed25519_key'), await readFile(hostKey), { mode: 0o600 });
  await writeFile(join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), `${hostPublic}\n`);
  await mkdir(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
  await writeFile(join(root, 'root/.ssh/authorized_keys'), `${publicKey}\n`, { mode: 0o600 });
  await writeFile(
    join(root, 'etc/systemd/network/10-host0.network'),
    `[Match]\nName=host0\n\n[Network]\nAddress=${address}/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`,
  );
  return hostPublic;
}

/** Start nspawn detached, in a cgroup of its own (`--keep-unit` makes nspawn use the cgroup it starts in). */
async function boot(lab: LabState, root: string, name: string, logPath: string): Promise<number> {
  for (const cgroupRoot of CGROUP_ROOTS) await mkdir(cgroupPath(cgroupRoot, lab.cgroup, name), { recursive: true });
  const joinCgroups = CGROUP_ROOTS.map((r) => `echo $$ > ${cgroupPath(r, lab.cgroup, name)}/cgroup.procs`).join(' && ');
  const nspawn = [
    'systemd-nspawn', '-q', '--register=no', '--keep-unit', '--link-journal=no', '--resolv-conf=off',
    '--timezone=off', '--console=read-only', '--kill-signal=SIGRTMIN+4', '-D', root, '-M', machineName(lab.cgroup, name), '-b',
    `--network-bridge=${lab.bridge}`,
  ].join(' ');
  const out = openSync(logPath, 'a');
  try {
    // detached: setsid, so the container outlives this process (and `npm run lab -- up` returns).
    const child = spawn('/bin/sh', ['-c', `${joinCgroups} && exec ${nspawn}`], { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start systemd-nspawn for ${name}`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

function tcpOpen(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: 500 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('data', () => done(true)); // sshd's banner: the daemon really answers
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** ssh options that trust only the lab's known_hosts and key, with the cheap key exchange (lab-facts §4). */
export function sshArgs(lab: Pick<LabState, 'keyPath' | 'knownHostsPath'>, address: string): string[] {
  return [
    '-i', lab.keyPath, '-o', `UserKnownHostsFile=${lab.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'KexAlgorithms=curve25519-sha256', '-o', 'LogLevel=ERROR',
    `root@${address}`,
  ];
}

/** Run a command on a lab host with the `ssh` client (tests use it to check what a module did, independently). */
export function sshRun(lab: Pick<LabState, 'keyPath' | 'knownHostsPath' | 'hosts'>, host: string, command: string): Promise<CommandResult> {
  const target = lab.hosts.find((h) => h.name === host || h.address === host);
  if (!target) throw new Error(`no lab host ${host}`);
  return run('ssh', [...sshArgs(lab, target.address), command]);
}

/** An SshConnection to a lab host, as the runner would open it from the inventory. */
export function openSsh(lab: Pick<LabState, 'keyPath' | 'knownHostsPath' | 'hosts'>, host: string): Promise<SshConnection> {
  const target = lab.hosts.find((h) => h.name === host);
  if (!target) throw new Error(`no lab host ${host}`);
  return SshConnection.open({
    hostName: target.name,
    address: target.address,
    port: 22,
    user: 'root',
    privateKeyFiles: [lab.keyPath],
    knownHostsFile: lab.knownHostsPath,
    acceptNewHostKeys: false,
    connectTimeoutMs: 5_000,
    keepaliveIntervalMs: 10_000,
  });
}

/** Wait until each host's sshd answers and systemd has finished booting. */
async function waitReady(state: LabState, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    state.hosts.map(async (host) => {
      while (!(await tcpOpen(host.address, 22))) {
        if (!alive(host.pid)) throw new Error(`${host.name}: systemd-nspawn exited; see ${join(state.stateDir, host.name, 'console.log')}`);
        if (Date.now() > deadline) throw new Error(`${host.name}: sshd did not answer on ${host.address}:22 in ${timeoutMs} ms`);
        await sleep(200);
      }
      const r = await sshRun(state, host.name, 'systemctl is-system-running --wait');
      if (!/^(running|degraded)/.test(r.stdout)) {
        throw new Error(`${host.name}: systemd did not finish booting: ${r.stdout.trim()} ${r.stderr.trim()}`);
      }
    }),
  );
}

function inventoryYaml(state: LabState): string {
  const hosts = state.hosts.map((h) => `        ${h.name}:\n          ansible_host: ${h.address}\n`).join('');
  return (
    `# Written by \`npm run lab -- up\`; removed by \`npm run lab -- down\`.\n` +
    `all:\n  children:\n    controllers:\n      hosts:\n${hosts}` +
    `      vars:\n` +
    `        ansible_user: root\n` +
    `        ansible_ssh_private_key_file: ${state.keyPath}\n` +
    `        ansible_ssh_known_hosts_file: ${state.knownHostsPath}\n` +
    `        kplay_known_hosts: ${state.knownHostsPath}\n` +
    `        ansible_ssh_common_args: -o UserKnownHostsFile=${state.knownHostsPath} -o StrictHostKeyChecking=yes\n` +
    `        ansible_python_interpreter: /usr/bin/python3\n`
  );
}

/** Boot `count` systemd hosts controller-0..count-1 at 10.240.0.10.. on bridge kplab0, ready for SSH. */
export async function startControllers(options: StartOptions = {}): Promise<Lab> {
  requireRoot();
  const count = options.count ?? 3;
  const layout = await labLayout(options.name);
  const stateDir = options.stateDir ?? layout.stateDir;
  const log = options.log ?? (() => undefined);
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) throw new Error(`host count must be 1..${MAX_HOSTS}, got ${count}`);
  const previous = await readLabState(stateDir);
  if (previous && previous.hosts.some((h) => alive(h.pid)) && !options.replace) {
    throw new Error(`a lab is already running (${stateDir}); stop it first with \`npm run lab -- down\``);
  }
  await stopLab(stateDir); // leftovers of a lab that died or was killed
  await ensureHostTools(log);
  const base = await ensureBase(log);

  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const state: LabState = {
    stateDir,
    hosts: [],
    inventoryPath: options.inventoryPath ?? join(stateDir, 'inventory.yml'),
    keyPath: join(stateDir, 'id_ed25519'),
    knownHostsPath: join(stateDir, 'known_hosts'),
    bridge: layout.bridge,
    subnet: layout.subnet,
    cgroup: layout.cgroup,
  };
  // Record the lab before anything runs, so a failure half-way is still cleaned up by `down`.
  const save = (): Promise<void> => writeFile(stateFile(stateDir), JSON.stringify(state, null, 2));
  await save();
  try {
    const publicKey = await generateKey(state.keyPath, LAB_NAME);
    await ipBatch(bridgeCommands(state.bridge, `${addressInSubnet(state.subnet, 1)}/24`));

    const knownHosts: string[] = [];
    for (let i = 0; i < count; i++) {
      const name = hostName(i);
      const address = hostAddress(state.subnet, i);
      const hostDir = join(stateDir, name);
      const [upper, work, root] = ['upper', 'work', 'root'].map((d) => join(hostDir, d));
      for (const dir of [upper, work, root]) await mkdir(dir, { recursive: true });
      await must('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base},upperdir=${upper},workdir=${work}`, root]);
      const hostKey = await prepareRoot(root, hostDir, name, address, publicKey);
      knownHosts.push(knownHostsLine(address, 22, hostKey), knownHostsLine(name, 22, hostKey));
      state.hosts.push({ name, address, pid: await boot(state, root, name, join(hostDir, 'console.log')) });
      await save();
    }
    await writeFile(state.knownHostsPath, `${knownHosts.join('\n')}\n`);
    log(`booting ${count} host(s)`);
    await waitReady(state, 60_000);
    await mkdir(dirname(state.inventoryPath), { recursive: true });
    await writeFile(state.inventoryPath, inventoryYaml(state));
    await chmod(state.keyPath, 0o600);
  } catch (error) {
    await stopLab(stateDir);
    throw error;
  }
  return { ...state, stop: () => stopLab(stateDir) };
}

/** Every PID in a cgroup and its children. */
async function cgroupPids(dir: string): Promise<number[]> {
  const pids: number[] = [];
  const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  for (const line of procs.split('\n')) if (line) pids.push(Number(line));
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) pids.push(...(await cgroupPids(join(dir, entry.name))));
  return pids;
}

/** Remove a cgroup tree, children first (a cgroup can only be removed empty of processes and children). */
async function removeCgroup(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
  if (entries === null) return;
  for (const entry of entries) if (entry.isDirectory()) await removeCgroup(join(dir, entry.name));
  await rmdir(dir).catch(() => undefined);
}

/** A container's PID 1: the process in its tree that is PID 1 in its own PID namespace. */
async function containerInits(pids: number[]): Promise<number[]> {
  const inits: number[] = [];
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1].trim().split(/\s+/);
    if (nspid && nspid.length > 1 && nspid[nspid.length - 1] === '1') inits.push(pid);
  }
  return inits;
}

const labPids = async (lab: string): Promise<number[]> =>
  [...new Set((await Promise.all(CGROUP_ROOTS.map((r) => cgroupPids(cgroupPath(r, lab))))).flat())];

/** The cgroup a state folder's lab lives in, also when its state file is gone (a crashed `up`). */
const cgroupOfStateDir = (stateDir: string, state: LabState | null): string =>
  state?.cgroup ?? (stateDir === DEFAULT_STATE_DIR ? DEFAULT_LAB.cgroup : stateDir.split('/').pop() ?? DEFAULT_LAB.cgroup);

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  return check();
}

function signal(pid: number, sig: NodeJS.Signals | number): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Stop the lab and remove every trace. Works from the lab's cgroups and folder, not only its state file, so it also
 * cleans up after a crashed `up` or a `kill -9` of nspawn (which leaves the container running, reparented).
 */
export async function stopLab(stateDir = DEFAULT_STATE_DIR): Promise<void> {
  requireRoot();
  const state = await readLabState(stateDir);
  const lab = cgroupOfStateDir(stateDir, state);
  const labPidsNow = (): Promise<number[]> => labPids(lab);
  // Polite first: nspawn powers its container off on SIGTERM; orphaned containers get SIGRTMIN+4 on their PID 1.
  for (const host of state?.hosts ?? []) signal(host.pid, 'SIGTERM');
  for (const init of await containerInits(await labPidsNow())) signal(init, SIGRTMIN_PLUS_4);
  if (!(await waitUntil(async () => (await labPidsNow()).length === 0, 10_000))) {
    await waitUntil(async () => {
      for (const pid of await labPidsNow()) signal(pid, 'SIGKILL');
      return (await labPidsNow()).length === 0;
    }, 5_000);
  }
  const left = await labPidsNow();
  if (left.length > 0) throw new Error(`processes of the lab would not die: ${left.join(' ')}`);

  const mountInfo = await readFile('/proc/self/mountinfo', 'utf8');
  const mounts = mountInfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && point.startsWith(`${stateDir}/`))
    .sort((a, b) => b.length - a.length); // deepest first
  for (const point of mounts) {
    // Lazy unmount only as a fallback: a busy overlay must not keep `down` from finishing.
    if ((await run('umount', [point])).rc !== 0) await must('umount', ['-l', point]);
  }
  for (const cgroupRoot of CGROUP_ROOTS) {
    await removeCgroup(cgroupPath(cgroupRoot, lab));
    await rmdir(join(cgroupRoot, LAB_NAME)).catch(() => undefined); // only when no other lab is left in it
  }
  const names = new Set(state?.hosts.map((h) => machineName(lab, h.name)) ?? []);
  const ownPrefix = lab === DEFAULT_LAB.cgroup ? 'controller-' : `${lab}-`;
  for (const entry of await readdir(PROPAGATE_DIR).catch(() => [])) if (names.has(entry) || entry.startsWith(ownPrefix)) {
    await rm(join(PROPAGATE_DIR, entry), { recursive: true, force: true });
  }
  const bridge = state?.bridge ?? (lab === DEFAULT_LAB.cgroup ? DEFAULT_LAB.bridge : `kpl-${lab.replace(/^controllers-/, '')}`);
  if ((await listLinks(bridge)).includes(bridge)) await must('ip', ['link', 'del', bridge]);
  if (state && !state.inventoryPath.startsWith(`${stateDir}/`)) {
    await rm(state.inventoryPath, { force: true });
    await rmdir(dirname(state.inventoryPath)).catch(() => undefined); // the folder too, when `up` made it for this file
  }
  await rm(stateDir, { recursive: true, force: true });
}

export interface HostStatus {
  name: string;
  address: string;
  /** Its systemd-nspawn is alive. */
  nspawn: boolean;
  /** Processes in the host's cgroup (0: the host is off). */
  processes: number;
  /** sshd answers on port 22. */
  ssh: boolean;
}

/** What runs of the lab, for `npm run lab -- status`. */
export async function labStatus(stateDir = DEFAULT_STATE_DIR): Promise<{ state: LabState | null; hosts: HostStatus[] }> {
  const state = await readLabState(stateDir);
  const hosts = await Promise.all(
    (state?.hosts ?? []).map(async (h) => ({
      name: h.name,
      address: h.address,
      nspawn: alive(h.pid),
      processes: (await cgroupPids(cgroupPath(CGROUP_ROOTS[0], state?.cgroup ?? DEFAULT_LAB.cgroup, h.name))).length,
      ssh: await tcpOpen(h.address, 22),
    })),
  );
  return { state, hosts };
}
