# kube-apiserver stand-in: refuses to start where the real one would (flags of its version, files, certificates,
# encryption config, etcd out of reach), then serves HTTPS with client-certificate, static-token and bootstrap-token
# authentication, RBAC authorization, the health endpoints, /version, discovery and enough REST over etcd for the
# real kubectl get, apply, diff and create of a certificate signing request.

import binascii
import os
import re
import urllib.parse

from standin_lib import *  # noqa: F401,F403  build: inlined
from apiserver_rest import *  # noqa: F401,F403  build: inlined
from apiserver_auth import *  # noqa: F401,F403  build: inlined

PROGRAM = 'kube-apiserver'
AUTHORIZATION_MODES = ['AlwaysAllow', 'AlwaysDeny', 'ABAC', 'Webhook', 'RBAC', 'Node']
# Admission plugins every supported version knows; the table adds the ones that came and went (FACTS).
ADMISSION_PLUGINS = [
    'AlwaysAdmit', 'AlwaysDeny', 'AlwaysPullImages', 'CertificateApproval', 'CertificateSigning',
    'CertificateSubjectRestriction', 'DefaultIngressClass', 'DefaultStorageClass', 'DefaultTolerationSeconds',
    'DenyServiceExternalIPs', 'EventRateLimit', 'ExtendedResourceToleration', 'ImagePolicyWebhook',
    'LimitPodHardAntiAffinityTopology', 'LimitRanger', 'MutatingAdmissionWebhook', 'NamespaceAutoProvision',
    'NamespaceExists', 'NamespaceLifecycle', 'NodeRestriction', 'OwnerReferencesPermissionEnforcement',
    'PersistentVolumeClaimResize', 'PodNodeSelector', 'PodTolerationRestriction', 'Priority', 'ResourceQuota',
    'RuntimeClass', 'ServiceAccount', 'StorageObjectInUseProtection', 'TaintNodesByCondition',
    'ValidatingAdmissionWebhook', 'PodSecurity', 'ValidatingAdmissionPolicy', 'ClusterTrustBundleAttest',
]
PUBLIC_PATHS = ('/healthz', '/livez', '/readyz', '/version')  # system:public-info-viewer


# ---------------------------------------------------------------- encryption at rest (aescbc via openssl)

class Codec:
    """Encrypts the resources the encryption config names with its first provider, as the real one does:
    aescbc writes k8s:enc:aescbc:v1:<key name>:<16-byte IV><AES-256-CBC ciphertext, PKCS#7>."""

    def __init__(self, rules=None):
        self.rules = rules or []  # [(resources, providers)]

    def providers(self, resource):
        for resources, providers in self.rules:
            if resource in resources or '*.*' in resources or ('*.' in resources and '.' not in resource):
                return providers
        return [{'identity': {}}]

    def encode(self, resource, data):
        first = self.providers(resource)[0]
        if 'aescbc' not in first:
            return data
        key = first['aescbc']['keys'][0]
        iv = os.urandom(16)
        rc, out, err = openssl(['enc', '-aes-256-cbc', '-K', base64.b64decode(key['secret']).hex(), '-iv', iv.hex()], data)
        if rc != 0:
            raise OSError('aescbc encryption failed: %s' % err.decode(errors='replace'))
        return b'k8s:enc:aescbc:v1:%s:' % key['name'].encode() + iv + out

    def decode(self, resource, data):
        if not data.startswith(b'k8s:enc:aescbc:v1:'):
            return data
        name, _, rest = data[len(b'k8s:enc:aescbc:v1:'):].partition(b':')
        for provider in self.providers(resource):
            for key in (provider.get('aescbc') or {}).get('keys', []):
                if key['name'].encode() == name:
                    rc, out, _ = openssl(['enc', '-d', '-aes-256-cbc', '-K', base64.b64decode(key['secret']).hex(), '-iv', rest[:16].hex()], rest[16:])
                    if rc == 0:
                        return out
        raise OSError('no key named %s can decrypt this %s' % (name.decode(), resource))


def load_encryption_config(path):
    """Decode like the real one: kind and apiVersion known, providers well formed, aescbc keys of 32 bytes;
    unknown fields fatal from the version the table says decoding became strict."""
    what = 'error while parsing file'
    doc = read_yaml_file(path, 'encryption-provider-config')
    if not isinstance(doc, dict):
        die('%s: %s: the encryption config is not a mapping' % (what, path))
    kinds = FACTS['encryptionKinds']
    pair = '%s/%s' % (doc.get('apiVersion'), doc.get('kind'))
    if pair not in kinds:
        die('%s: no kind "%s" is registered for version "%s" in scheme "k8s.io/apiserver/pkg/apis/apiserver/install"'
            % (what, doc.get('kind'), doc.get('apiVersion')))
    if kinds[pair]:
        log('%s: %s' % (path, kinds[pair]), 'W')
    strict = FACTS['encryptionStrict']

    def fields(obj, allowed, where):
        if strict:
            for k in obj:
                if k not in allowed:
                    die('%s: strict decoding error: unknown field "%s%s"' % (what, where, k))

    fields(doc, ('kind', 'apiVersion', 'resources'), '')
    rules = []
    for i, rule in enumerate(doc.get('resources') or []):
        fields(rule, ('resources', 'providers'), 'resources[%d].' % i)
        resources, providers = rule.get('resources') or [], rule.get('providers') or []
        if not resources or not providers:
            die('%s: resources[%d]: resources and providers are required' % (what, i))
        for j, p in enumerate(providers):
            where = 'resources[%d].providers[%d]' % (i, j)
            kinds_here = [k for k in p if k in ('aescbc', 'aesgcm', 'secretbox', 'identity', 'kms')]
            fields(p, ('aescbc', 'aesgcm', 'secretbox', 'identity', 'kms'), where + '.')
            if len(kinds_here) != 1:
                die('%s: %s: Invalid value: exactly one provider must be configured' % (what, where))
            for k, key in enumerate(((p.get('aescbc') or p.get('aesgcm') or p.get('secretbox') or {}).get('keys')) or []):
                try:
                    size = len(base64.b64decode(str(key.get('secret', '')), validate=True))
                except binascii.Error:
                    die('%s: %s.%s.keys[%d].secret: Invalid value: "REDACTED": secrets must be base64 encoded' % (what, where, kinds_here[0], k))
                wanted = {'aescbc': [32], 'aesgcm': [16, 24, 32], 'secretbox': [32]}.get(kinds_here[0], [])
                if size not in wanted:
                    die('%s: %s.%s.keys[%d].secret: Invalid value: "REDACTED": secret is not of the expected length, got %d, expected one of %s'
                        % (what, where, kinds_here[0], k, size, wanted))
                if not key.get('name'):
                    die('%s: %s.%s.keys[%d].name: Required value' % (what, where, kinds_here[0], k))
            if kinds_here[0] in ('aescbc', 'aesgcm', 'secretbox') and not (p[kinds_here[0]] or {}).get('keys'):
                die('%s: %s.%s.keys: Required value' % (what, where, kinds_here[0]))
        rules.append((resources, providers))
    return Codec(rules)


# ---------------------------------------------------------------- startup checks

def check_flags(f):
    version = FACTS['version']
    # Values and combinations the table's rules cover were checked with the flags (check_rules).
    if not f.get('etcd-servers'):
        die('--etcd-servers must be specified')
    if f.has('insecure-port'):
        host_port(f.get('insecure-port'), '--insecure-port')
    port = host_port(f.get('secure-port', str(FACTS['securePort'])), '--secure-port')
    if port == 0:
        die('--secure-port %d must be between 1 and 65535, inclusive. It cannot be turned off with 0' % port)
    for name in ('bind-address', 'advertise-address'):
        if f.has(name):
            try:
                ipaddress.ip_address(f.get(name))
            except ValueError:
                die('invalid argument "%s" for "--%s" flag: failed to parse IP: "%s"' % (f.get(name), name, f.get(name)))
    known = set(ADMISSION_PLUGINS + FACTS['admissionPluginsKnown']) - set(FACTS['admissionPluginsRemoved'])
    for flag in ('admission-control', 'enable-admission-plugins', 'disable-admission-plugins'):
        for plugin in [p for v in f.all(flag) for p in v.split(',') if p]:
            if plugin not in known:
                die('%s plugin "%s" is unknown' % (flag, plugin))
    for mode in [m for v in f.all('authorization-mode') for m in v.split(',') if m]:
        if mode not in AUTHORIZATION_MODES:
            die('authorization-mode %s is not a valid mode' % json.dumps(mode))
    for entry in [e for v in f.all('runtime-config') for e in v.split(',') if e]:
        key, eq, value = entry.partition('=')
        if eq and value not in ('true', 'false'):
            die('invalid value %s=%s' % (key, value))
    if f.has('service-cluster-ip-range'):
        ranges = f.get('service-cluster-ip-range').split(',')
        if len(ranges) > 2:
            die('--service-cluster-ip-range and --secondary-service-cluster-ip-range can not be more than two')
        check_cidr(f.get('service-cluster-ip-range'), '--service-cluster-ip-range')
    if f.has('service-node-port-range') and not re.match(r'^\d+[-+]\d+$', f.get('service-node-port-range')):
        die('invalid argument "%s" for "--service-node-port-range" flag: invalid port range' % f.get('service-node-port-range'))
    return port


def check_files(f, workdir):
    if f.has('tls-cert-file') != f.has('tls-private-key-file'):
        die('--tls-cert-file and --tls-private-key-file must both be given')
    if f.has('tls-cert-file'):
        cert, key = f.get('tls-cert-file'), f.get('tls-private-key-file')
        check_pair(cert, key, 'serving cert')
    else:
        cert, key = self_signed_pair(workdir, ['localhost', '127.0.0.1'])
    for name in ('client-ca-file', 'etcd-cafile', 'kubelet-certificate-authority', 'requestheader-client-ca-file'):
        if f.has(name):
            check_certificate(f.get(name), '--' + name)
    for cert_flag, key_flag in (('etcd-certfile', 'etcd-keyfile'), ('kubelet-client-certificate', 'kubelet-client-key'),
                                ('proxy-client-cert-file', 'proxy-client-key-file')):
        if f.has(cert_flag) or f.has(key_flag):
            check_pair(f.get(cert_flag), f.get(key_flag), '--%s/--%s' % (cert_flag, key_flag))
    for path in f.all('service-account-key-file'):
        check_public_key(path, '--service-account-key-file')
    if f.has('service-account-signing-key-file'):
        check_private_key(f.get('service-account-signing-key-file'), '--service-account-signing-key-file')
    for name in ('token-auth-file', 'authorization-config', 'audit-policy-file'):
        if f.has(name):
            read_file(f.get(name), '--' + name)
    codec = Codec()
    for name in ('encryption-provider-config', 'experimental-encryption-provider-config'):
        if f.has(name):
            codec = load_encryption_config(f.get(name))
    return cert, key, codec


def connect_etcd(f):
    """The real one dials etcd before serving and gives up after a while: so does this one (STANDIN_ETCD_WAIT s)."""
    etcd = Etcd(f.get('etcd-servers'), f.get('etcd-cafile'), f.get('etcd-certfile'), f.get('etcd-keyfile'))
    deadline = time.time() + float(os.environ.get('STANDIN_ETCD_WAIT', '15'))
    while True:
        try:
            etcd.status()
            return etcd
        except (OSError, ssl.SSLError, ValueError) as e:
            if time.time() > deadline:
                die('error creating storage factory: failed to reach etcd %s: %s: context deadline exceeded' % (f.get('etcd-servers'), e))
            log('etcd not reachable yet: %s' % e, 'W')
            time.sleep(1)


# ---------------------------------------------------------------- audit

AUDIT_LEVELS = ('None', 'Metadata', 'Request', 'RequestResponse')


def load_audit_policy(f):
    """--audit-policy-file: a Policy the real one decodes, else exit; None without the flag (nothing is logged)."""
    path = f.get('audit-policy-file')
    if not path:
        return None
    doc = read_yaml_file(path, '--audit-policy-file')
    # audit.k8s.io/v1beta1 and v1alpha1 went in 1.24; v1 is the one kplay writes.
    accepted = ['audit.k8s.io/v1'] + ([] if at_least(FACTS['version'], '1.24') else ['audit.k8s.io/v1beta1'])
    if not isinstance(doc, dict) or doc.get('kind') != 'Policy' or doc.get('apiVersion') not in accepted:
        die('loading audit policy file: failed decoding %s: no kind "%s" is registered for version "%s"'
            % (path, doc.get('kind') if isinstance(doc, dict) else '', doc.get('apiVersion') if isinstance(doc, dict) else ''))
    rules = doc.get('rules') or []
    if not rules:
        die('loading audit policy file: invalid audit policy %s: rules: Required value' % path)
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or rule.get('level') not in AUDIT_LEVELS:
            die('loading audit policy file: invalid audit policy %s: rules[%d].level: Unsupported value: %s'
                % (path, i, json.dumps(rule.get('level') if isinstance(rule, dict) else rule)))
        if rule.get('resources') and rule.get('nonResourceURLs'):
            die('loading audit policy file: invalid audit policy %s: rules[%d].nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs' % (path, i))
    return doc


def audit_level(policy, user, groups, verb, routed, path):
    """The level of the first rule that matches, as the real policy checker reads a rule; 'None' if none does."""
    for rule in policy.get('rules') or []:
        if rule.get('users') and user not in rule['users']:
            continue
        if rule.get('userGroups') and not set(groups) & set(rule['userGroups']):
            continue
        if rule.get('verbs') and verb not in rule['verbs']:
            continue
        if rule.get('resources') or rule.get('namespaces'):
            if not routed:
                continue
            resource, namespace, _ = routed
            if rule.get('namespaces') and (namespace or '') not in rule['namespaces']:
                continue
            if rule.get('resources') and not any(
                    (r.get('group') or '') == resource.group and (not r.get('resources') or resource.name in r['resources'] or '*' in r['resources'])
                    for r in rule['resources']):
                continue
        if rule.get('nonResourceURLs'):
            if routed:
                continue
            if not any(path == u or (u.endswith('*') and path.startswith(u[:-1])) for u in rule['nonResourceURLs']):
                continue
        return rule['level']
    return 'None'


class AuditLog:
    """One JSON event per request at stage ResponseComplete in --audit-log-path ('-': standard output)."""

    def __init__(self, policy, path):
        self.policy, self.path, self.lock = policy, path, threading.Lock()

    def record(self, handler, received, user, groups, code, body):
        if self.policy is None or not self.path:
            return
        url = urllib.parse.urlsplit(handler.path)
        try:
            routed = route(url.path)
        except ApiError:
            routed = None
        method = handler.command
        if routed:
            verb = {'GET': 'get' if routed[2] else 'list', 'HEAD': 'get', 'POST': 'create', 'PUT': 'update', 'PATCH': 'patch', 'DELETE': 'delete'}.get(method, method.lower())
        else:
            verb = method.lower()
        level = audit_level(self.policy, user, groups, verb, routed, url.path)
        if level == 'None':
            return
        event = {
            'kind': 'Event', 'apiVersion': 'audit.k8s.io/v1', 'level': level, 'auditID': binascii.hexlify(os.urandom(16)).decode(),
            'stage': 'ResponseComplete', 'requestURI': handler.path, 'verb': verb, 'user': {'username': user, 'groups': groups},
            'sourceIPs': [handler.client_address[0]], 'userAgent': handler.headers.get('User-Agent', ''),
            'responseStatus': {'metadata': {}, 'code': code}, 'requestReceivedTimestamp': received, 'stageTimestamp': now_rfc3339(),
        }
        if routed:
            resource, namespace, name = routed
            ref = {'resource': resource.name, 'apiGroup': resource.group, 'apiVersion': resource.version}
            if namespace:
                ref['namespace'] = namespace
            if name:
                ref['name'] = name
            event['objectRef'] = ref
        if level in ('Request', 'RequestResponse') and body:
            try:
                event['requestObject'] = json.loads(body)
            except ValueError:
                pass
        line = json.dumps(event) + '\n'
        with self.lock:
            if self.path == '-':
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                with open(self.path, 'a') as out:
                    out.write(line)


# ---------------------------------------------------------------- serving

class Unauthorized(Exception):
    pass


def authorization_modes(flags):
    return [m for v in flags.all('authorization-mode') for m in v.split(',') if m] or ['AlwaysAllow']


def make_handler(api, etcd, flags, server_address, audit=None, workdir=None):
    anonymous_auth = flags.bool('anonymous-auth', True)
    bootstrap_tokens = flags.bool('enable-bootstrap-token-auth', False)
    static_tokens = load_token_file(flags.get('token-auth-file')) if flags.get('token-auth-file') else {}
    modes = authorization_modes(flags)
    sa_tokens = ServiceAccountTokens(flags, workdir or private_workdir(PROGRAM))
    # Without an authorizer that can say no, the stand-in keeps its older rule (anonymous: the public paths only).
    authorizing = modes != ['AlwaysAllow']
    version = FACTS['version']
    major, minor, _ = version_tuple(version)

    def etcd_ok():
        try:
            etcd.status()
            return True
        except (OSError, ssl.SSLError, ValueError):
            return False

    class Handler(QuietHandler):
        def user(self):
            """(user, groups): the client certificate (CN, O), else a bearer token (the token file, then bootstrap
            tokens); (None, []) without credentials; Unauthorized for a token nobody takes, as the real one."""
            cert = self.connection.getpeercert()
            if cert:
                subject = [v for rdn in cert.get('subject', ()) for k, v in rdn if k == 'commonName']
                groups = [v for rdn in cert.get('subject', ()) for k, v in rdn if k == 'organizationName']
                return (subject[0] if subject else ''), groups + ['system:authenticated']
            scheme, _, token = (self.headers.get('Authorization') or '').strip().partition(' ')
            token = token.strip()
            if scheme.lower() != 'bearer' or not token:
                return None, []
            who = static_tokens.get(token) or sa_tokens.authenticate(api, token) or \
                (authenticate_bootstrap_token(api, token) if bootstrap_tokens else None)
            if who is None:
                raise Unauthorized()
            return who[0], [g for g in who[1] if g != 'system:authenticated'] + ['system:authenticated']

        def send_json(self, code, doc):
            self.send_body(code, json.dumps(doc), 'application/json')

        def fail(self, e):
            self.send_json(e.code, status_doc(e.code, e.reason, e.message, e.details))

        def body(self):
            if self._body is None:
                length = int(self.headers.get('Content-Length') or 0)
                self._body = self.rfile.read(length) if length else b''
            return self._body

        def send_response(self, code, message=None):
            self._code = code
            super().send_response(code, message)

        def health(self, path, query):
            name = path.strip('/').split('/')[0]
            checks = [('ping', True), ('log', True), ('etcd', etcd_ok())]
            if name == 'readyz':
                checks += [('etcd-readiness', checks[2][1]), ('informer-sync', True)]
            checks += [('poststarthook/start-apiserver-admission-initializer', True), ('poststarthook/rbac/bootstrap-roles', True),
                       ('poststarthook/bootstrap-controller', True)]
            if name == 'readyz':
                checks.append(('shutdown', True))
            exclude = set(query.get('exclude', []))
            checks = [c for c in checks if c[0] not in exclude]
            single = path.strip('/').split('/', 1)[1] if '/' in path.strip('/') else None
            if single:
                found = [c for c in checks if c[0] == single]
                if not found:
                    return self.send_body(404, '404 page not found\n')
                return self.send_body(200 if found[0][1] else 500, 'ok' if found[0][1] else 'internal server error: %s check failed\n' % single)
            code, text = health_text(checks, 'verbose' in query, name)
            self.send_body(code, text)

        def handle_any(self):
            received, self._code, self._body, self._who = now_rfc3339(), 0, None, None
            self.body()  # read whole, so that an early 401/403 leaves no body behind on a kept-alive connection
            try:
                self.serve_request()
            finally:
                if audit is not None:
                    user, groups = self._who or ('system:anonymous', ['system:unauthenticated'])
                    audit.record(self, received, user, groups, self._code, self._body)

        def serve_request(self):
            url = urllib.parse.urlsplit(self.path)
            path, query = url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True)
            try:
                user, groups = self.user()
            except Unauthorized:
                return self.send_json(401, status_doc(401, 'Unauthorized', 'Unauthorized'))
            if user is None:
                if not anonymous_auth:
                    return self.send_json(401, status_doc(401, 'Unauthorized', 'Unauthorized'))
                user, groups = 'system:anonymous', ['system:unauthenticated']
                if not authorizing and (not any(path == p or path.startswith(p + '/') for p in PUBLIC_PATHS) or self.command not in ('GET', 'HEAD')):
                    return self.forbidden(user, path)
            self._who = (user, groups)
            if authorizing:
                attributes = request_attributes(user, groups, self.command, path, query)
                try:
                    allowed, reason = authorize(api, modes, attributes)
                except (OSError, ssl.SSLError, ValueError) as e:
                    allowed, reason = False, 'authorizer error: %s' % e
                if not allowed:
                    return self.send_json(403, forbidden_doc(attributes, reason))
            try:
                return self.dispatch(path, query)
            except ApiError as e:
                return self.fail(e)
            except (OSError, ssl.SSLError, ValueError) as e:
                log('%s %s: %s' % (self.command, path, e), 'E')
                return self.fail(ApiError(500, 'InternalError', 'Internal error occurred: %s' % e))

        def forbidden(self, user, path):
            routed = None
            try:
                routed = route(path)
            except ApiError:
                pass
            if routed:
                resource, namespace, name = routed
                verb = {'GET': 'get' if name else 'list', 'POST': 'create', 'PUT': 'update', 'PATCH': 'patch', 'DELETE': 'delete'}.get(self.command, 'get')
                scope = 'in the namespace "%s"' % namespace if namespace else 'at the cluster scope'
                message = '%s%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s' % (
                    resource.qualified, ' "%s"' % name if name else '', user, verb, resource.name, resource.group, scope)
            else:
                message = 'forbidden: User "%s" cannot %s path "%s"' % (user, self.command.lower(), path)
            self.send_json(403, status_doc(403, 'Forbidden', message))

        def dispatch(self, path, query):
            if path.split('/')[1] in ('healthz', 'livez', 'readyz'):
                return self.health(path, query)
            if path == '/version':
                return self.send_json(200, {
                    'major': str(major), 'minor': str(minor), 'gitVersion': 'v' + version, 'gitCommit': 'standin',
                    'gitTreeState': 'clean', 'buildDate': '2024-01-01T00:00:00Z', 'goVersion': 'go1.22 (stand-in)',
                    'compiler': 'gc', 'platform': 'linux/amd64'})
            doc = discovery(path, server_address) or openapi_v3(path)
            if doc is not None:
                return self.send_json(200, doc)
            if self.special(path):
                return None
            routed = route(path)
            if routed is None:
                return self.send_json(404, status_doc(404, 'NotFound', 'the server could not find the requested resource'))
            resource, namespace, name = routed
            method = self.command
            if method in ('GET', 'HEAD'):
                code, doc = api.get(resource, namespace, name) if name else api.list(resource, namespace, query)
                if 'as=Table' in (self.headers.get('Accept') or ''):
                    doc = as_table(resource, doc)
                return self.send_json(code, doc)
            raw = self.body()
            if method == 'POST' and not name:
                body = self.decode(raw)
                if resource.kind == 'CertificateSigningRequest' and isinstance(body, dict):
                    # Who asks is the requester, whatever the body says; the status is the approver's and signer's.
                    user, groups = self._who
                    spec = body.setdefault('spec', {})
                    spec.update(username=user, groups=groups)
                    for k in ('uid', 'extra'):
                        spec.pop(k, None)
                    body['status'] = {}
                return self.send_json(*api.create(resource, namespace, body, query))
            if method == 'PUT' and name:
                return self.send_json(*api.update(resource, namespace, name, self.decode(raw), query))
            if method == 'PATCH' and name:
                return self.send_json(*api.patch(resource, namespace, name, self.headers.get('Content-Type') or '', raw, query))
            if method == 'DELETE' and name:
                return self.send_json(*api.delete(resource, namespace, name, query))
            raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')

        def special(self, path):
            """TokenRequest, SubjectAccessReview and a CSR's approval and status: calls, not stored objects."""
            method = self.command
            m = re.match(r'^/api/v1/namespaces/([^/]+)/serviceaccounts/([^/]+)/token/?$', path)
            if m:
                if method != 'POST':
                    raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
                self.send_json(201, sa_tokens.issue(api, m.group(1), m.group(2), (self.decode(self.body()) or {}).get('spec') or {}))
                return True
            if path.rstrip('/') == '/apis/authorization.k8s.io/v1/subjectaccessreviews':
                if method != 'POST':
                    raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
                self.send_json(*subject_access_review(api, modes, self.decode(self.body())))
                return True
            sub = route_subresource(path)
            if sub:
                resource, name, subresource = sub
                if method in ('GET', 'HEAD'):
                    self.send_json(*api.get(resource, None, name))
                    return True
                if method != 'PUT':
                    raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
                user, groups = self._who
                self.send_json(*update_csr_subresource(api, modes, user, groups, name, subresource, self.decode(self.body())))
                return True
            return False

        @staticmethod
        def decode(raw):
            try:
                return yaml_load(raw.decode())
            except (ValueError, YamlError) as e:
                raise ApiError(400, 'BadRequest', 'the object provided is unrecognized: %s' % e)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    return Handler


def main():
    flags = kube_main_flags(sys.argv[1:], PROGRAM)
    workdir = private_workdir(PROGRAM)
    port = check_flags(flags)
    flags_only_exit(PROGRAM)
    cert, key, codec = check_files(flags, workdir)
    audit = AuditLog(load_audit_policy(flags), flags.get('audit-log-path'))
    ctx = server_context(cert, key, flags.get('client-ca-file'))
    ctx.minimum_version = tls_min_version(flags)
    etcd = connect_etcd(flags)
    api = Api(Store(etcd, codec))
    api.bootstrap()
    if 'RBAC' in authorization_modes(flags):
        bootstrap_policy(api)  # the rbac/bootstrap-roles post-start hook
    bind = flags.get('bind-address', '0.0.0.0')
    advertise = flags.get('advertise-address') or ('127.0.0.1' if bind in ('0.0.0.0', '::') else bind)
    try:
        server = TLSServer((bind, port), make_handler(api, etcd, flags, '%s:%d' % (advertise, port), audit, workdir), ctx)
    except OSError as e:
        die('failed to create listener: failed to listen on %s:%d: listen tcp %s:%d: bind: %s' % (bind, port, bind, port, e.strerror))
    log('Serving securely on %s:%d' % (bind, port))
    server.serve_forever()


if __name__ == '__main__':
    main()
