// setup: gather facts about the host in ONE exec of a POSIX sh script (no python needed on the host). The facts
// have the keys and value types of Ansible 2.14's setup (compared on a lab host: interfaces, mounts, date_time, lsb...).
//
// The script only prints raw sections; all parsing is here. Without iproute2 the network facts come from
// /proc/net/route and /proc/net/fib_trie instead.

import { defineModule } from './contract.ts';
import { asBecome } from './file-attrs.ts';
import { globToRegExp } from '../core/glob.ts';

const SECTIONS: Record<string, string> = {
  uname: 'uname -n; uname -s; uname -r; uname -m; uname -v',
  fqdn: 'hostname -f 2>/dev/null || hostname 2>/dev/null',
  os_release: 'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null',
  debian_version: 'cat /etc/debian_version 2>/dev/null',
  nproc: 'nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null',
  cpuinfo: "grep -E '^(processor|physical id|core id|model name)[[:space:]]*:' /proc/cpuinfo 2>/dev/null",
  meminfo: "grep -E '^(MemTotal|MemFree|SwapTotal|SwapFree):' /proc/meminfo 2>/dev/null",
  pid1: 'cat /proc/1/comm 2>/dev/null; [ -d /run/systemd/system ] && echo systemd-booted; [ -d /etc/init.d ] && echo init.d',
  user: 'id -un; id -u; id -g; id -gn; echo "$HOME"; echo "$SHELL"',
  date: "date '+%s|%Y|%m|%d|%H|%M|%S|%Z|%z|%A|%j|%w|%W|%N'",
  pkg: 'for p in apt-get dnf yum apk zypper pacman; do command -v $p >/dev/null 2>&1 && { echo $p; break; }; done',
  ip_route: 'ip -4 route show default 2>/dev/null || echo NOIP',
  // Both families in one process; IPv6 routes, the environment and mounts with shell builtins (no process at all):
  // each process started costs the host a few ms.
  ip_addr: 'ip -o addr show 2>/dev/null || echo NOIP',
  ip6_route: 'while read -r l; do echo "$l"; done < /proc/net/ipv6_route',
  links: 'for d in /sys/class/net/*/bridge; do [ -d "$d" ] && echo "$d"; done; grep -s -H . /sys/class/net/*/address /sys/class/net/*/mtu /sys/class/net/*/operstate /sys/class/net/*/type /sys/class/net/*/flags /sys/class/net/*/ifindex',
  selinux: 'if [ -r /sys/fs/selinux/enforce ]; then read -r e < /sys/fs/selinux/enforce; echo "$e"; fi',
  env: 'export -p',
  mounts: 'while read -r l; do echo "$l"; done < /proc/mounts',
  df: 'df -P -B1 2>/dev/null',
  lsb: 'if command -v lsb_release >/dev/null 2>&1; then lsb_release -a 2>/dev/null | sed "s/:[[:space:]]*/=/"; elif [ -r /etc/lsb-release ]; then cat /etc/lsb-release; fi',
  proc_route: 'cat /proc/net/route 2>/dev/null',
  fib_trie: 'ip -V >/dev/null 2>&1 || cat /proc/net/fib_trie 2>/dev/null',
};

/** The script: each section's output after a `@@name` line. */
export const FACTS_SCRIPT = Object.entries(SECTIONS)
  .map(([name, command]) => `echo '@@${name}'; { ${command}; } 2>/dev/null`)
  .join('\n');

function sections(stdout: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of stdout.split('\n')) {
    const header = /^@@(\w+)$/.exec(line);
    if (header) map.set(header[1], (current = []));
    else current.push(line);
  }
  for (const lines of map.values()) while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return map;
}

function keyValues(lines: string[], separator: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const m = separator.exec(line);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return out;
}

// Ansible's names for distributions and families, by os-release ID.
const DISTRIBUTIONS: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Ubuntu', centos: 'CentOS', rhel: 'RedHat', fedora: 'Fedora', rocky: 'Rocky',
  almalinux: 'AlmaLinux', ol: 'OracleLinux', amzn: 'Amazon', alpine: 'Alpine', arch: 'Archlinux',
  opensuse: 'openSUSE', 'opensuse-leap': 'openSUSE Leap', sles: 'SLES', linuxmint: 'Linux Mint',
};
const FAMILIES: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Debian', rhel: 'RedHat', centos: 'RedHat', fedora: 'RedHat', rocky: 'RedHat',
  almalinux: 'RedHat', ol: 'RedHat', amzn: 'RedHat', alpine: 'Alpine', arch: 'Archlinux', suse: 'Suse',
  opensuse: 'Suse', 'opensuse-leap': 'Suse', sles: 'Suse',
};
const PACKAGE_MANAGERS: Record<string, string> = { 'apt-get': 'apt', dnf: 'dnf', yum: 'yum', apk: 'apk', zypper: 'zypper', pacman: 'pacman' };

function osFacts(osRelease: Record<string, string>, debianVersion: string | undefined): Record<string, unknown> {
  const id = (osRelease.ID ?? 'linux').toLowerCase();
  const like = (osRelease.ID_LIKE ?? '').toLowerCase().split(/\s+/);
  const family = FAMILIES[id] ?? like.map((l) => FAMILIES[l]).find((f) => f !== undefined) ?? id;
  // Debian's point release (12.5) is only in /etc/debian_version.
  let version = osRelease.VERSION_ID ?? '';
  if (id === 'debian' && debianVersion && /^\d+(\.\d+)*$/.test(debianVersion)) version = debianVersion;
  return {
    os_family: family,
    distribution: DISTRIBUTIONS[id] ?? id.charAt(0).toUpperCase() + id.slice(1),
    distribution_version: version,
    distribution_major_version: version.split('.')[0] ?? '',
    distribution_release: osRelease.VERSION_CODENAME ?? osRelease.UBUNTU_CODENAME ?? '',
  };
}

function prefixToNetmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join('.');
}

function networkOf(address: string, prefix: number): string {
  const n = address.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (n & bits) >>> 0;
  return [24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.');
}

/** /proc/net/route writes addresses as little-endian hex. */
function hexToIp(hex: string): string {
  const n = parseInt(hex, 16);
  return [0, 8, 16, 24].map((s) => (n >>> s) & 255).join('.');
}

interface Ipv4 {
  address: string;
  prefix: number;
  interface: string;
}

interface Network {
  addresses: Ipv4[];
  gateway?: string;
  defaultInterface?: string;
}

function networkFromIp(route: string[], addr: string[]): Network {
  const m = /^default via (\S+) dev (\S+)/.exec(route[0] ?? '') ?? /^default dev (\S+)/.exec(route[0] ?? '');
  const net: Network = { addresses: [] };
  if (m) {
    net.gateway = m.length === 3 ? m[1] : undefined;
    net.defaultInterface = m.length === 3 ? m[2] : m[1];
  }
  for (const line of addr) {
    const a = /^\d+:\s+(\S+)\s+inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(line);
    if (a) net.addresses.push({ interface: a[1], address: a[2], prefix: Number(a[3]) });
  }
  return net;
}

/** Without iproute2: routes from /proc/net/route, local addresses from /proc/net/fib_trie matched to their subnet. */
function networkFromProc(procRoute: string[], fibTrie: string[]): Network {
  const routes = procRoute.slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 8);
  const net: Network = { addresses: [] };
  const def = routes.find((f) => f[1] === '00000000' && f[7] === '00000000');
  if (def) {
    net.defaultInterface = def[0];
    if (def[2] !== '00000000') net.gateway = hexToIp(def[2]);
  }
  const locals = new Set<string>();
  for (let i = 1; i < fibTrie.length; i++) {
    const ip = /\|--\s+(\d+\.\d+\.\d+\.\d+)/.exec(fibTrie[i - 1]);
    if (ip && /\/32 host LOCAL/.test(fibTrie[i])) locals.add(ip[1]);
  }
  for (const address of locals) {
    if (address.startsWith('127.')) {
      net.addresses.push({ address, prefix: 8, interface: 'lo' });
      continue;
    }
    const route = routes.find((f) => f[1] !== '00000000' && inSubnet(address, hexToIp(f[1]), hexToIp(f[7])));
    if (route) net.addresses.push({ address, prefix: maskToPrefix(hexToIp(route[7])), interface: route[0] });
  }
  return net;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

function inSubnet(address: string, network: string, mask: string): boolean {
  return ((ipToInt(address) & ipToInt(mask)) >>> 0) === ipToInt(network);
}

function maskToPrefix(mask: string): number {
  return ipToInt(mask).toString(2).replace(/0+$/, '').length;
}

interface Link {
  name: string;
  mac: string;
  mtu: string;
  operstate: string;
  type: string;
  flags: string;
  ifindex: number;
  bridge: boolean;
}

/** Interfaces from `grep -H . /sys/class/net/*\/FILE` lines, in the kernel's order (ifindex), as Ansible lists them. */
function linkTable(s: Map<string, string[]>): Link[] {
  const links = new Map<string, Link>();
  const get = (name: string): Link => {
    let l = links.get(name);
    if (!l) links.set(name, (l = { name, mac: '', mtu: '', operstate: '', type: '', flags: '', ifindex: 0, bridge: false }));
    return l;
  };
  for (const line of s.get('links') ?? []) {
    const bridge = /^\/sys\/class\/net\/([^/]+)\/bridge$/.exec(line);
    if (bridge) {
      get(bridge[1]).bridge = true;
      continue;
    }
    const m = /^\/sys\/class\/net\/([^/]+)\/(\w+):(.*)$/.exec(line);
    if (!m) continue;
    const l = get(m[1]);
    if (m[2] === 'address') l.mac = m[3];
    else if (m[2] === 'mtu') l.mtu = m[3];
    else if (m[2] === 'operstate') l.operstate = m[3];
    else if (m[2] === 'type') l.type = m[3];
    else if (m[2] === 'flags') l.flags = m[3];
    else if (m[2] === 'ifindex') l.ifindex = Number(m[3]);
  }
  return [...links.values()].sort((a, b) => a.ifindex - b.ifindex);
}

function networkFacts(s: Map<string, string[]>): Record<string, unknown> {
  const route = s.get('ip_route') ?? [];
  const net = route[0] === 'NOIP' ? networkFromProc(s.get('proc_route') ?? [], s.get('fib_trie') ?? []) : networkFromIp(route, s.get('ip_addr') ?? []);
  const links = linkTable(s);
  const mac = new Map(links.map((l) => [l.name, l.mac]));
  const primary = net.addresses.find((a) => a.interface === net.defaultInterface);
  const defaultIpv4 = primary
    ? {
        address: primary.address,
        interface: primary.interface,
        gateway: net.gateway,
        netmask: prefixToNetmask(primary.prefix),
        prefix: String(primary.prefix),
        network: networkOf(primary.address, primary.prefix),
        macaddress: mac.get(primary.interface),
        alias: primary.interface,
      }
    : {};
  const ipv6 = (s.get('ip_addr') ?? []).map((l) => /\sinet6 ([0-9a-f:]+)\/\d+ scope global/.exec(l)?.[1]).filter((a): a is string => a !== undefined);
  return {
    default_ipv4: defaultIpv4,
    all_ipv4_addresses: net.addresses.filter((a) => !a.address.startsWith('127.')).map((a) => a.address),
    all_ipv6_addresses: ipv6,
    interfaces: links.map((l) => l.name),
  };
}

function cpuFacts(s: Map<string, string[]>): Record<string, unknown> {
  const cpuinfo = s.get('cpuinfo') ?? [];
  const vcpus = Number(s.get('nproc')?.[0]) || cpuinfo.filter((l) => l.startsWith('processor')).length || 1;
  const sockets = new Set(cpuinfo.filter((l) => l.startsWith('physical id')).map((l) => l.split(':')[1].trim()));
  const cores = new Set(cpuinfo.filter((l) => l.startsWith('core id')).map((l) => l.split(':')[1].trim()));
  const socketCount = sockets.size || 1;
  const coresPerSocket = cores.size || Math.max(1, Math.floor(vcpus / socketCount));
  return {
    processor_vcpus: vcpus,
    // As Ansible: processor_count is sockets; processor_vcpus is what nproc says.
    processor_count: socketCount,
    processor_cores: coresPerSocket,
    processor_threads_per_core: Math.max(1, Math.round(vcpus / (socketCount * coresPerSocket))),
    processor: cpuinfo.filter((l) => l.startsWith('model name')).map((l) => l.split(':')[1].trim()),
  };
}

function selinuxFacts(enforce: string | undefined): Record<string, unknown> {
  if (enforce === undefined) return { status: 'disabled' };
  return { status: 'enabled', mode: enforce.trim() === '1' ? 'enforcing' : 'permissive' };
}

function lsbFacts(lines: string[]): Record<string, unknown> {
  const kv = keyValues(lines, /^([A-Za-z_ ]+)=(.*)$/);
  const id = kv['Distributor ID'] ?? kv.DISTRIB_ID;
  if (!id) return {};
  const release = kv.Release ?? kv.DISTRIB_RELEASE ?? '';
  return {
    id,
    description: kv.Description ?? kv.DISTRIB_DESCRIPTION ?? '',
    release,
    codename: kv.Codename ?? kv.DISTRIB_CODENAME ?? '',
    major_release: release.split('.')[0],
  };
}

const LINK_TYPES: Record<string, string> = { '1': 'ether', '772': 'loopback', '768': 'tunnel', '776': 'tunnel6', '65534': 'unknown' };

/** ansible_<interface> for every interface, with Ansible's keys: device, active, type, macaddress, mtu, ipv4, ipv6. */
function interfaceFacts(s: Map<string, string[]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const v4 = new Map<string, Record<string, string>[]>();
  for (const line of s.get('ip_addr') ?? []) {
    const a = /^\d+:\s+(\S+)\s+inet (\d+\.\d+\.\d+\.\d+)\/(\d+)(?: brd (\S+))?/.exec(line);
    if (!a) continue;
    const prefix = Number(a[3]);
    const entry = { address: a[2], broadcast: a[4] ?? '', netmask: prefixToNetmask(prefix), network: networkOf(a[2], prefix), prefix: String(prefix) };
    v4.set(a[1], [...(v4.get(a[1]) ?? []), entry]);
  }
  const v6 = new Map<string, Record<string, string>[]>();
  for (const line of s.get('ip_addr') ?? []) {
    const a = /^\d+:\s+(\S+)\s+inet6 ([0-9a-f:]+)\/(\d+) scope (\S+)/.exec(line);
    if (a) v6.set(a[1], [...(v6.get(a[1]) ?? []), { address: a[2], prefix: a[3], scope: a[4] }]);
  }
  for (const link of linkTable(s)) {
    const name = link.name;
    const up = link.flags ? (parseInt(link.flags, 16) & 1) === 1 : link.operstate === 'up' || link.operstate === 'unknown';
    const facts: Record<string, unknown> = {
      device: name,
      active: up,
      type: link.bridge ? 'bridge' : LINK_TYPES[link.type] ?? 'unknown',
      mtu: Number(link.mtu),
      promisc: false,
    };
    if (link.mac && name !== 'lo') facts.macaddress = link.mac;
    const ipv4 = v4.get(name);
    if (ipv4?.length) {
      facts.ipv4 = ipv4[0];
      if (ipv4.length > 1) facts.ipv4_secondaries = ipv4.slice(1);
    }
    if (v6.get(name)) facts.ipv6 = v6.get(name);
    out[name.replace(/[-:.]/g, '_')] = facts;
  }
  const route6 = defaultRoute6(s.get('ip6_route') ?? []);
  const dev6 = route6 ? (out[route6[2].replace(/[-:.]/g, '_')] as Record<string, unknown> | undefined) : undefined;
  const first6 = (dev6?.ipv6 as Record<string, string>[] | undefined)?.find((a) => a.scope === 'global');
  out.default_ipv6 = route6 && first6 ? { ...first6, gateway: route6[1], interface: route6[2], alias: route6[2], macaddress: dev6?.macaddress, mtu: dev6?.mtu, type: dev6?.type } : {};
  return out;
}

/** The IPv6 default route from /proc/net/ipv6_route: [, gateway, device] like a regexp match, or null. */
function defaultRoute6(lines: string[]): [string, string, string] | null {
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^0{32}$/.test(f[0]) || f[1] !== '00' || f[9] === 'lo' || /^0{32}$/.test(f[4])) continue;
    return [line, ipv6Text(f[4]), f[9]];
  }
  return null;
}

/** 32 hex digits as an IPv6 address in its short form (the longest run of zero groups as ::). */
function ipv6Text(hex: string): string {
  const groups = (hex.match(/.{4}/g) ?? []).map((g) => parseInt(g, 16).toString(16));
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best[1] && j - i > 1) best = [i, j - i];
    i = j;
  }
  if (best[0] < 0) return groups.join(':');
  return `${groups.slice(0, best[0]).join(':')}::${groups.slice(best[0] + best[1]).join(':')}`;
}

/** `export -p` of dash (export NAME='value') or bash (declare -x NAME="value"). */
function envFacts(lines: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines) {
    const m = /^(?:export|declare -x) ([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(line);
    if (!m || m[2] === undefined) continue;
    const v = m[2];
    env[m[1]] = v.startsWith("'") ? v.slice(1, -1).replace(/'\\''/g, "'") : v.startsWith('"') ? v.slice(1, -1).replace(/\\(["\\$`])/g, '$1') : v;
  }
  return env;
}

const PSEUDO = new Set(['proc', 'sysfs', 'devpts', 'cgroup', 'cgroup2', 'mqueue', 'debugfs', 'securityfs', 'pstore', 'bpf', 'tracefs', 'configfs', 'fusectl', 'hugetlbfs', 'autofs', 'binfmt_misc', 'devtmpfs', 'tmpfs', 'ramfs', 'nsfs', 'rpc_pipefs']);

/** ansible_mounts: the real filesystems of /proc/mounts, with sizes from df. */
function mountFacts(s: Map<string, string[]>): Record<string, unknown> {
  const df = new Map<string, string[]>();
  for (const line of (s.get('df') ?? []).slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 6) df.set(f[5], f);
  }
  const mounts = (s.get('mounts') ?? [])
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 4 && !PSEUDO.has(f[2]))
    .map(([device, mount, fstype, options]) => {
      const d = df.get(mount);
      const total = Number(d?.[1] ?? 0);
      const available = Number(d?.[3] ?? 0);
      return {
        mount: mount.replace(/\\040/g, ' '),
        device,
        fstype,
        options,
        size_total: total,
        size_available: available,
        block_size: 4096,
        block_total: Math.floor(total / 4096),
        block_available: Math.floor(available / 4096),
        block_used: Math.floor((total - available) / 4096),
        inode_total: 0,
        inode_available: 0,
        inode_used: 0,
        uuid: 'N/A',
      };
    });
  return { mounts };
}

/** Facts from the script's output, without the ansible_ prefix. */
export function parseFacts(stdout: string): Record<string, unknown> {
  const s = sections(stdout);
  const [nodename = '', system = '', kernel = '', architecture = '', kernelVersion = ''] = s.get('uname') ?? [];
  const fqdnLine = s.get('fqdn')?.[0]?.trim();
  const fqdn = fqdnLine && !fqdnLine.includes(' ') ? fqdnLine : nodename;
  const hostname = nodename.split('.')[0];
  const mem = keyValues(s.get('meminfo') ?? [], /^(\w+):\s+(\d+)/);
  const mb = (key: string): number => Math.floor(Number(mem[key] ?? 0) / 1024);
  const pid1 = s.get('pid1') ?? [];
  const [userName = '', uid = '', gid = '', groupName = '', home = '', shell = ''] = s.get('user') ?? [];
  const [epoch, year, month, day, hour, minute, second, tz, tzOffset, weekday, , weekdayNumber, weekNumber, nanos = '000000000'] = (s.get('date')?.[0] ?? '').split('|');
  const micro = nanos.slice(0, 6);
  return {
    hostname,
    nodename,
    fqdn,
    domain: fqdn.startsWith(`${hostname}.`) ? fqdn.slice(hostname.length + 1) : '',
    system,
    kernel,
    kernel_version: kernelVersion,
    architecture,
    machine: architecture,
    ...osFacts(keyValues(s.get('os_release') ?? [], /^([A-Z_]+)=(.*)$/), s.get('debian_version')?.[0]?.trim()),
    ...cpuFacts(s),
    memtotal_mb: mb('MemTotal'),
    memfree_mb: mb('MemFree'),
    swaptotal_mb: mb('SwapTotal'),
    swapfree_mb: mb('SwapFree'),
    // systemd only when it is PID 1 (a container may have systemd installed but not running).
    service_mgr: pid1[0] === 'systemd' ? 'systemd' : pid1.includes('init.d') ? 'sysvinit' : 'service',
    pkg_mgr: PACKAGE_MANAGERS[s.get('pkg')?.[0] ?? ''] ?? 'unknown',
    user_id: userName,
    user_uid: Number(uid),
    user_gid: Number(gid),
    user_gecos: '',
    user_dir: home,
    user_shell: shell,
    group_name: groupName,
    date_time: {
      epoch,
      epoch_int: epoch,
      date: `${year}-${month}-${day}`,
      time: `${hour}:${minute}:${second}`,
      year,
      month,
      day,
      hour,
      minute,
      second,
      tz,
      tz_offset: tzOffset,
      weekday,
      weekday_number: weekdayNumber,
      weeknumber: weekNumber,
      tz_dst: tz,
      iso8601: epoch ? new Date(Number(epoch) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : '',
      iso8601_micro: epoch ? new Date(Number(epoch) * 1000).toISOString().replace(/\.\d{3}Z$/, `.${micro}Z`) : '',
      iso8601_basic: `${year}${month}${day}T${hour}${minute}${second}${micro}`,
      iso8601_basic_short: `${year}${month}${day}T${hour}${minute}${second}`,
    },
    ...networkFacts(s),
    ...interfaceFacts(s),
    ...mountFacts(s),
    // kplay follows Ansible 2.14 (the version its behaviour is checked against), so playbooks testing the version work.
    version: { full: '2.14.18', major: 2, minor: 14, revision: 18, string: '2.14.18' },
    selinux: selinuxFacts(s.get('selinux')?.[0]),
    selinux_python_present: false,
    env: envFacts(s.get('env') ?? []),
    lsb: lsbFacts(s.get('lsb') ?? []),
  };
}

interface SetupArgs {
  gather_subset?: string[];
  filter?: string[];
}

export default defineModule<SetupArgs>({
  name: 'setup',
  spec: {
    args: {
      gather_subset: { type: 'list', elements: 'str', description: 'Accepted for compatibility; all facts are gathered.' },
      filter: { type: 'list', elements: 'str', description: 'Keep only facts whose names match these globs (e.g. ansible_*_mb).' },
    },
  },
  async plan(args, ctx) {
    const r = await ctx.conn.exec(FACTS_SCRIPT, asBecome(ctx.become));
    let facts = parseFacts(r.stdout);
    if (args.filter && args.filter.length > 0) {
      const patterns = args.filter.map((g) => globToRegExp(g.replace(/^ansible_/, '')));
      facts = Object.fromEntries(Object.entries(facts).filter(([k]) => patterns.some((p) => p.test(k))));
    }
    const prefixed = Object.fromEntries(Object.entries(facts).map(([k, v]) => [`ansible_${k}`, v]));
    return { changed: false, facts: { ansible_facts: facts, ...prefixed }, result: { ansible_facts: facts } };
  },
});
