# flanneld stand-in (etcd subnet manager): the flags of flanneld v0.2x (Go `flag` package, FLANNELD_* environment
# variables), the etcd TLS files, the interface; reads <prefix>/config from etcd, takes a subnet lease under
# <prefix>/subnets/ and writes /run/flannel/subnet.env as the real one does. It sets up no vxlan device.

import fcntl
import socket
import struct

from standin_lib import *  # noqa: F401,F403  build: inlined

PROGRAM = 'flanneld'
# The flanneld v0.2x flags (main.go), by hand: the flag table covers only Kubernetes' own binaries.
FLAGS = {
    'etcd-endpoints': 'http://127.0.0.1:4001,http://127.0.0.1:2379', 'etcd-prefix': '/coreos.com/network',
    'etcd-keyfile': '', 'etcd-certfile': '', 'etcd-cafile': '', 'etcd-username': '', 'etcd-password': '',
    'iface': '', 'iface-regex': '', 'iface-can-reach': '', 'public-ip': '', 'public-ipv6': '',
    'subnet-file': '/run/flannel/subnet.env', 'subnet-lease-renew-margin': '60', 'net-config-path': '/etc/kube-flannel/net-conf.json',
    'kube-api-url': '', 'kubeconfig-file': '', 'kube-annotation-prefix': 'flannel.alpha.coreos.com',
    'healthz-ip': '0.0.0.0', 'healthz-port': '0', 'iptables-resync': '5', 'v': '0', 'log_dir': '',
}
BOOL_FLAGS_FLANNEL = ['help', 'version', 'kube-subnet-mgr', 'ip-masq', 'iptables-forward-rules', 'set-node-network-unavailable',
                      'logtostderr', 'alsologtostderr']
BACKEND_MTU_OVERHEAD = {'vxlan': 50, 'host-gw': 0, 'udp': 28, 'wireguard': 80, 'ipip': 20, 'ipsec': 0, 'alloc': 0}
LEASE_TTL = 24 * 3600
CONFIG_WAIT = float(os.environ.get('STANDIN_FLANNEL_CONFIG_WAIT', '10'))


def parse_flags():
    known = {name: {'bool': False} for name in FLAGS}
    known.update({name: {'bool': True} for name in BOOL_FLAGS_FLANNEL})
    flags = parse_goflags(sys.argv[1:], known, PROGRAM)
    for name in known:  # flagutil.SetFlagsFromEnv("FLANNELD"): FLANNELD_ETCD_ENDPOINTS and so on
        env = 'FLANNELD_' + name.upper().replace('-', '_')
        if not flags.has(name) and env in os.environ:
            flags.set(name, os.environ[env])
    return flags


def interface_address(name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack('256s', name[:15].encode()))  # SIOCGIFADDR
        return socket.inet_ntoa(packed[20:24])
    except OSError:
        return None
    finally:
        s.close()


def find_interface(flags):
    """--iface by name or address; without it, the interface of the default route (none in the lab: it fails)."""
    names = os.listdir('/sys/class/net')
    wanted = [w for v in flags.all('iface') for w in v.split(',') if w]
    if not wanted:
        with open('/proc/net/route') as f:
            default = [line.split()[0] for line in f.readlines()[1:] if line.split()[1] == '00000000']
        if not default:
            die('Failed to find any valid interface to use: failed to get default interface: Unable to find default route')
        wanted = default[:1]
    for w in wanted:
        for name in names:
            address = interface_address(name)
            if address and (w == name or w == address):
                with open('/sys/class/net/%s/mtu' % name) as f:
                    return name, address, int(f.read())
    die('Failed to find any valid interface to use: failed to find interface to use that matches the interfaces and/or regexes provided (%s)' % ','.join(wanted))


def read_network_config(etcd, prefix):
    """<prefix>/config, checked as flannel's ParseConfig does. The real one keeps waiting for it; the stand-in gives
    up after STANDIN_FLANNEL_CONFIG_WAIT seconds so that the unit fails visibly."""
    deadline = time.time() + CONFIG_WAIT
    while True:
        try:
            raw, _ = etcd.get(prefix + '/config')
            problem = 'key not found' if raw is None else None
        except OSError as e:
            raw, problem = None, str(e)
        if raw is not None:
            try:
                cfg = json.loads(raw)
                network = ipaddress.ip_network(cfg.get('Network') or '', strict=False)
            except ValueError as e:
                die('Couldn\'t fetch network config: please define a correct Network parameter in the flannel config: %s' % e)
            if network.version != 4:
                die('Couldn\'t fetch network config: Network must be an IPv4 network')
            subnet_len = int(cfg.get('SubnetLen') or (24 if network.prefixlen < 24 else network.prefixlen + 1))
            if subnet_len > 30 or subnet_len - network.prefixlen < 2:
                die('Couldn\'t fetch network config: Network must be able to accommodate at least four subnets')
            backend = ((cfg.get('Backend') or {}).get('Type') or 'udp').lower()
            if backend not in BACKEND_MTU_OVERHEAD:
                die('failed to create backend: unknown backend type: %s' % backend)
            return network, subnet_len, backend
        if time.time() > deadline:
            die('Couldn\'t fetch network config: %s (%s%s)' % (problem, prefix, '/config'))
        log('Couldn\'t fetch network config: %s; trying again in 1 second' % problem, 'W')
        time.sleep(1)


def acquire_lease(etcd, prefix, network, subnet_len, public_ip, backend):
    """The subnet this host already holds (same PublicIP), else the lowest free one after the first."""
    record = json.dumps({'PublicIP': public_ip, 'PublicIPv6': None, 'BackendType': backend, 'BackendData': None})
    for _ in range(10):
        items, _ = etcd.list(prefix + '/subnets/')
        taken = {}
        for key, value, rev in items:
            cidr = key.rsplit('/', 1)[1].replace('-', '/')
            taken[cidr] = (json.loads(value or b'{}').get('PublicIP'), rev)
        mine = [c for c, (ip, _) in taken.items() if ip == public_ip]
        lease = etcd.grant(LEASE_TTL)
        if mine:
            subnet = ipaddress.ip_network(mine[0])
            etcd.put('%s/subnets/%s' % (prefix, mine[0].replace('/', '-')), record, lease)
            return subnet, lease
        for subnet in list(network.subnets(new_prefix=subnet_len))[1:]:
            if str(subnet) in taken:
                continue
            if etcd.put_if('%s/subnets/%s' % (prefix, str(subnet).replace('/', '-')), record, 0, lease) is not None:
                return subnet, lease
            break  # another host took it first: read again
        else:
            die('failed to acquire lease: out of subnets')
    die('failed to acquire lease: too many concurrent writers')


def write_subnet_file(path, network, subnet, mtu, ip_masq):
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    text = 'FLANNEL_NETWORK=%s\nFLANNEL_SUBNET=%s/%d\nFLANNEL_MTU=%d\nFLANNEL_IPMASQ=%s\n' % (
        network, subnet.network_address + 1, subnet.prefixlen, mtu, 'true' if ip_masq else 'false')
    temp = path + '.tmp'
    with open(temp, 'w') as f:
        f.write(text)
    os.rename(temp, path)


def main():
    flags = parse_flags()
    if flags.bool('help'):
        sys.stderr.write(usage_text(PROGRAM, {n: {'bool': n in BOOL_FLAGS_FLANNEL} for n in list(FLAGS) + BOOL_FLAGS_FLANNEL}))
        sys.exit(0)
    if flags.bool('version'):
        print('v' + FACTS['version'])
        sys.exit(0)
    log('flanneld v%s: %s' % (FACTS['version'], STANDIN_NOTICE))
    if flags.bool('kube-subnet-mgr'):
        die('--kube-subnet-mgr is not modelled by this stand-in (it needs Node objects from kubelets): use the etcd subnet manager')
    iface, address, iface_mtu = find_interface(flags)
    public_ip = flags.get('public-ip') or address
    log('Using interface with name %s and address %s' % (iface, address))
    ca, cert, key = flags.get('etcd-cafile'), flags.get('etcd-certfile'), flags.get('etcd-keyfile')
    if ca:
        check_certificate(ca, '--etcd-cafile')
    if cert or key:
        check_pair(cert, key, '--etcd-certfile/--etcd-keyfile')
    prefix = flags.get('etcd-prefix', FLAGS['etcd-prefix']).rstrip('/')
    etcd = Etcd(flags.get('etcd-endpoints', FLAGS['etcd-endpoints']), ca or None, cert or None, key or None)
    network, subnet_len, backend = read_network_config(etcd, prefix)
    subnet, lease = acquire_lease(etcd, prefix, network, subnet_len, public_ip, backend)
    mtu = iface_mtu - BACKEND_MTU_OVERHEAD[backend]
    write_subnet_file(flags.get('subnet-file', FLAGS['subnet-file']), network, subnet, mtu, flags.bool('ip-masq'))
    log('Lease acquired: %s' % subnet)
    while True:  # keep the lease alive, as the real one renews it before it expires
        time.sleep(LEASE_TTL / 2)
        try:
            etcd.call('/v3/lease/keepalive', {'ID': lease})
        except OSError as e:
            log('failed to renew lease: %s' % e, 'E')


if __name__ == '__main__':
    main()
