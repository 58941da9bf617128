# Who may do what in the kube-apiserver stand-in: bearer bootstrap tokens (--enable-bootstrap-token-auth) checked
# against their Secret as the real authenticator checks them, service-account tokens (TokenRequest, RS256), the RBAC
# authorizer over the stored ClusterRoles, ClusterRoleBindings, Roles and RoleBindings, the default roles and
# bindings the real one creates at start (the part of them that kplay's roles bind to or that every client needs),
# SubjectAccessReview, and a CSR's approval and status with the signer permissions the admission plugins ask for.

import base64
import copy
import datetime
import hashlib
import hmac
import json
import os
import re
import tempfile
import time

from standin_lib import *  # noqa: F401,F403  build: inlined
from apiserver_rest import *  # noqa: F401,F403  build: inlined

BOOTSTRAP_TOKEN = re.compile(r'^([a-z0-9]{6})\.([a-z0-9]{16})$')
BOOTSTRAP_EXTRA_GROUP = re.compile(r'^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$')
BOOTSTRAP_TOKEN_TYPE = 'bootstrap.kubernetes.io/token'


def resource_named(name):
    return next(r for r in ALL if r.name == name)


def _secret_string(secret, key):
    value = (secret.get('data') or {}).get(key)
    if value is None:
        return ''
    try:
        return base64.b64decode(value).decode()
    except (ValueError, UnicodeDecodeError):
        return ''


def _expired(text):
    """RFC 3339; a time that does not parse counts as expired, as the real one logs and refuses it."""
    try:
        when = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        log('Unparseable expiration time (%s) in bootstrap token secret' % text, 'E')
        return True
    if when.tzinfo is None:
        return True
    return datetime.datetime.now(datetime.timezone.utc) > when


def authenticate_bootstrap_token(api, token):
    """(user, groups) for a valid bootstrap token; None when the token is not one or not valid (then 401)."""
    m = BOOTSTRAP_TOKEN.match(token)
    if not m:
        return None
    token_id, token_secret = m.group(1), m.group(2)
    name = 'bootstrap-token-' + token_id
    secret, _ = api.store.read(resource_named('secrets'), 'kube-system', name)
    if secret is None:
        log('No secret of name %s to match bootstrap bearer token' % name, 'I')
        return None
    if (secret.get('metadata') or {}).get('deletionTimestamp'):
        return None
    if secret.get('type') != BOOTSTRAP_TOKEN_TYPE:
        log('Bootstrap secret %s/%s has invalid type %s, expected %s' % ('kube-system', name, secret.get('type'), BOOTSTRAP_TOKEN_TYPE), 'I')
        return None
    if not hmac.compare_digest(_secret_string(secret, 'token-secret').encode(), token_secret.encode()):
        log('Bootstrap secret %s/%s does not match bearer token' % ('kube-system', name), 'I')
        return None
    if _secret_string(secret, 'token-id') != token_id:
        log('Bootstrap secret %s/%s has invalid token-id' % ('kube-system', name), 'I')
        return None
    expiration = _secret_string(secret, 'expiration')
    if expiration and _expired(expiration):
        log('Bootstrap secret %s/%s has expired' % ('kube-system', name), 'I')
        return None
    if _secret_string(secret, 'usage-bootstrap-authentication') != 'true':
        log('Bootstrap secret %s/%s not marked usage-bootstrap-authentication=true.' % ('kube-system', name), 'I')
        return None
    groups = {'system:bootstrappers'}
    extra = _secret_string(secret, 'auth-extra-groups')
    for group in extra.split(',') if extra else []:  # as given: no trimming, an empty entry is invalid
        if not BOOTSTRAP_EXTRA_GROUP.match(group):
            log('Bootstrap secret %s/%s: bootstrap group %s is invalid (must match %s)' % ('kube-system', name, json.dumps(group), BOOTSTRAP_EXTRA_GROUP.pattern), 'E')
            return None
        groups.add(group)
    return 'system:bootstrap:' + token_id, sorted(groups)


# ---------------------------------------------------------------- RBAC

class Attributes:
    """What a request asks, as the real request-info resolver reads it."""

    def __init__(self, user, groups, verb, path, routed):
        self.user, self.groups, self.verb, self.path = user, groups, verb, path
        self.resource = self.group = self.namespace = self.name = self.subresource = None
        if routed:
            resource, self.namespace, self.name = routed[0], routed[1], routed[2]
            self.resource, self.group = resource.name, resource.group
            self.subresource = routed[3] if len(routed) > 3 else None


def request_verb(method, routed):
    if not routed:
        return method.lower()
    name = routed[2]
    return {'GET': 'get' if name else 'list', 'HEAD': 'get' if name else 'list', 'POST': 'create', 'PUT': 'update',
            'PATCH': 'patch', 'DELETE': 'delete' if name else 'deletecollection'}.get(method, method.lower())


def rule_allows(rule, a):
    verbs = rule.get('verbs') or []
    if '*' not in verbs and a.verb not in verbs:
        return False
    if a.resource is None:
        return any(u == '*' or u == a.path or (u.endswith('*') and a.path.startswith(u.rstrip('*')))
                   for u in rule.get('nonResourceURLs') or [])
    groups = rule.get('apiGroups') or []
    if '*' not in groups and a.group not in groups:
        return False
    combined = a.resource + ('/' + a.subresource if a.subresource else '')
    if not any(r == '*' or r == combined or (a.subresource and r == '*/' + a.subresource) for r in rule.get('resources') or []):
        return False
    names = rule.get('resourceNames') or []
    return not names or a.name in names


def subject_applies(subject, a, binding_namespace):
    kind = subject.get('kind')
    if kind == 'User':
        return subject.get('name') == a.user
    if kind == 'Group':
        return subject.get('name') in a.groups
    if kind == 'ServiceAccount':
        namespace = subject.get('namespace') or binding_namespace
        return bool(namespace) and a.user == 'system:serviceaccount:%s:%s' % (namespace, subject.get('name'))
    return False


def rbac_authorize(api, a):
    """(allowed, reason): the rules of every role bound to the user (cluster-wide, then in the request's namespace);
    a binding whose role is missing is reported in the reason, as the real one does."""
    errors = []

    def rules_of(ref, namespace):
        if ref.get('kind') == 'ClusterRole':
            role, _ = api.store.read(resource_named('clusterroles'), None, ref.get('name'))
            if role is None:
                errors.append('clusterrole.rbac.authorization.k8s.io "%s" not found' % ref.get('name'))
        else:
            role, _ = api.store.read(resource_named('roles'), namespace, ref.get('name'))
            if role is None:
                errors.append('role.rbac.authorization.k8s.io "%s" not found' % ref.get('name'))
        return (role or {}).get('rules') or []

    def visit(bindings, namespace):
        for binding in bindings:
            if not any(subject_applies(s, a, namespace) for s in binding.get('subjects') or []):
                continue
            if any(rule_allows(rule, a) for rule in rules_of(binding.get('roleRef') or {}, namespace)):
                return True
        return False

    if visit(api.store.list(resource_named('clusterrolebindings'), None)[0], None):
        return True, ''
    if a.namespace and visit(api.store.list(resource_named('rolebindings'), a.namespace)[0], a.namespace):
        return True, ''
    if not errors:
        return False, ''
    return False, 'RBAC: ' + (errors[0] if len(errors) == 1 else '[%s]' % ', '.join(errors))


def authorize(api, modes, a):
    """The chain --authorization-mode gives, after the system:masters short cut every real server has. Node, ABAC and
    Webhook are not modelled: they give no opinion (stricter than the real ones)."""
    if 'system:masters' in a.groups:
        return True, ''
    reasons = []
    for mode in modes:
        if mode == 'AlwaysAllow':
            return True, ''
        if mode == 'AlwaysDeny':
            reasons.append('Everything is forbidden.')
        elif mode == 'RBAC':
            allowed, reason = rbac_authorize(api, a)
            if allowed:
                return True, ''
            if reason:
                reasons.append(reason)
    return False, '\n'.join(reasons)


def forbidden_doc(a, reason):
    """The real 403: the message of its authorization filter, in a Status with the resource's details."""
    if a.resource is None:
        message = 'forbidden: User "%s" cannot %s path "%s"' % (a.user, a.verb, a.path)
        details = None
    else:
        combined = a.resource + ('/' + a.subresource if a.subresource else '')
        scope = 'in the namespace "%s"' % a.namespace if a.namespace else 'at the cluster scope'
        qualified = '%s.%s' % (a.resource, a.group) if a.group else a.resource
        message = '%s%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s' % (
            qualified, ' "%s"' % a.name if a.name else '', a.user, a.verb, combined, a.group, scope)
        details = {'group': a.group, 'kind': a.resource}
        if a.name:
            details['name'] = a.name
    if reason:
        message += ': ' + reason
    return status_doc(403, 'Forbidden', message, details)


# ---------------------------------------------------------------- the defaults the real one creates at start

def _rule(verbs, groups=None, resources=None, urls=None):
    rule = {'verbs': verbs}
    if urls is not None:
        rule['nonResourceURLs'] = urls
    else:
        rule['apiGroups'], rule['resources'] = groups, resources
    return rule


DEFAULT_CLUSTER_ROLES = {
    'cluster-admin': [_rule(['*'], ['*'], ['*']), _rule(['*'], urls=['*'])],
    'system:discovery': [_rule(['get'], urls=['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*',
                                              '/readyz', '/version', '/version/'])],
    'system:public-info-viewer': [_rule(['get'], urls=['/healthz', '/livez', '/readyz', '/version', '/version/'])],
    'system:basic-user': [_rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'])],
    'system:node-bootstrapper': [_rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'])],
    'system:certificates.k8s.io:certificatesigningrequests:nodeclient': [
        _rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient'])],
    'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient': [
        _rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'])],
    # The controller manager's own identity: what it needs before it acts through its controllers' service accounts
    # (--use-service-account-credentials): their service accounts and tokens.
    'system:kube-controller-manager': [
        _rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
        _rule(['create'], ['coordination.k8s.io'], ['leases']),
        dict(_rule(['get', 'update'], ['coordination.k8s.io'], ['leases']), resourceNames=['kube-controller-manager']),
        _rule(['create'], [''], ['secrets', 'serviceaccounts']),
        _rule(['delete'], [''], ['secrets']),
        _rule(['get'], [''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
        _rule(['update'], [''], ['secrets', 'serviceaccounts']),
        _rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
        _rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
        _rule(['list', 'watch'], ['*'], ['*']),
        _rule(['create'], [''], ['serviceaccounts/token']),
    ],
    # The CSR approving, signing and cleaning controllers, as service account kube-system/certificate-controller.
    'system:controller:certificate-controller': [
        _rule(['delete', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
        _rule(['update'], ['certificates.k8s.io'], ['certificatesigningrequests/approval', 'certificatesigningrequests/status']),
        dict(_rule(['approve'], ['certificates.k8s.io'], ['signers']), resourceNames=['kubernetes.io/kube-apiserver-client-kubelet']),
        dict(_rule(['sign'], ['certificates.k8s.io'], ['signers']), resourceNames=[
            'kubernetes.io/legacy-unknown', 'kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet',
            'kubernetes.io/kubelet-serving']),
        _rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
        _rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
    ],
}
DEFAULT_CLUSTER_ROLE_BINDINGS = {
    'cluster-admin': ('cluster-admin', [('Group', 'system:masters')]),
    'system:discovery': ('system:discovery', [('Group', 'system:authenticated')]),
    'system:basic-user': ('system:basic-user', [('Group', 'system:authenticated')]),
    'system:public-info-viewer': ('system:public-info-viewer', [('Group', 'system:authenticated'), ('Group', 'system:unauthenticated')]),
    'system:kube-controller-manager': ('system:kube-controller-manager', [('User', 'system:kube-controller-manager')]),
    'system:controller:certificate-controller': ('system:controller:certificate-controller', [('ServiceAccount', 'kube-system/certificate-controller')]),
}


def subject_doc(kind, name):
    if kind == 'ServiceAccount':
        namespace, _, name = name.partition('/')
        return {'kind': kind, 'name': name, 'namespace': namespace}
    return {'apiGroup': 'rbac.authorization.k8s.io', 'kind': kind, 'name': name}


def bootstrap_policy(api):
    """Create the default roles and bindings that are missing (the real one also reconciles changed ones)."""
    meta = {'annotations': {'rbac.authorization.kubernetes.io/autoupdate': 'true'}, 'labels': {'kubernetes.io/bootstrapping': 'rbac-defaults'}}
    objects = [(resource_named('clusterroles'), {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'ClusterRole',
                                                  'metadata': dict(meta, name=name), 'rules': rules})
               for name, rules in DEFAULT_CLUSTER_ROLES.items()]
    objects += [(resource_named('clusterrolebindings'), {
        'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'ClusterRoleBinding', 'metadata': dict(meta, name=name),
        'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'ClusterRole', 'name': role},
        'subjects': [subject_doc(kind, subject) for kind, subject in subjects]})
        for name, (role, subjects) in DEFAULT_CLUSTER_ROLE_BINDINGS.items()]
    for resource, obj in objects:
        try:
            api.create(resource, None, copy.deepcopy(obj), {'fieldManager': ['kube-apiserver']})
        except ApiError as e:
            if e.code != 409:
                raise


def request_attributes(user, groups, method, path, query):
    """The real request-info resolver's reading of a path: /api/v1/... and /apis/<group>/<version>/... with a
    resource are resource requests (namespace, resource, name, subresource), anything else a non-resource URL."""
    parts = [p for p in path.strip('/').split('/') if p] or ['']
    a = Attributes(user, groups, method.lower(), path, None)
    if parts[0] == 'api' and len(parts) >= 3:
        group, rest = '', parts[2:]
    elif parts[0] == 'apis' and len(parts) >= 4:
        group, rest = parts[1], parts[3:]
    else:
        return a
    namespace = None
    if rest[0] == 'namespaces' and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in ('status', 'finalize'):  # a namespace's own subresources
            rest = rest[2:]
    a.group, a.namespace, a.resource = group, namespace, rest[0]
    a.name = rest[1] if len(rest) > 1 else None
    a.subresource = '/'.join(rest[2:]) or None
    if method in ('GET', 'HEAD'):
        a.verb = 'watch' if query.get('watch', [''])[0] in ('true', '1') else ('get' if a.name else 'list')
    else:
        a.verb = {'POST': 'create', 'PUT': 'update', 'PATCH': 'patch', 'DELETE': 'delete' if a.name else 'deletecollection'}.get(method, method.lower())
    return a


def load_token_file(path):
    """--token-auth-file: CSV rows token,user,uid[,"group1,group2"] (seed 000's token.csv) -> {token: (user, groups)}."""
    import csv
    tokens = {}
    with open(path, newline='') as f:
        for n, row in enumerate(csv.reader(f), 1):
            if not row or not ''.join(row).strip():
                continue
            if len(row) < 3:
                die('invalid authentication config: token file %s, line %d: expected at least 3 columns (token,user,uid), got %d' % (path, n, len(row)))
            groups = [g.strip() for g in row[3].split(',') if g.strip()] if len(row) > 3 else []
            tokens[row[0]] = (row[1], groups)
    return tokens


# ---------------------------------------------------------------- service-account tokens (TokenRequest, JWT RS256)

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


class ServiceAccountTokens:
    """Bound service-account tokens as the real TokenRequest issues them (RS256 with
    --service-account-signing-key-file, iss the first --service-account-issuer, aud --api-audiences or the issuers)
    and as its authenticator checks them (a --service-account-key-file signature, issuer, audience, times, and the
    service account still there with the same uid)."""

    def __init__(self, flags, workdir):
        self.signing_key = flags.get('service-account-signing-key-file')
        self.public_keys = flags.all('service-account-key-file') or ([self.signing_key] if self.signing_key else [])
        self.issuers = [i for v in flags.all('service-account-issuer') for i in v.split(',') if i]
        self.audiences = [a for v in flags.all('api-audiences') for a in v.split(',') if a] or list(self.issuers)
        self.workdir = workdir

    def key_id(self):
        rc, der, _ = openssl(['pkey', '-in', self.signing_key, '-pubout', '-outform', 'DER'])
        return b64url(hashlib.sha256(der).digest()) if rc == 0 else ''

    def issue(self, api, namespace, name, spec):
        sa, _ = api.store.read(resource_named('serviceaccounts'), namespace, name)
        if sa is None:
            raise resource_named('serviceaccounts').not_found(name)
        if not self.signing_key or not self.issuers:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        seconds = int(spec.get('expirationSeconds') or 3600)
        if seconds < 600:
            raise ApiError(422, 'Invalid', 'TokenRequest.authentication.k8s.io "%s" is invalid: spec.expirationSeconds: Invalid value: %d: may not specify a duration less than 10 minutes' % (name, seconds))
        now = int(time.time())
        claims = {'aud': spec.get('audiences') or self.audiences, 'exp': now + seconds, 'iat': now, 'nbf': now, 'iss': self.issuers[0],
                  'sub': 'system:serviceaccount:%s:%s' % (namespace, name),
                  'kubernetes.io': {'namespace': namespace, 'serviceaccount': {'name': name, 'uid': sa['metadata']['uid']}}}
        signing_input = '%s.%s' % (b64url(json.dumps({'alg': 'RS256', 'kid': self.key_id()}).encode()), b64url(json.dumps(claims).encode()))
        rc, signature, err = openssl(['dgst', '-sha256', '-sign', self.signing_key], signing_input.encode())
        if rc != 0:
            raise ApiError(500, 'InternalError', 'failed to sign the token: %s' % err.decode(errors='replace'))
        expires = datetime.datetime.fromtimestamp(claims['exp'], datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        return {'kind': 'TokenRequest', 'apiVersion': 'authentication.k8s.io/v1', 'metadata': {'name': name, 'namespace': namespace},
                'spec': {'audiences': claims['aud'], 'expirationSeconds': seconds, 'boundObjectRef': spec.get('boundObjectRef')},
                'status': {'token': signing_input + '.' + b64url(signature), 'expirationTimestamp': expires}}

    def authenticate(self, api, token):
        """(user, groups) or None (not a JWT of these issuers, or not valid)."""
        parts = token.split('.')
        if len(parts) != 3:
            return None
        try:
            header, claims, signature = json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1])), b64url_decode(parts[2])
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(claims, dict) or claims.get('iss') not in self.issuers or header.get('alg') != 'RS256':
            return None
        path = tempfile.mktemp(dir=self.workdir, suffix='.sig')
        try:
            with open(path, 'wb') as f:
                f.write(signature)
            if not any(openssl(['dgst', '-sha256', '-verify', key, '-signature', path], ('%s.%s' % (parts[0], parts[1])).encode())[0] == 0
                       for key in self.public_keys):
                log('service account token: invalid signature', 'E')
                return None
        finally:
            os.unlink(path)
        now = time.time()
        if not isinstance(claims.get('exp'), int) or claims['exp'] < now or claims.get('nbf', 0) > now + 60:
            log('service account token has expired', 'E')
            return None
        aud = claims.get('aud') if isinstance(claims.get('aud'), list) else [claims.get('aud')]
        if not set(aud) & set(self.audiences):
            log('service account token: token audiences %s is invalid for the target audiences %s' % (aud, self.audiences), 'E')
            return None
        bound = claims.get('kubernetes.io') or {}
        namespace, sa_ref = bound.get('namespace'), bound.get('serviceaccount') or {}
        sa, _ = api.store.read(resource_named('serviceaccounts'), namespace, sa_ref.get('name'))
        if sa is None or sa['metadata']['uid'] != sa_ref.get('uid'):
            log('service account token: the service account %s/%s is gone or was recreated' % (namespace, sa_ref.get('name')), 'E')
            return None
        return 'system:serviceaccount:%s:%s' % (namespace, sa_ref['name']), ['system:serviceaccounts', 'system:serviceaccounts:' + namespace]


# ---------------------------------------------------------------- SubjectAccessReview, CSR approval and status

def subject_access_review(api, modes, body):
    """POST .../subjectaccessreviews: would this user (and groups) be allowed? Answered by the same authorizers."""
    spec = (body or {}).get('spec') or {}
    ra, nra = spec.get('resourceAttributes'), spec.get('nonResourceAttributes')
    if bool(ra) == bool(nra):
        raise ApiError(422, 'Invalid', 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified')
    if not spec.get('user') and not spec.get('groups'):
        raise ApiError(422, 'Invalid', 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified')
    a = Attributes(spec.get('user') or '', list(spec.get('groups') or []), (ra or nra).get('verb') or '', (nra or {}).get('path') or '', None)
    if ra:
        a.group, a.resource = ra.get('group') or '', ra.get('resource') or ''
        a.subresource, a.name, a.namespace = ra.get('subresource') or None, ra.get('name') or None, ra.get('namespace') or None
    allowed, reason = authorize(api, modes, a)
    out = copy.deepcopy(body)
    out.setdefault('metadata', {})['creationTimestamp'] = None
    out['status'] = dict({'allowed': allowed}, **({'reason': reason} if reason else {}))
    return 201, out


def signer_allowed(api, modes, user, groups, verb, signer):
    """The CertificateApproval / CertificateSigning admission check: `verb` on signers/<signerName> or <domain>/*."""
    for name in (signer, signer.split('/')[0] + '/*'):
        a = Attributes(user, groups, verb, '', None)
        a.group, a.resource, a.name = 'certificates.k8s.io', 'signers', name
        if authorize(api, modes, a)[0]:
            return True
    return False


def _condition_problems(conditions):
    problems, types = [], []
    for i, c in enumerate(conditions):
        where = 'status.conditions[%d]' % i
        if not c.get('type'):
            problems.append('%s.type: Required value' % where)
        if c.get('status') not in ('True', 'False', 'Unknown'):
            problems.append('%s.status: Unsupported value: %s: supported values: "False", "True", "Unknown"' % (where, json.dumps(c.get('status', ''))))
        elif c.get('type') in ('Approved', 'Denied', 'Failed') and c.get('status') != 'True':
            problems.append('%s.status: Unsupported value: %s: supported values: "True"' % (where, json.dumps(c.get('status'))))
        if c.get('type') in types:
            problems.append('%s.type: Duplicate value: %s' % (where, json.dumps(c.get('type'))))
        types.append(c.get('type'))
    if 'Approved' in types and 'Denied' in types:
        problems.append('status.conditions: Invalid value: "Approved": Approved and Denied conditions are mutually exclusive')
    return problems


def update_csr_subresource(api, modes, user, groups, name, sub, body):
    """PUT .../certificatesigningrequests/<name>/approval (conditions) or /status (certificate, Failed): only that part
    of the CSR changes, with the real validation and the signer permission the admission plugins ask for."""
    resource = resource_named('certificatesigningrequests')
    if not isinstance(body, dict) or body.get('kind') != resource.kind or body.get('apiVersion') != resource.api_version:
        raise ApiError(400, 'BadRequest', 'the body of the request is not a %s' % resource.kind)
    if (body.get('metadata') or {}).get('name') not in (None, name):
        raise ApiError(400, 'BadRequest', 'the name of the object (%s) does not match the name on the URL (%s)' % (body['metadata']['name'], name))
    qualified = '%s "%s"' % (resource.qualified, name)
    for _ in range(5):
        live, revision = api.store.read(resource, None, name)
        if live is None:
            raise resource.not_found(name)
        wanted_rv = (body.get('metadata') or {}).get('resourceVersion')
        if wanted_rv and wanted_rv != live['metadata']['resourceVersion']:
            raise ApiError(409, 'Conflict', 'Operation cannot be fulfilled on %s: the object has been modified; please apply your changes to the latest version and try again' % qualified)
        signer = live['spec'].get('signerName', '')
        old = live.get('status') or {}
        new = body.get('status') or {}
        old_conditions = old.get('conditions') or []
        old_types = [c.get('type') for c in old_conditions]
        obj = copy.deepcopy(live)
        if sub == 'approval':
            conditions = copy.deepcopy(new.get('conditions') or [])
            problems = _condition_problems(conditions)
            types = [c.get('type') for c in conditions]
            problems += ['status.conditions: Forbidden: updates may not remove a condition of type "%s"' % t
                         for t in ('Approved', 'Denied') if t in old_types and t not in types]
            if problems:
                raise ApiError(422, 'Invalid', 'CertificateSigningRequest.certificates.k8s.io "%s" is invalid: %s' % (name, ', '.join(problems)))
            if {'Approved', 'Denied'} & (set(types) - set(old_types)) and not signer_allowed(api, modes, user, groups, 'approve', signer):
                raise ApiError(403, 'Forbidden', '%s is forbidden: user not permitted to approve requests with signerName "%s"' % (qualified, signer),
                               {'name': name, 'group': resource.group, 'kind': resource.name})
            for c in conditions:
                c['lastUpdateTime'] = c.get('lastUpdateTime') or now_rfc3339()
                c['lastTransitionTime'] = c.get('lastTransitionTime') or c['lastUpdateTime']
            obj.setdefault('status', {})['conditions'] = conditions
        else:
            # Approved and Denied are the approval's: kept as they are; Failed and the certificate are the signer's.
            conditions = [c for c in old_conditions if c.get('type') in ('Approved', 'Denied')] + \
                [copy.deepcopy(c) for c in new.get('conditions') or [] if c.get('type') not in ('Approved', 'Denied')]
            problems = _condition_problems(conditions)
            certificate = new.get('certificate')
            if certificate != old.get('certificate'):
                if old.get('certificate'):
                    problems.append('status.certificate: Forbidden: updates may not modify existing certificate content')
                elif 'Approved' not in old_types:
                    problems.append('status.certificate: Forbidden: certificate can only be set on an approved CertificateSigningRequest')
                else:
                    try:
                        pem = base64.b64decode(certificate or '', validate=True)
                    except (ValueError, TypeError):
                        pem = b''
                    if b'-----BEGIN CERTIFICATE-----' not in pem or openssl(['x509', '-noout'], pem)[0] != 0:
                        problems.append('status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block')
            if problems:
                raise ApiError(422, 'Invalid', 'CertificateSigningRequest.certificates.k8s.io "%s" is invalid: %s' % (name, ', '.join(problems)))
            if certificate != old.get('certificate') and not signer_allowed(api, modes, user, groups, 'sign', signer):
                raise ApiError(403, 'Forbidden', '%s is forbidden: user not permitted to sign requests with signerName "%s"' % (qualified, signer),
                               {'name': name, 'group': resource.group, 'kind': resource.name})
            status = {'conditions': conditions} if conditions else {}
            if certificate:
                status['certificate'] = certificate
            obj['status'] = status
        if same_content(live, obj):
            return 200, live
        if api.store.write(resource, obj, revision) is not None:
            return 200, obj
    raise ApiError(409, 'Conflict', 'too many concurrent writes to %s' % qualified)
