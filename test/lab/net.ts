// Building blocks for labs of test hosts on this machine: commands, bridges, veths, network namespaces, SSH keys.
// Generic on purpose: the netns fleet and the systemd-nspawn lab both build on these.

import { spawn } from 'node:child_process';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { connect } from 'node:net';

export interface RunOptions {
  input?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Exit codes that are not an error (default only 0). */
  okCodes?: number[];
}

/** Run a program (no shell) and return its stdout; a failure names the command and carries its stderr. */
export function run(program: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = options.env ? { ...process.env, ...options.env } : process.env;
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== null && (options.okCodes ?? [0]).includes(code)) resolve(Buffer.concat(out).toString());
      else reject(new Error(`${program} ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString().trim()}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Several `ip` commands in one process (`ip -batch`): much faster than one process each. */
export async function ipBatch(lines: string[], netns?: string): Promise<void> {
  if (lines.length === 0) return;
  await run('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/** A bridge in the root namespace holding `cidr` (e.g. 10.241.0.1/16), up; with `mac`, a fixed MAC address. */
export function bridgeCommands(bridge: string, cidr: string, mac?: string): string[] {
  return [`link add ${bridge}${mac ? ` address ${mac}` : ''} type bridge`, `addr add ${cidr} dev ${bridge}`, `link set ${bridge} up`];
}

/**
 * A network namespace joined to `bridge` by a veth pair whose inner end is `eth0` (root-namespace side). With
 * `innerMac`, eth0 gets that MAC address, and the outer end no IPv6 link-local address (a bridge port needs none; each
 * one would join multicast groups, and its reports flood every other port of the bridge).
 */
export function namespaceOnBridgeCommands(netns: string, veth: string, bridge: string, innerMac?: string): string[] {
  if (!innerMac) return [`netns add ${netns}`, `link add ${veth} type veth peer name eth0 netns ${netns}`, `link set ${veth} master ${bridge} up`];
  return [
    `netns add ${netns}`,
    `link add ${veth} type veth peer name eth0 address ${innerMac} netns ${netns}`,
    `link set ${veth} addrgenmode none`,
    `link set ${veth} master ${bridge} up`,
  ];
}

/** Inside the namespace: the address on eth0, eth0 and lo up (run with `ipBatch(lines, netns)`). */
export function namespaceAddressCommands(cidr: string, gateway?: string): string[] {
  const lines = [`addr add ${cidr} dev eth0`, 'link set eth0 up', 'link set lo up'];
  if (gateway) lines.push(`route add default via ${gateway}`);
  return lines;
}

/**
 * A locally administered MAC address made from an IPv4 address (02:6b:AA:BB:CC:DD): one per address, known in advance,
 * so both ends of a link can be told each other's MAC before any packet (see `permanentNeighbourCommand`).
 */
export function macForAddress(address: string): string {
  return ['02', '6b', ...address.split('.').map((part) => Number(part).toString(16).padStart(2, '0'))].join(':');
}

/**
 * A permanent neighbour (ARP) entry: the kernel never resolves, expires or garbage-collects it, and it does not count
 * against the machine-wide table limit (net.ipv4.neigh.default.gc_thresh3, 1024 here, shared by every namespace).
 * Resolved entries do count: 1000 hosts on one bridge need 2000 (one per host in the root namespace, one for the bridge
 * in each host) and the table overflows. The entry goes away with its device.
 */
export function permanentNeighbourCommand(address: string, mac: string, device: string): string {
  return `neigh replace ${address} lladdr ${mac} dev ${device} nud permanent`;
}

/** Names of network namespaces that start with `prefix`. */
export async function listNamespaces(prefix: string): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name.startsWith(prefix));
}

/** Names of links in the root namespace that start with `prefix`. */
export async function listLinks(prefix: string): Promise<string[]> {
  const out = await run('ip', ['-o', 'link', 'show']);
  return out
    .split('\n')
    .map((line) => line.split(': ')[1]?.split('@')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}

/** PIDs of every process in each of these network namespaces (one scan of /proc, as `ip netns pids` does per name). */
export async function namespacePids(netnsNames: string[]): Promise<Map<string, number[]>> {
  const byInode = new Map<number, string>();
  for (const name of netnsNames) {
    const st = await stat(`/run/netns/${name}`).catch(() => undefined);
    if (st) byInode.set(st.ino, name);
  }
  const pids = new Map<string, number[]>(netnsNames.map((name) => [name, []]));
  if (byInode.size === 0) return pids;
  await Promise.all(
    (await readdir('/proc'))
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (pid) => {
        const link = await readlink(`/proc/${pid}/ns/net`).catch(() => '');
        const name = byInode.get(Number(/\[(\d+)\]/.exec(link)?.[1]));
        if (name) pids.get(name)?.push(Number(pid));
      }),
  );
  return pids;
}

/** SIGKILL every process in these namespaces and wait until they are gone. */
export async function killNamespaceProcesses(netnsNames: string[]): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const pids = [...(await namespacePids(netnsNames)).values()].flat();
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(20);
  }
  throw new Error(`processes in ${netnsNames.join(', ')} survive SIGKILL`);
}

/** Generate an unencrypted key pair (FILE and FILE.pub); returns the public key line. */
export async function generateKey(file: string, comment: string, type = 'ed25519'): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', comment, '-f', file]);
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

/** One known_hosts line for a host key, in the form OpenSSH writes (`[addr]:port` unless port 22). */
export function knownHostsLine(address: string, port: number, publicKeyLine: string): string {
  const [type, blob] = publicKeyLine.split(' ');
  return `${port === 22 ? address : `[${address}]:${port}`} ${type} ${blob}`;
}

/** The `index`-th address (0-based) after the base of `subnet` ("10.241.0.0/16", index 1 → 10.241.0.1). */
export function addressInSubnet(subnet: string, index: number): string {
  const [base, bits] = subnet.split('/');
  const n = ipv4ToNumber(base) + index;
  const size = 2 ** (32 - Number(bits));
  if (index <= 0 || index >= size - 1) throw new Error(`address #${index} does not fit in ${subnet}`);
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** Whether two IPv4 networks ("10.1.0.0/16") share any address. */
export function networksOverlap(a: string, b: string): boolean {
  const [baseA, bitsA] = a.split('/');
  const [baseB, bitsB] = b.split('/');
  const bits = Math.min(Number(bitsA ?? 32), Number(bitsB ?? 32));
  const size = 2 ** (32 - bits);
  return Math.floor(ipv4ToNumber(baseA) / size) === Math.floor(ipv4ToNumber(baseB) / size);
}

/** IPv4 networks this machine already routes (every address and route): a new lab subnet must not overlap them. */
export async function usedIpv4Networks(): Promise<string[]> {
  const routes = await run('ip', ['-4', '-o', 'route', 'show', 'table', 'all']);
  return routes
    .split('\n')
    .map((line) => line.split(' ').find((word, i) => i <= 1 && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(word)))
    .filter((network): network is string => network !== undefined)
    .map((network) => (network.includes('/') ? network : `${network}/32`));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolve once something accepts TCP connections on address:port; reject after `timeoutMs`. */
export async function waitForTcp(address: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${address}:${port} after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/**
 * Why a lab cannot run here, or undefined when it can: labs need root (namespaces, bridges, mounts) and some programs.
 */
export async function labUnavailableReason(programs: string[]): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the lab needs root: it creates network namespaces, a bridge and mounts';
  const missing: string[] = [];
  for (const program of programs) {
    try {
      await run('sh', ['-c', `command -v ${program}`]);
    } catch {
      missing.push(program);
    }
  }
  return missing.length ? `the lab needs these programs, not found on PATH: ${missing.join(', ')}` : undefined;
}
