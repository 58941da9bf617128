# kube-controller-manager stand-in: the flags of its version, its kubeconfigs, key and CA files and CIDRs checked as
# the real one checks them; then it keeps talking to the apiserver with its client certificate and serves /healthz
# on its secure port (10257) with a self-signed certificate.

import ipaddress

from standin_lib import *  # noqa: F401,F403  build: inlined

PROGRAM = 'kube-controller-manager'
NODE_CIDR_MASK = 24  # --node-cidr-mask-size default for IPv4


def check(flags, workdir):
    flags_only_exit(PROGRAM)
    if not flags.get('kubeconfig') and not flags.get('master'):
        die('invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable')
    kubeconfig = load_kubeconfig(flags.get('kubeconfig'), '--kubeconfig', workdir) if flags.get('kubeconfig') else None
    for name in ('authentication-kubeconfig', 'authorization-kubeconfig'):
        if flags.get(name):
            load_kubeconfig(flags.get(name), '--' + name, private_workdir(PROGRAM))
    if flags.get('service-account-private-key-file'):
        check_private_key(flags.get('service-account-private-key-file'), '--service-account-private-key-file')
    if flags.get('cluster-signing-cert-file') or flags.get('cluster-signing-key-file'):
        check_pair(flags.get('cluster-signing-cert-file'), flags.get('cluster-signing-key-file'), 'cluster signing')
    if flags.get('root-ca-file'):
        check_certificate(flags.get('root-ca-file'), '--root-ca-file')
    if flags.has('service-cluster-ip-range'):
        check_cidr(flags.get('service-cluster-ip-range'), '--service-cluster-ip-range')
    if flags.has('cluster-cidr'):
        check_cidr(flags.get('cluster-cidr'), '--cluster-cidr')
    if flags.bool('allocate-node-cidrs'):
        if not flags.get('cluster-cidr'):
            die('error starting controllers: failed to start the node-ipam-controller: kube-controller-manager missing --cluster-cidr flag')
        for cidr in flags.get('cluster-cidr').split(','):
            net = ipaddress.ip_network(cidr, strict=False)
            if net.version == 4 and net.prefixlen > NODE_CIDR_MASK:
                die('error starting controllers: failed to start the node-ipam-controller: cluster CIDR %s mask size %d must be less than the node CIDR mask size %d'
                    % (cidr, net.prefixlen, NODE_CIDR_MASK))
    return kubeconfig


def main():
    flags = kube_main_flags(sys.argv[1:], PROGRAM)
    kubeconfig = check(flags, private_workdir(PROGRAM))
    if kubeconfig is None:
        die('--master without --kubeconfig: the stand-in needs a kubeconfig with a client certificate')
    link = ApiserverLink(kubeconfig, PROGRAM)
    link.run()
    # /healthz only: /livez and /readyz are not served by it (ports.kube-controller-manager.health in the table).
    serve_component(flags, PROGRAM, link, ['/healthz'])
    wait_forever()


if __name__ == '__main__':
    main()
