// A fleet of light test hosts on this machine: each a network namespace with its own address on a bridge, its own
// sshd and host key, and private copies of the folders tasks write (overlays over the real ones, a fresh /root and /tmp)
// mounted inside the host's own mount namespace: they vanish with its processes, the root namespace gets no mounts.
// See /work/shared/lab-facts.md §2. Root only.

import { spawn } from 'node:child_process';
import { chmod, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { stringify } from 'yaml';
import {
  addressInSubnet,
  bridgeCommands,
  generateKey,
  ipBatch,
  killNamespaceProcesses,
  knownHostsLine,
  listLinks,
  listNamespaces,
  macForAddress,
  namespaceAddressCommands,
  namespaceOnBridgeCommands,
  namespacePids,
  networksOverlap,
  permanentNeighbourCommand,
  run,
  sleep,
  usedIpv4Networks,
  waitForTcp,
} from './net.ts';

export interface FleetHost {
  /** Inventory name, also the host's hostname. */
  name: string;
  address: string;
  /**
   * The host's file system seen from outside while it is up (`/proc/<sshd>/root`): `${root}/etc/x` is its `/etc/x`.
   * What it wrote stays in `layers` (overlay upper folders: `${layers}/upper/etc/x`) after it stops.
   */
  root: string;
  layers: string;
  netns: string;
  sshdPid: number;
  /** Its sshd host key, as a `.pub` line (`ssh-ed25519 AAAA… name`). */
  hostPublicKey: string;
}

export interface Fleet {
  name: string;
  hosts: FleetHost[];
  inventoryFile: string;
  knownHostsFile: string;
  /** Private key (ed25519) that logs in as root on every host. */
  keyFile: string;
  /** Kill every process of one host (its sshd and all sessions): the host goes down. */
  stopHost(hostName: string): Promise<void>;
  /** Kill a host's SSH sessions but not its sshd or the commands they started: connections drop, the host lives. */
  dropConnections(hostName: string): Promise<void>;
  stop(): Promise<void>;
}

export interface FleetOptions {
  count: number;
  /** Short name (lowercase letters and digits, ≤ 8), used in every namespace, link and folder name. */
  name?: string;
  /**
   * The bridge takes the first address; hosts take .10 onwards. Must not overlap a network this machine routes
   * (another lab); default: a free 10.x.0.0/16 between 10.200 and 10.239.
   */
  subnet?: string;
  /** Let users with a password log in with it too (root still needs the key): for connection-password tests. */
  passwordLogin?: boolean;
  /**
   * Folders (of those a host gets private: /srv, /tmp, /root, ...) each host gets as an empty tmpfs instead, gone when
   * it stops. For the bench: this machine's root file system has no journal, and ext4 without one skips every inode
   * freed in the last minutes when it makes a file (recently_deleted() in its inode allocator), so a run that writes
   * just after the bench emptied the hosts' folders spent 0.1 to 0.2 s of a 10-host cold run in the host's kernel.
   */
  tmpfs?: string[];
}

const LAB_DIR = '/run/kplay-lab';
/** Folders a host gets a private writable copy of (overlay over the real one: same content, own writes). */
const OVERLAID = ['/etc', '/opt', '/srv', '/usr/local', '/var/lib', '/var/log', '/home'];
/** Folders a host gets empty and its own: a clean home (no pyenv .bashrc, lab-facts §4) and /tmp. */
const FRESH: Array<[string, number]> = [
  ['/root', 0o700],
  ['/tmp', 0o1777],
];
const FIRST_HOST_INDEX = 10;
/** Hosts starting at once (each: ip, unshare, sh, 9 mounts, sshd), on a machine of 2 cores. */
const START_AT_ONCE = 16;
/** One host, from its start to its sshd listening, on a loaded machine. */
const START_TIMEOUT_MS = 60_000;

const names = (name: string) => ({
  dir: join(LAB_DIR, `fleet-${name}`),
  bridge: `kp-${name}`,
  netnsPrefix: `kp-${name}-`,
  vethPrefix: `kp${name}-`,
});

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const name = options.name ?? 'fleet';
  if (!/^[a-z][a-z0-9]{0,7}$/.test(name)) throw new Error(`fleet name must be 1-8 lowercase letters or digits: ${name}`);
  const { dir, bridge, netnsPrefix, vethPrefix } = names(name);
  await cleanupStale(name);
  const subnet = await chooseSubnet(name, options.subnet);
  const prefix = subnet.split('/')[1];
  await mkdir(join(dir, 'hosts'), { recursive: true });
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation folder

  const keyFile = join(dir, 'id_ed25519');
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, `${await generateKey(keyFile, `kplay-lab-${name}`)}\n`, { mode: 0o644 });

  const gateway = { address: addressInSubnet(subnet, 1), mac: macForAddress(addressInSubnet(subnet, 1)) };
  const hosts = Array.from({ length: options.count }, (_, i): HostPlan => {
    const address = addressInSubnet(subnet, FIRST_HOST_INDEX + i);
    return {
      name: `${name}-${i + 1}`,
      address,
      mac: macForAddress(address),
      layers: join(dir, 'hosts', `${name}-${i + 1}`),
      netns: `${netnsPrefix}${i + 1}`,
      veth: `${vethPrefix}${i + 1}`,
    };
  });
  const fleetHosts: FleetHost[] = [];
  const stop = () => cleanupStale(name);
  try {
    // Every MAC is fixed and both ends know each other's from the start (permanent neighbour entries): no ARP, and
    // nothing in the kernel's neighbour table that counts against its machine-wide limit (see permanentNeighbourCommand).
    await ipBatch([
      ...bridgeCommands(bridge, `${gateway.address}/${prefix}`, gateway.mac),
      ...hosts.flatMap((h) => [...namespaceOnBridgeCommands(h.netns, h.veth, bridge, h.mac), permanentNeighbourCommand(h.address, h.mac, bridge)]),
    ]);
    const tmpfs = new Set(options.tmpfs);
    for (const folder of tmpfs) {
      if (!OVERLAID.includes(folder) && !FRESH.some(([fresh]) => fresh === folder)) throw new Error(`a fleet host has no private ${folder} to make a tmpfs`);
    }
    const site: Site = { dir, authorizedKeys, passwordLogin: options.passwordLogin ?? false, prefix, gateway, tmpfs };
    // A few hosts start at a time, each until its sshd listens: the machine's cores do the same work in any order, and
    // a host's own wait does not grow with the fleet. The first failure stops the rest from starting.
    const limit = pLimit(START_AT_ONCE);
    let failure: Error | undefined;
    const settled = await Promise.allSettled(
      hosts.map((h) =>
        limit(async () => {
          if (failure) throw failure;
          return startHost(h, site).catch((error: Error) => {
            failure ??= error;
            throw error;
          });
        }),
      ),
    );
    if (failure) throw failure;
    const started = settled.map((s) => (s as PromiseFulfilledResult<{ hostKey: string; sshdPid: number }>).value);
    // One TCP connection to every host from this namespace, the way tools reach them: addresses, links and neighbours work.
    const connect = pLimit(64);
    await Promise.all(
      hosts.map((h) => connect(() => waitForTcp(h.address, 22, 10_000).catch((error: Error) => Promise.reject(new Error(`${h.name}: ${error.message}`))))),
    );
    hosts.forEach(({ name: hostName, address, layers, netns }, i) => {
      const { sshdPid, hostKey } = started[i];
      fleetHosts.push({ name: hostName, address, root: `/proc/${sshdPid}/root`, layers, netns, sshdPid, hostPublicKey: hostKey });
    });
    const knownHostsFile = join(dir, 'known_hosts');
    await writeFile(knownHostsFile, fleetHosts.map((h) => `${knownHostsLine(h.address, 22, h.hostPublicKey)}\n`).join(''), {
      mode: 0o600,
    });
    const find = (hostName: string) => {
      const host = fleetHosts.find((h) => h.name === hostName);
      if (!host) throw new Error(`no host ${hostName} in fleet ${name}`);
      return host;
    };
    const inventoryFile = join(dir, 'inventory.yml');
    await writeFile(inventoryFile, inventory(fleetHosts, keyFile, knownHostsFile));
    return {
      name,
      hosts: fleetHosts,
      inventoryFile,
      knownHostsFile,
      keyFile,
      stop,
      stopHost: (hostName) => killNamespaceProcesses([find(hostName).netns]),
      dropConnections: async (hostName) => {
        const host = find(hostName);
        for (const pid of (await namespacePids([host.netns])).get(host.netns) ?? []) {
          const command = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
          if (pid !== host.sshdPid && command.trim() === 'sshd') process.kill(pid, 'SIGKILL');
        }
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface HostPlan {
  name: string;
  address: string;
  mac: string;
  layers: string;
  netns: string;
  veth: string;
}

/** What every host of one fleet shares. */
interface Site {
  dir: string;
  authorizedKeys: string;
  passwordLogin: boolean;
  tmpfs: Set<string>;
  prefix: string;
  /** The bridge's address and MAC: each host's permanent neighbour. */
  gateway: { address: string; mac: string };
}

/**
 * Start the host's sshd inside its network namespace, in a mount namespace of its own with its private folders, and
 * wait until it listens (sshd writes its PidFile once its socket is bound). Its start script's errors and sshd's
 * log are in the error if it does not.
 */
async function startHost(host: HostPlan, site: Site): Promise<{ hostKey: string; sshdPid: number }> {
  const sshdDir = join(site.dir, 'sshd', host.name);
  await mkdir(sshdDir, { recursive: true });
  const hostKey = await generateKey(join(sshdDir, 'ssh_host_ed25519_key'), host.name);
  const config = join(sshdDir, 'sshd_config');
  const pidFile = join(sshdDir, 'sshd.pid');
  await writeFile(config, sshdConfig(host.address, sshdDir, site.authorizedKeys, site.passwordLogin));

  const inside = [
    'link set eth0 addrgenmode none', // no IPv6 link-local address: no multicast reports flooding the bridge
    ...namespaceAddressCommands(`${host.address}/${site.prefix}`),
    permanentNeighbourCommand(site.gateway.address, site.gateway.mac, 'eth0'),
  ];
  // Its private folders, in one `mount --all` of a table of its own (a mount process per folder was 9 per host).
  const fstab: string[] = [];
  for (const folder of OVERLAID) {
    if (site.tmpfs.has(folder)) {
      fstab.push(`tmpfs ${folder} tmpfs mode=0${((await stat(folder)).mode & 0o7777).toString(8)} 0 0`);
      continue;
    }
    const [upper, work] = [join(host.layers, 'upper', folder), join(host.layers, 'work', folder)];
    await Promise.all([mkdir(upper, { recursive: true }), mkdir(work, { recursive: true })]);
    fstab.push(`overlay ${folder} overlay lowerdir=${folder},upperdir=${upper},workdir=${work} 0 0`);
  }
  for (const [folder, mode] of FRESH) {
    if (site.tmpfs.has(folder)) {
      fstab.push(`tmpfs ${folder} tmpfs mode=0${mode.toString(8)} 0 0`);
      continue;
    }
    const own = join(host.layers, 'fresh', folder);
    await mkdir(own, { recursive: true });
    await chmod(own, mode);
    fstab.push(`${own} ${folder} none bind 0 0`);
  }
  const fstabFile = join(sshdDir, 'fstab');
  await writeFile(fstabFile, `${fstab.join('\n')}\n`);
  const script: string[] = ['set -e', `ip -batch - <<'EOF'\n${inside.join('\n')}\nEOF`, `mount --all --fstab ${fstabFile}`];
  // sudo resolves its own name; the hostname is written where `hostname` would write it, without its process.
  script.push(`echo '${host.address} ${host.name}' >> /etc/hosts`, `echo ${host.name} > /proc/sys/kernel/hostname`);
  script.push(`exec /usr/sbin/sshd -D -f ${config} -E ${join(sshdDir, 'sshd.log')}`);
  const startLog = join(sshdDir, 'start.log');
  const log = await open(startLog, 'w');
  const child = spawn('ip', ['netns', 'exec', host.netns, 'unshare', '-m', '-u', '--propagation', 'private', 'sh', '-c', script.join('\n')], {
    detached: true,
    stdio: ['ignore', 'ignore', log.fd],
  });
  await log.close();
  child.unref();
  if (child.pid === undefined) throw new Error(`cannot start sshd for ${host.name}`);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited ${code ?? signal}`));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await stat(pidFile).then((st) => st.size > 0).catch(() => false))) {
    if (exited || Date.now() > deadline) {
      const logs = await Promise.all([startLog, join(sshdDir, 'sshd.log')].map((f) => readFile(f, 'utf8').catch(() => '')));
      const why = exited ?? `not listening after ${START_TIMEOUT_MS / 1000} s`;
      throw new Error(`sshd of ${host.name} ${why}: ${logs.join('').trim() || '(no output)'}`);
    }
    await sleep(20);
  }
  return { hostKey, sshdPid: child.pid }; // ip, unshare and sh all exec: this PID is sshd's
}

/** sshd's files (config, host key, pid, log) live in `sshdDir`, outside the host's private folders. */
function sshdConfig(address: string, sshdDir: string, authorizedKeys: string, passwordLogin: boolean): string {
  return [
    `ListenAddress ${address}`,
    `HostKey ${join(sshdDir, 'ssh_host_ed25519_key')}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    `PidFile ${join(sshdDir, 'sshd.pid')}`,
    'PermitRootLogin prohibit-password',
    `PasswordAuthentication ${passwordLogin ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'MaxSessions 64',
    'MaxStartups 200',
    'PrintMotd no',
    'PrintLastLog no',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

function inventory(hosts: FleetHost[], keyFile: string, knownHostsFile: string): string {
  const hostVars = Object.fromEntries(
    hosts.map((h) => [h.name, { ansible_host: h.address, ansible_user: 'root', ansible_ssh_private_key_file: keyFile }]),
  );
  const vars = {
    kplay_known_hosts_file: knownHostsFile,
    // So Ansible itself can run against the fleet for comparisons, with the same strict host key checking.
    ansible_ssh_common_args: `-o UserKnownHostsFile=${knownHostsFile} -o StrictHostKeyChecking=yes`,
  };
  return stringify({ all: { children: { fleet: { hosts: hostVars, vars } } } });
}

/**
 * The subnet asked for, if no network here overlaps it (two bridges on one subnet make both labs unreachable), or a
 * free one. Free candidates start at a place that depends on the name, so fleets started at the same moment differ.
 */
async function chooseSubnet(name: string, wanted: string | undefined): Promise<string> {
  const used = await usedIpv4Networks();
  const clash = (subnet: string) => used.find((network) => networksOverlap(subnet, network));
  if (wanted) {
    const other = clash(wanted);
    if (other) throw new Error(`subnet ${wanted} for fleet ${name} overlaps ${other}, already routed here (another lab?)`);
    return wanted;
  }
  const start = [...name].reduce((sum, c) => sum + c.charCodeAt(0), 0);
  for (let i = 0; i < 40; i++) {
    const subnet = `10.${200 + ((start + i) % 40)}.0.0/16`;
    if (!clash(subnet)) return subnet;
  }
  throw new Error('no free subnet between 10.200.0.0/16 and 10.239.0.0/16');
}

/** Remove everything a fleet of this name may have left: processes, namespaces, links, mounts, folders. Idempotent. */
export async function cleanupStale(name: string): Promise<void> {
  const { dir, bridge, netnsPrefix, vethPrefix } = names(name);
  const namespaces = await listNamespaces(netnsPrefix);
  await killNamespaceProcesses(namespaces);
  // Namespaces first: the kernel then removes their veth pairs in one batch as it frees them (a `link del` per veth
  // waits for the network stack each time: 6 s for 200 hosts, against 0.3 s). Whatever is left after 10 s (a veth
  // whose namespace went earlier) is deleted one by one, then the bridge.
  await ipBatch(namespaces.map((ns) => `netns del ${ns}`));
  const deadline = Date.now() + 10_000;
  while ((await listLinks(vethPrefix)).length > 0 && Date.now() < deadline) await sleep(50);
  const links = [...(await listLinks(vethPrefix)), ...(await listLinks(bridge)).filter((l) => l === bridge)];
  await ipBatch(links.map((l) => `link del ${l}`));
  // Hosts mount only inside their own namespaces, but never delete through a mount another version may have left.
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((target): target is string => target !== undefined && target.startsWith(`${dir}/`));
  if (mounts.length) await run('umount', ['-l', ...mounts.sort((a, b) => b.length - a.length)]);
  await rm(dir, { recursive: true, force: true });
}
