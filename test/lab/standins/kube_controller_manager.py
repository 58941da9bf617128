# kube-controller-manager stand-in: the flags of its version, its kubeconfigs, key and CA files and CIDRs checked as
# the real one checks them; then it keeps talking to the apiserver with its client certificate and serves /healthz
# on its secure port (10257) with a self-signed certificate. Of the controllers, csrapproving and csrsigning run:
# a kubelet's client CSR made with a bootstrap token is approved after a SubjectAccessReview and signed with
# --cluster-signing-cert-file/--cluster-signing-key-file, as service account kube-system/certificate-controller
# when --use-service-account-credentials (its token from the TokenRequest API), as the real ones do.

import copy
import ipaddress
import math
import secrets

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


CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests'
KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet'
# ValidateKubeletClientCSR: exactly one of these usage sets (the second for keys that cannot encipher: EC).
KUBELET_CLIENT_USAGES = [{'digital signature', 'key encipherment', 'client auth'}, {'digital signature', 'client auth'}]
CONTROLLER_SA = 'certificate-controller'


def controller_enabled(flags, name):
    """--controllers: '*' is every default-on controller (csrapproving and csrsigning are), '-name' turns one off."""
    items = [c.strip() for v in flags.all('controllers') for c in v.split(',') if c.strip()] or ['*']
    return '-' + name not in items and (name in items or '*' in items)


def go_seconds(text):
    units = {'h': 3600, 'm': 60, 's': 1, 'ms': 0.001}
    parts = re.findall(r'(\d+(?:\.\d+)?)(ms|h|m|s)', text)
    if not parts or ''.join(a + b for a, b in parts) != text:
        die('invalid argument "%s" for "--cluster-signing-duration" flag: time: invalid duration "%s"' % (text, text))
    return sum(float(a) * units[b] for a, b in parts)


def csr_subject(request_b64):
    """(CN, [O...], has SANs) of a PKCS#10 request, or None when openssl cannot read it."""
    pem = base64.b64decode(request_b64 or '')
    rc, out, _ = openssl(['req', '-noout', '-subject', '-nameopt', 'RFC2253'], pem)
    rc2, text, _ = openssl(['req', '-noout', '-text'], pem)
    if rc != 0 or rc2 != 0:
        return None
    fields = [f.replace('\\,', ',') for f in re.split(r'(?<!\\),', out.decode().strip().split('=', 1)[1] if out.decode().startswith('subject=') else out.decode().strip())]
    cn = [f[3:] for f in fields if f.startswith('CN=')]
    orgs = [f[2:] for f in fields if f.startswith('O=')]
    return (cn[0] if cn else ''), list(reversed(orgs)), b'Subject Alternative Name' in text


def kubelet_client_problem(subject, usages):
    """Why a CSR is not a kubelet client certificate request (ValidateKubeletClientCSR), or None."""
    cn, orgs, sans = subject
    if orgs != ['system:nodes']:
        return 'subject organization is not system:nodes'
    if sans:
        return 'DNS, email, IP and URI subjectAltNames are not allowed'
    if not cn.startswith('system:node:'):
        return 'subject common name does not begin with system:node:'
    if set(usages or []) not in KUBELET_CLIENT_USAGES or len(set(usages or [])) != len(usages or []):
        return 'usages did not match %s' % sorted(KUBELET_CLIENT_USAGES[0])
    return None


class CertificateController:
    """csrapproving and csrsigning over the API; one sync every `interval` seconds (the real ones watch)."""

    def __init__(self, flags, kubeconfig, workdir):
        self.kc, self.workdir = kubeconfig, workdir
        self.use_sa = flags.bool('use-service-account-credentials', False)
        self.approving = controller_enabled(flags, 'csrapproving')
        self.signing = controller_enabled(flags, 'csrsigning') and bool(flags.get('cluster-signing-cert-file'))
        self.pair = (flags.get('cluster-signing-cert-file'), flags.get('cluster-signing-key-file'))
        self.duration = go_seconds(flags.get('cluster-signing-duration', '8760h'))
        self.token, self.token_expiry = None, 0

    def request(self, method, path, body=None, own=False):
        kc = self.kc
        headers = {'Accept': 'application/json', 'Content-Type': 'application/json', 'User-Agent': 'kube-controller-manager/standin'}
        if self.use_sa and not own:
            self.ensure_token()
            headers['Authorization'] = 'Bearer ' + self.token
            ctx = client_context(kc['ca'])
        else:
            ctx = client_context(kc['ca'], kc['cert'], kc['key'])
        status, data = https_request(kc['server'], ctx, method, path, json.dumps(body) if body is not None else None, headers)
        try:
            return status, json.loads(data) if data else {}
        except ValueError:
            return status, {'message': data[:200].decode(errors='replace')}

    def ensure_token(self):
        """The controller's service account (made if missing) and a token for it, as the real client builder gets them."""
        if self.token and time.time() < self.token_expiry - 600:
            return
        base = '/api/v1/namespaces/kube-system/serviceaccounts'
        status, doc = self.request('GET', '%s/%s' % (base, CONTROLLER_SA), own=True)
        if status == 404:
            status, doc = self.request('POST', base, {'apiVersion': 'v1', 'kind': 'ServiceAccount',
                                                      'metadata': {'name': CONTROLLER_SA, 'namespace': 'kube-system'}}, own=True)
            if status not in (201, 409):
                raise OSError('creating service account kube-system/%s: %d %s' % (CONTROLLER_SA, status, doc.get('message')))
        elif status != 200:
            raise OSError('getting service account kube-system/%s: %d %s' % (CONTROLLER_SA, status, doc.get('message')))
        status, doc = self.request('POST', '%s/%s/token' % (base, CONTROLLER_SA),
                                   {'apiVersion': 'authentication.k8s.io/v1', 'kind': 'TokenRequest', 'spec': {'expirationSeconds': 3600}}, own=True)
        if status != 201:
            raise OSError('requesting a token for kube-system/%s: %d %s' % (CONTROLLER_SA, status, doc.get('message')))
        self.token, self.token_expiry = doc['status']['token'], time.time() + 3600

    def sync(self):
        status, doc = self.request('GET', CSR_PATH)
        if status != 200:
            raise OSError('listing certificatesigningrequests: %d %s' % (status, doc.get('message')))
        for csr in doc.get('items') or []:
            if self.approving:
                csr = self.approve(csr)
            if self.signing:
                self.sign(csr)

    @staticmethod
    def condition_types(csr):
        return [c.get('type') for c in (csr.get('status') or {}).get('conditions') or []]

    def approve(self, csr):
        types = self.condition_types(csr)
        spec, name = csr.get('spec') or {}, csr['metadata']['name']
        if 'Approved' in types or 'Denied' in types or spec.get('signerName') != KUBELET_CLIENT_SIGNER:
            return csr
        subject = csr_subject(spec.get('request'))
        if subject is None or kubelet_client_problem(subject, spec.get('usages')):
            return csr
        # The recognizers in order: a node renewing its own certificate, then any node client certificate.
        for sub, applies, message in (('selfnodeclient', subject[0] == spec.get('username'), 'Auto approving self kubelet client certificate after SubjectAccessReview.'),
                                      ('nodeclient', True, 'Auto approving kubelet client certificate after SubjectAccessReview.')):
            if not applies:
                continue
            review = {'apiVersion': 'authorization.k8s.io/v1', 'kind': 'SubjectAccessReview', 'spec': {
                'user': spec.get('username'), 'uid': spec.get('uid'), 'groups': spec.get('groups'), 'extra': spec.get('extra'),
                'resourceAttributes': {'group': 'certificates.k8s.io', 'resource': 'certificatesigningrequests', 'verb': 'create', 'subresource': sub}}}
            status, doc = self.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', review)
            if status != 201:
                raise OSError('subjectaccessreview for %s: %d %s' % (name, status, doc.get('message')))
            if not (doc.get('status') or {}).get('allowed'):
                continue
            approved = copy.deepcopy(csr)
            approved.setdefault('status', {}).setdefault('conditions', []).append(
                {'type': 'Approved', 'status': 'True', 'reason': 'AutoApproved', 'message': message, 'lastUpdateTime': now_rfc3339()})
            status, doc = self.request('PUT', '%s/%s/approval' % (CSR_PATH, name), approved)
            if status != 200:
                log('error approving %s: %d %s' % (name, status, doc.get('message')), 'E')
                return csr
            log('certificate signing request %s approved (%s)' % (name, sub))
            return doc
        return csr

    def sign(self, csr):
        types = self.condition_types(csr)
        spec, name = csr.get('spec') or {}, csr['metadata']['name']
        if 'Approved' not in types or 'Failed' in types or (csr.get('status') or {}).get('certificate'):
            return
        if spec.get('signerName') != KUBELET_CLIENT_SIGNER:
            return  # the other kubernetes.io signers are not modelled
        subject = csr_subject(spec.get('request'))
        problem = 'unable to parse csr' if subject is None else kubelet_client_problem(subject, spec.get('usages'))
        updated = copy.deepcopy(csr)
        if problem:
            updated['status']['conditions'].append({'type': 'Failed', 'status': 'True', 'reason': 'SignerValidationFailure',
                                                    'message': problem, 'lastUpdateTime': now_rfc3339()})
        else:
            seconds = min(self.duration, spec['expirationSeconds']) if spec.get('expirationSeconds') else self.duration
            usages = set(spec.get('usages') or [])
            key_usage = ['digitalSignature'] + (['keyEncipherment'] if 'key encipherment' in usages else [])
            ext = os.path.join(self.workdir, 'csr-ext.cnf')
            with open(ext, 'w') as f:
                f.write('basicConstraints=critical,CA:FALSE\nkeyUsage=critical,%s\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n' % ','.join(key_usage))
            # openssl x509 -req counts whole days (OpenSSL 3.0 has no -not_after): the duration rounded up to a day.
            rc, cert, err = openssl(['x509', '-req', '-CA', self.pair[0], '-CAkey', self.pair[1], '-set_serial', '0x' + secrets.token_hex(16),
                                     '-days', str(max(1, math.ceil(seconds / 86400))), '-sha256', '-extfile', ext], base64.b64decode(spec['request']))
            if rc != 0:
                log('error signing %s: %s' % (name, err.decode(errors='replace')), 'E')
                return
            updated.setdefault('status', {})['certificate'] = base64.b64encode(cert).decode()
        status, doc = self.request('PUT', '%s/%s/status' % (CSR_PATH, name), updated)
        if status != 200:
            log('error updating the status of %s: %d %s' % (name, status, doc.get('message')), 'E')
        else:
            log('certificate signing request %s %s' % (name, 'failed: ' + problem if problem else 'signed'))

    def run(self, interval=2.0):
        def loop():
            last = None
            while True:
                try:
                    self.sync()
                    last = None
                except (OSError, ssl.SSLError, ValueError, KeyError) as e:
                    if str(e) != last:
                        log('certificate controller: %s' % e, 'E')
                    last = str(e)
                time.sleep(interval)
        threading.Thread(target=loop, daemon=True).start()


def main():
    flags = kube_main_flags(sys.argv[1:], PROGRAM)
    kubeconfig = check(flags, private_workdir(PROGRAM))
    if kubeconfig is None:
        die('--master without --kubeconfig: the stand-in needs a kubeconfig with a client certificate')
    link = ApiserverLink(kubeconfig, PROGRAM)
    link.run()
    CertificateController(flags, kubeconfig, private_workdir(PROGRAM)).run()
    # /healthz only: /livez and /readyz are not served by it (ports.kube-controller-manager.health in the table).
    serve_component(flags, PROGRAM, link, ['/healthz'])
    wait_forever()


if __name__ == '__main__':
    main()
