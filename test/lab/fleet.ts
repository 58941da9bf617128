// A fleet of light test hosts on this machine: each a network namespace with its own address on a bridge, its own
// sshd and host key, and private copies of the folders tasks write (overlays over the real ones, a fresh /root and /tmp)
// mounted inside the host's own mount namespace: they vanish with its processes, the root namespace gets no mounts.
// See /work/shared/lab-facts.md §2. Root only.

import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  namespaceAddressCommands,
  namespaceOnBridgeCommands,
  namespacePids,
  networksOverlap,
  run,
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

  const hosts = Array.from({ length: options.count }, (_, i) => ({
    name: `${name}-${i + 1}`,
    address: addressInSubnet(subnet, FIRST_HOST_INDEX + i),
    layers: join(dir, 'hosts', `${name}-${i + 1}`),
    netns: `${netnsPrefix}${i + 1}`,
    veth: `${vethPrefix}${i + 1}`,
  }));
  const fleetHosts: FleetHost[] = [];
  const stop = () => cleanupStale(name);
  try {
    await ipBatch([
      ...bridgeCommands(bridge, `${addressInSubnet(subnet, 1)}/${prefix}`),
      ...hosts.flatMap((h) => namespaceOnBridgeCommands(h.netns, h.veth, bridge)),
    ]);
    const limit = pLimit(8);
    const started = await Promise.all(
      hosts.map((h) =>
        limit(async () => {
          await ipBatch(namespaceAddressCommands(`${h.address}/${prefix}`), h.netns);
          await mkdir(join(dir, 'sshd', h.name), { recursive: true });
          const hostKey = await generateKey(join(dir, 'sshd', h.name, 'ssh_host_ed25519_key'), h.name);
          const sshdPid = await startHost(h, dir, authorizedKeys, options.passwordLogin ?? false);
          return { host: h, hostKey, sshdPid };
        }),
      ),
    );
    await Promise.all(
      hosts.map((h) =>
        // Hundreds of sshd starting at once on a loaded machine: 10 s, and 0.1 s more per host.
        waitForTcp(h.address, 22, Math.max(10_000, hosts.length * 100)).catch(async (error: Error) => {
          const log = await readFile(join(dir, 'sshd', h.name, 'sshd.log'), 'utf8').catch(() => '(no log)');
          throw new Error(`sshd of ${h.name} did not start: ${error.message}; its log: ${log.trim()}`);
        }),
      ),
    );
    for (const { host, sshdPid, hostKey } of started) {
      const { name: hostName, address, layers, netns } = host;
      fleetHosts.push({ name: hostName, address, root: `/proc/${sshdPid}/root`, layers, netns, sshdPid, hostPublicKey: hostKey });
    }
    const knownHostsFile = join(dir, 'known_hosts');
    await writeFile(knownHostsFile, started.map((s) => `${knownHostsLine(s.host.address, 22, s.hostKey)}\n`).join(''), {
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

/** Start the host's sshd inside its network namespace, in a mount namespace of its own with its private folders. */
async function startHost(host: { name: string; address: string; layers: string; netns: string }, dir: string, authorizedKeys: string, passwordLogin: boolean) {
  const script: string[] = ['set -e'];
  for (const folder of OVERLAID) {
    const [upper, work] = [join(host.layers, 'upper', folder), join(host.layers, 'work', folder)];
    script.push(`mkdir -p ${upper} ${work}`, `mount -t overlay overlay -o lowerdir=${folder},upperdir=${upper},workdir=${work} ${folder}`);
  }
  for (const [folder, mode] of FRESH) {
    const own = join(host.layers, 'fresh', folder);
    script.push(`mkdir -p -m ${mode.toString(8)} ${own}`, `mount --bind ${own} ${folder}`);
  }
  script.push(`echo '${host.address} ${host.name}' >> /etc/hosts`, `hostname ${host.name}`); // sudo resolves its own name
  const sshdDir = join(dir, 'sshd', host.name);
  const config = join(sshdDir, 'sshd_config');
  await writeFile(config, sshdConfig(host.address, sshdDir, authorizedKeys, passwordLogin));
  script.push(`exec /usr/sbin/sshd -D -f ${config} -E ${join(sshdDir, 'sshd.log')}`);
  const child = spawn('ip', ['netns', 'exec', host.netns, 'unshare', '-m', '-u', '--propagation', 'private', 'sh', '-c', script.join('\n')], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`cannot start sshd for ${host.name}`);
  return child.pid; // ip, unshare and sh all exec: this PID is sshd's
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
  const links = [...(await listLinks(vethPrefix)), ...(await listLinks(bridge)).filter((l) => l === bridge)];
  // Links first: deleting a namespace already takes its veth pair with it.
  await ipBatch([...links.map((l) => `link del ${l}`), ...namespaces.map((ns) => `netns del ${ns}`)]);
  // Hosts mount only inside their own namespaces, but never delete through a mount another version may have left.
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((target): target is string => target !== undefined && target.startsWith(`${dir}/`));
  if (mounts.length) await run('umount', ['-l', ...mounts.sort((a, b) => b.length - a.length)]);
  await rm(dir, { recursive: true, force: true });
}
