// pki_cluster_facts: checks a cluster's names and addresses before any certificate is made, and computes what the
// certificates need. Nothing is written: a bad SAN or overlapping CIDRs fail here, before the CA exists.
//
// Facts: pki_service_ip (first address of the service CIDR: the `kubernetes` service), pki_public_address (the given
// one, else the first controller's), pki_apiserver_sans, and pki_addresses (each host's address, by name).

import { cidrHost, cidrsOverlap, parseCidr } from '../pki/cidr.ts';
import { PkiError } from '../pki/errors.ts';
import { dnsNameProblem, parseSubjectAltNames } from '../pki/names.ts';
import { defineModule } from './contract.ts';
import { pkiCall } from './pki_common.ts';

interface ClusterFactsArgs {
  service_cidr: string;
  pod_cidr?: string;
  cluster_domain: string;
  controllers: string[];
  nodes: string[];
  addresses: Record<string, unknown>;
  public_address?: string;
  extra_sans: string[];
}

export default defineModule<ClusterFactsArgs>({
  name: 'pki_cluster_facts',
  controllerOnly: true,
  spec: {
    args: {
      service_cidr: { type: 'str', required: true, description: 'The services range, e.g. 10.32.0.0/24.' },
      pod_cidr: { type: 'str', description: 'The pods range: must not overlap service_cidr.' },
      cluster_domain: { type: 'str', default: 'cluster.local' },
      controllers: { type: 'list', elements: 'str', default: [], description: 'The control plane hosts (API server, etcd).' },
      nodes: { type: 'list', elements: 'str', default: [], description: 'The hosts that run a kubelet.' },
      addresses: { type: 'dict', default: {}, description: 'Host name to address; a host not in it is reached by its name.' },
      public_address: { type: 'str', description: 'The public or virtual address in front of the API servers.' },
      extra_sans: { type: 'list', elements: 'str', default: [], description: 'More API server SANs.' },
    },
  },
  async plan(args) {
    const facts = pkiCall(() => {
      const service = parseCidr(args.service_cidr, 'service CIDR');
      if (args.pod_cidr) {
        const pod = parseCidr(args.pod_cidr, 'pod CIDR');
        if (cidrsOverlap(service, pod)) throw new PkiError(`service CIDR ${service.text} overlaps pod CIDR ${pod.text}`);
      }
      const domainProblem = dnsNameProblem(args.cluster_domain);
      if (domainProblem) throw new PkiError(`cluster domain "${args.cluster_domain}" is not a DNS name: ${domainProblem}`);
      const hosts = [...new Set([...args.controllers, ...args.nodes])];
      const addresses = Object.fromEntries(hosts.map((h) => [h, String(args.addresses[h] ?? h)]));
      // Host names and addresses are SANs of their kubelet and etcd certificates.
      parseSubjectAltNames(hosts.flatMap((h) => [h, addresses[h]]));
      const publicAddress = args.public_address || addresses[args.controllers[0]];
      if (!publicAddress) throw new PkiError('no public_address and no controller to take it from');
      const serviceIp = cidrHost(service, 1);
      const sans = parseSubjectAltNames([
        '127.0.0.1',
        ...args.controllers.map((h) => addresses[h]),
        publicAddress,
        serviceIp,
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        `kubernetes.default.svc.${args.cluster_domain}`,
        ...args.extra_sans,
      ]);
      return { pki_service_ip: serviceIp, pki_public_address: publicAddress, pki_apiserver_sans: [...sans.ips, ...sans.dns], pki_addresses: addresses };
    });
    return { changed: false, facts, result: facts };
  },
});
