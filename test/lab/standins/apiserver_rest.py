# The REST part of the kube-apiserver stand-in: discovery documents, objects stored in etcd under
# /registry/<resource>/[<namespace>/]<name> (as JSON, where the real one writes protobuf), and the verbs the real
# kubectl needs for get, apply (client-side and --server-side) and diff (server-side dry run).

import base64
import copy
import json
import re
import uuid

from standin_lib import *  # noqa: F401,F403  build: inlined

# group, version, resource, kind, namespaced, short names
RESOURCES = [
    ('', 'v1', 'namespaces', 'Namespace', False, ['ns']),
    ('', 'v1', 'configmaps', 'ConfigMap', True, ['cm']),
    ('', 'v1', 'secrets', 'Secret', True, []),
    ('', 'v1', 'serviceaccounts', 'ServiceAccount', True, ['sa']),
    ('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', False, []),
    ('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', False, []),
    ('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', True, []),
    ('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', True, []),
    ('certificates.k8s.io', 'v1', 'certificatesigningrequests', 'CertificateSigningRequest', False, ['csr']),
]
# Subresources served: a CSR's approval (the approver's PUT) and status (the signer's PUT).
SUBRESOURCES = {'certificatesigningrequests': ('approval', 'status')}
VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update']
BOOTSTRAP_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease']


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details


def status_doc(code, reason, message, details=None):
    doc = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure' if code >= 400 else 'Success',
           'message': message, 'reason': reason, 'code': code}
    if details:
        doc['details'] = details
    return doc


class Resource:
    def __init__(self, group, version, name, kind, namespaced, short_names):
        self.group, self.version, self.name, self.kind = group, version, name, kind
        self.namespaced, self.short_names = namespaced, short_names
        self.api_version = '%s/%s' % (group, version) if group else version
        self.qualified = '%s.%s' % (name, group) if group else name

    def key(self, namespace, name):
        return '/registry/%s/%s%s' % (self.name, namespace + '/' if self.namespaced else '', name)

    def prefix(self, namespace):
        return '/registry/%s/%s' % (self.name, namespace + '/' if self.namespaced and namespace else '')

    def not_found(self, name):
        return ApiError(404, 'NotFound', '%s "%s" not found' % (self.qualified, name),
                        {'name': name, 'group': self.group, 'kind': self.name})

    def discovery_entry(self):
        entry = {'name': self.name, 'singularName': self.kind.lower(), 'namespaced': self.namespaced, 'kind': self.kind, 'verbs': VERBS}
        if self.short_names:
            entry['shortNames'] = self.short_names
        return entry


ALL = [Resource(*r) for r in RESOURCES]


def group_versions():
    seen = []
    for r in ALL:
        if (r.group, r.version) not in seen:
            seen.append((r.group, r.version))
    return seen


def discovery(path, server_address):
    """The legacy discovery documents (/api, /apis, /api/v1, /apis/<g>, /apis/<g>/<v>), or None."""
    groups = [g for g, _ in group_versions() if g]
    if path == '/api':
        return {'kind': 'APIVersions', 'versions': ['v1'],
                'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0', 'serverAddress': server_address}]}

    def group_doc(g):
        gv = {'groupVersion': '%s/v1' % g, 'version': 'v1'}
        return {'name': g, 'versions': [gv], 'preferredVersion': gv}

    if path == '/apis':
        return {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': [group_doc(g) for g in groups]}
    m = re.match(r'^/apis/([^/]+)$', path)
    if m and m.group(1) in groups:
        return dict(group_doc(m.group(1)), kind='APIGroup', apiVersion='v1')
    m = re.match(r'^/(?:api/(v1)|apis/([^/]+)/([^/]+))$', path)
    if m:
        group, version = (m.group(2) or ''), (m.group(1) or m.group(3))
        resources = [r.discovery_entry() for r in ALL if r.group == group and r.version == version]
        if resources:
            return {'kind': 'APIResourceList', 'apiVersion': 'v1',
                    'groupVersion': '%s/%s' % (group, version) if group else version, 'resources': resources}
    return None


def openapi_v3(path):
    """kubectl 1.32 asks /openapi/v3 which group-versions have a schema, then the group-version's document to see
    whether the server takes ?fieldValidation=: a path item per resource with that parameter is enough for it."""
    if path == '/openapi/v3':
        paths = {}
        for group, version in group_versions():
            name = 'api/v1' if not group else 'apis/%s/%s' % (group, version)
            paths[name] = {'serverRelativeURL': '/openapi/v3/%s?hash=standin' % name}
        return {'paths': paths}
    m = re.match(r'^/openapi/v3/(?:api/(v1)|apis/([^/]+)/([^/]+))$', path)
    if not m:
        return None
    group, version = (m.group(2) or ''), (m.group(1) or m.group(3))
    base = '/api/v1' if not group else '/apis/%s/%s' % (group, version)
    param = [{'name': 'fieldValidation', 'in': 'query', 'schema': {'type': 'string', 'uniqueItems': True}},
             {'name': 'dryRun', 'in': 'query', 'schema': {'type': 'string', 'uniqueItems': True}},
             {'name': 'fieldManager', 'in': 'query', 'schema': {'type': 'string', 'uniqueItems': True}}]
    paths, schemas = {}, {}
    for r in ALL:
        if r.group != group or r.version != version:
            continue
        gvk = {'group': r.group, 'version': r.version, 'kind': r.kind}  # one object on operations, a list on schemas
        ops = {'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk, 'parameters': param, 'responses': {}}
        patch = dict(ops, **{'x-kubernetes-action': 'patch'})
        collection = base + ('/namespaces/{namespace}/' if r.namespaced else '/') + r.name
        paths[collection] = {'post': ops}
        paths[collection + '/{name}'] = {'patch': patch, 'put': dict(ops, **{'x-kubernetes-action': 'put'})}
        schemas['io.k8s.standin.%s.%s' % (r.version, r.kind)] = {
            'type': 'object', 'x-kubernetes-group-version-kind': [gvk],
            'properties': {'apiVersion': {'type': 'string'}, 'kind': {'type': 'string'}, 'metadata': {'type': 'object'}}}
    return {'openapi': '3.0.0', 'info': {'title': 'Kubernetes (stand-in)', 'version': 'v1'}, 'paths': paths,
            'components': {'schemas': schemas}}


def route_subresource(path):
    """(resource, name, subresource) for a cluster-scoped resource's subresource served here, or None."""
    m = re.match(r'^/apis/([^/]+)/([^/]+)/([^/]+)/([^/]+)/([^/]+)/?$', path)
    if not m:
        return None
    group, version, name, obj, sub = m.groups()
    resource = next((r for r in ALL if r.group == group and r.version == version and r.name == name), None)
    if resource is None or sub not in SUBRESOURCES.get(name, ()):
        return None
    return resource, obj, sub


def route(path):
    """(resource, namespace, name) for a resource path, or None. Subresources: route_subresource."""
    m = re.match(r'^/(?:api/(v1)|apis/([^/]+)/([^/]+))/(.+?)/?$', path)
    if not m:
        return None
    group, version, rest = (m.group(2) or ''), (m.group(1) or m.group(3)), m.group(4).split('/')
    by_name = {r.name: r for r in ALL if r.group == group and r.version == version}
    namespace = None
    if len(rest) >= 3 and rest[0] == 'namespaces' and rest[2] in by_name and by_name[rest[2]].namespaced:
        namespace, rest = rest[1], rest[2:]
    resource = by_name.get(rest[0])
    if resource is None or len(rest) > 2:
        raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
    return resource, namespace, (rest[1] if len(rest) == 2 else None)


# ---------------------------------------------------------------- merging

def merge_patch(target, patch, strategic=False):
    """RFC 7386 JSON merge patch; with `strategic`, the directives kubectl writes into a strategic merge patch are
    honoured for the kinds served here, whose lists are all atomic (replaced whole, as their schemas say)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if strategic and patch.get('$patch') == 'replace':
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith('$')}
    if strategic and patch.get('$patch') == 'delete':
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    if strategic and isinstance(patch.get('$retainKeys'), list):
        result = {k: v for k, v in result.items() if k in patch['$retainKeys']}
    for key, value in patch.items():
        if strategic and key.startswith('$deleteFromPrimitiveList/'):
            field = key.split('/', 1)[1]
            result[field] = [x for x in result.get(field) or [] if x not in value]
            continue
        if strategic and key.startswith('$'):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = merge_patch(result.get(key), value, strategic)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    return result


def json_patch(target, ops):
    """RFC 6902 JSON patch (add, remove, replace, test, copy, move)."""
    doc = copy.deepcopy(target)

    def walk(pointer):
        parts = [p.replace('~1', '/').replace('~0', '~') for p in pointer.split('/')[1:]]
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        return parent, parts[-1]

    def get(pointer):
        parent, last = walk(pointer)
        return parent[int(last)] if isinstance(parent, list) else parent[last]

    def add(pointer, value):
        parent, last = walk(pointer)
        if isinstance(parent, list):
            parent.insert(len(parent) if last == '-' else int(last), value)
        else:
            parent[last] = value

    def remove(pointer):
        parent, last = walk(pointer)
        return parent.pop(int(last) if isinstance(parent, list) else last)

    try:
        for op in ops:
            kind, path = op['op'], op['path']
            if kind == 'add':
                add(path, op['value'])
            elif kind == 'remove':
                remove(path)
            elif kind == 'replace':
                remove(path)
                add(path, op['value'])
            elif kind == 'test' and get(path) != op['value']:
                raise ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request: testing value %s failed' % path)
            elif kind in ('copy', 'move'):
                value = copy.deepcopy(get(op['from'])) if kind == 'copy' else remove(op['from'])
                add(path, value)
    except (KeyError, IndexError, ValueError, TypeError) as e:
        raise ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request: %s' % e)
    return doc


# ---------------------------------------------------------------- server-side apply (field sets, no conflicts)

IDENTITY_FIELDS = {('apiVersion',), ('kind',), ('metadata', 'name'), ('metadata', 'namespace'),
                   ('metadata', 'managedFields'), ('metadata', 'resourceVersion'), ('metadata', 'uid'),
                   ('metadata', 'creationTimestamp'), ('metadata', 'generation')}


def field_paths(obj, prefix=()):
    """The leaf paths an object sets: maps are granular, lists atomic (as in these kinds' schemas)."""
    paths = set()
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            paths |= field_paths(v, prefix + (k,))
    elif prefix:
        paths.add(prefix)
    return {p for p in paths if p[:2] not in IDENTITY_FIELDS and p[:1] not in IDENTITY_FIELDS}


def to_fields_v1(paths):
    tree = {}
    for path in sorted(paths):
        node = tree
        for k in path:
            node = node.setdefault('f:' + k, {})
    return tree


def from_fields_v1(tree, prefix=()):
    paths = set()
    for k, v in (tree or {}).items():
        if not k.startswith('f:'):
            continue
        if v:
            paths |= from_fields_v1(v, prefix + (k[2:],))
        else:
            paths.add(prefix + (k[2:],))
    return paths


def delete_path(obj, path):
    node = obj
    for k in path[:-1]:
        node = node.get(k) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(path[-1], None)


def server_side_apply(live, applied, manager, now):
    """Merge `applied` into `live`; fields this manager applied before and dropped now are removed unless another
    manager also set them. Conflicts with other managers are not detected (as if --force-conflicts)."""
    managed = [e for e in (live.get('metadata') or {}).get('managedFields') or []]
    mine = next((e for e in managed if e.get('manager') == manager and e.get('operation') == 'Apply'), None)
    before = from_fields_v1((mine or {}).get('fieldsV1'))
    now_paths = field_paths(applied)
    others = set()
    for e in managed:
        if e is not mine:
            others |= from_fields_v1(e.get('fieldsV1'))
    result = merge_patch(live, applied)
    for path in before - now_paths - others:
        delete_path(result, path)
    entry = {'manager': manager, 'operation': 'Apply', 'apiVersion': applied.get('apiVersion'), 'time': now,
             'fieldsType': 'FieldsV1', 'fieldsV1': to_fields_v1(now_paths)}
    rest = [e for e in managed if e is not mine]
    result.setdefault('metadata', {})['managedFields'] = rest + [entry]
    return result


def record_update(obj, manager, now):
    """An Update operation's entry in managedFields (what the real one keeps for non-apply writes)."""
    managed = [e for e in obj['metadata'].get('managedFields') or [] if not (e.get('manager') == manager and e.get('operation') == 'Update')]
    managed.append({'manager': manager, 'operation': 'Update', 'apiVersion': obj.get('apiVersion'), 'time': now,
                    'fieldsType': 'FieldsV1', 'fieldsV1': to_fields_v1(field_paths(obj))})
    obj['metadata']['managedFields'] = managed


def same_content(a, b):
    """Equal but for managedFields times: a write that changes nothing is not written (the real one skips it)."""
    def strip(o):
        o = copy.deepcopy(o)
        for e in (o.get('metadata') or {}).get('managedFields') or []:
            e.pop('time', None)
        (o.get('metadata') or {}).pop('resourceVersion', None)
        return o
    return strip(a) == strip(b)


# ---------------------------------------------------------------- validation

# The fields of the served kinds: name -> sub-schema (applied to each item of a list) or None (not checked deeper).
META = dict.fromkeys(['name', 'generateName', 'namespace', 'labels', 'annotations', 'uid', 'resourceVersion', 'generation',
                      'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'finalizers', 'ownerReferences',
                      'managedFields', 'selfLink'])
RULE = dict.fromkeys(['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs'])
SUBJECT = dict.fromkeys(['kind', 'apiGroup', 'name', 'namespace'])
ROLE_REF = dict.fromkeys(['apiGroup', 'kind', 'name'])
BINDING = {'subjects': SUBJECT, 'roleRef': ROLE_REF}
FIELDS = {
    'Namespace': {'spec': {'finalizers': None}, 'status': None},
    'ConfigMap': dict.fromkeys(['data', 'binaryData', 'immutable']),
    'Secret': dict.fromkeys(['data', 'stringData', 'type', 'immutable']),
    'ServiceAccount': dict.fromkeys(['secrets', 'imagePullSecrets', 'automountServiceAccountToken']),
    'ClusterRole': {'rules': RULE, 'aggregationRule': {'clusterRoleSelectors': None}},
    'Role': {'rules': RULE},
    'ClusterRoleBinding': BINDING,
    'RoleBinding': BINDING,
    'CertificateSigningRequest': {
        'spec': dict.fromkeys(['request', 'signerName', 'expirationSeconds', 'usages', 'username', 'uid', 'groups', 'extra']),
        'status': {'conditions': dict.fromkeys(['type', 'status', 'reason', 'message', 'lastUpdateTime', 'lastTransitionTime']),
                   'certificate': None}},
}
KEY_USAGES = ['signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment',
              'cert sign', 'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing',
              'email protection', 's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing',
              'microsoft sgc', 'netscape sgc']
SIGNER_NAME = re.compile(r'^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[a-zA-Z0-9]([-a-zA-Z0-9._~]*[a-zA-Z0-9])?$')


def csr_problems(obj):
    """certificates.k8s.io/v1 validation of a CSR: a signed PKCS#10 request in PEM, a signer name, known usages."""
    spec = obj.get('spec') or {}
    problems = []
    request = spec.get('request')
    if not request:
        problems.append(('spec.request', 'FieldValueRequired', 'Required value'))
    else:
        try:
            pem = base64.b64decode(request, validate=True)
        except (ValueError, TypeError):
            pem = b''
        if b'-----BEGIN CERTIFICATE REQUEST-----' not in pem:
            problems.append(('spec.request', 'FieldValueInvalid', 'Invalid value: []byte{...}: PEM block type must be CERTIFICATE REQUEST'))
        else:
            rc, _, err = openssl(['req', '-noout', '-verify'], pem)
            if rc != 0:
                problems.append(('spec.request', 'FieldValueInvalid', 'Invalid value: []byte{...}: %s' % err.decode(errors='replace').strip().splitlines()[-1:]))
    if not spec.get('signerName'):
        problems.append(('spec.signerName', 'FieldValueRequired', 'Required value'))
    elif not SIGNER_NAME.match(spec['signerName']):
        problems.append(('spec.signerName', 'FieldValueInvalid', 'Invalid value: "%s": must be a fully qualified domain and path of the form \'example.com/signer-name\'' % spec['signerName']))
    if not spec.get('usages'):
        problems.append(('spec.usages', 'FieldValueRequired', 'Required value'))
    for i, usage in enumerate(spec.get('usages') or []):
        if usage not in KEY_USAGES:
            problems.append(('spec.usages[%d]' % i, 'FieldValueNotSupported', 'Unsupported value: "%s"' % usage))
    if spec.get('expirationSeconds') is not None and (not isinstance(spec['expirationSeconds'], int) or spec['expirationSeconds'] < 600):
        problems.append(('spec.expirationSeconds', 'FieldValueInvalid', 'Invalid value: %s: may not specify a duration less than 600 seconds (10 minutes)' % json.dumps(spec['expirationSeconds'])))
    return problems


def unknown_fields(value, schema, path=''):
    if schema is None:
        return []
    if isinstance(value, list):
        return [u for i, item in enumerate(value) for u in unknown_fields(item, schema, '%s[%d]' % (path, i))]
    if not isinstance(value, dict):
        return []
    found = []
    for key, sub in value.items():
        where = '%s.%s' % (path, key) if path else key
        found += [where] if key not in schema else unknown_fields(sub, schema[key], where)
    return found


def validate(resource, live, obj, query):
    """?fieldValidation=Strict (what kubectl sends) refuses unknown fields; the RBAC rules kubectl users meet:
    verbs required, a binding's roleRef required and immutable."""
    if query.get('fieldValidation', [''])[0] == 'Strict':
        schema = dict({'apiVersion': None, 'kind': None, 'metadata': META}, **FIELDS[resource.kind])
        unknown = unknown_fields(obj, schema)
        if unknown:
            raise ApiError(400, 'BadRequest', '%s in version "%s" cannot be handled as a %s: strict decoding error: %s' % (
                resource.kind, resource.version, resource.kind, ', '.join('unknown field "%s"' % u for u in unknown)))
    name = '%s.%s "%s"' % (resource.kind, resource.group, obj['metadata']['name']) if resource.group else '%s "%s"' % (resource.kind, obj['metadata']['name'])
    problems = []  # (field, reason, message), as the real one lists them in details.causes
    if resource.kind == 'CertificateSigningRequest' and live is None:
        problems += csr_problems(obj)
    for i, rule in enumerate(obj.get('rules') or []):
        if not rule.get('verbs'):
            problems.append(('rules[%d].verbs' % i, 'FieldValueRequired', 'Required value: verbs must contain at least one value'))
    if 'subjects' in FIELDS[resource.kind]:
        ref = obj.get('roleRef') or {}
        if ref.get('kind') not in ('Role', 'ClusterRole') or not ref.get('name'):
            problems.append(('roleRef.kind', 'FieldValueNotSupported', 'Unsupported value: "%s": supported values: "Role", "ClusterRole"' % ref.get('kind', '')))
        if live is not None and live.get('roleRef') != ref:
            problems.append(('roleRef', 'FieldValueInvalid', 'Invalid value: %s: cannot change roleRef' % json.dumps(ref, sort_keys=True)))
    if problems:
        raise ApiError(422, 'Invalid', '%s is invalid: %s' % (name, ', '.join('%s: %s' % (f, m) for f, _, m in problems)),
                       {'name': obj['metadata']['name'], 'group': resource.group, 'kind': resource.kind,
                        'causes': [{'field': f, 'reason': r, 'message': m} for f, r, m in problems]})


# ---------------------------------------------------------------- the store

class Store:
    """Objects in etcd; `codec` encrypts and decrypts the resources the encryption config covers."""

    def __init__(self, etcd, codec):
        self.etcd, self.codec = etcd, codec

    def read(self, resource, namespace, name):
        raw, revision = self.etcd.get(resource.key(namespace, name))
        if raw is None:
            return None, 0
        obj = json.loads(self.codec.decode(resource.name, raw))
        obj['metadata']['resourceVersion'] = str(revision)
        return obj, revision

    def list(self, resource, namespace):
        items, revision = self.etcd.list(resource.prefix(namespace))
        objects = []
        for _, raw, rev in items:
            obj = json.loads(self.codec.decode(resource.name, raw))
            obj['metadata']['resourceVersion'] = str(rev)
            objects.append(obj)
        return objects, revision

    def write(self, resource, obj, expected_revision):
        """Compare-and-swap on the revision read; None when another writer came first."""
        stored = copy.deepcopy(obj)
        stored['metadata'].pop('resourceVersion', None)
        revision = self.etcd.put_if(resource.key(obj['metadata'].get('namespace'), obj['metadata']['name']),
                                    self.codec.encode(resource.name, json.dumps(stored, sort_keys=True).encode()),
                                    expected_revision)
        if revision is not None:
            obj['metadata']['resourceVersion'] = str(revision)
        return revision

    def delete(self, resource, namespace, name):
        return self.etcd.delete(resource.key(namespace, name))


class Api:
    """The verbs, over a Store. Each method returns (HTTP code, body dict) or raises ApiError."""

    def __init__(self, store):
        self.store = store

    def bootstrap(self):
        ns = next(r for r in ALL if r.name == 'namespaces')
        for name in BOOTSTRAP_NAMESPACES:
            try:
                self.create(ns, None, {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': name}}, {})
            except ApiError as e:
                if e.code != 409:  # made by this or another apiserver sharing the etcd
                    raise

    def check_namespace(self, resource, namespace):
        if resource.namespaced and namespace:
            ns = next(r for r in ALL if r.name == 'namespaces')
            if self.store.read(ns, None, namespace)[0] is None:
                raise ApiError(404, 'NotFound', 'namespaces "%s" not found' % namespace,
                               {'name': namespace, 'kind': 'namespaces'})

    def check_body(self, resource, namespace, name, body):
        if not isinstance(body, dict):
            raise ApiError(400, 'BadRequest', 'the body of the request was in an unknown format')
        if body.get('kind') != resource.kind or body.get('apiVersion') != resource.api_version:
            raise ApiError(400, 'BadRequest', 'the API version in the data (%s) does not match the expected API version (%s)'
                           % (body.get('apiVersion'), resource.api_version) if body.get('kind') == resource.kind else
                           '%s in version "%s" cannot be handled as a %s: no kind "%s" is registered for version "%s"'
                           % (resource.kind, resource.version, resource.kind, body.get('kind'), body.get('apiVersion')))
        meta = body.setdefault('metadata', {})
        if name is not None and meta.get('name') not in (None, name):
            raise ApiError(400, 'BadRequest', 'the name of the object (%s) does not match the name on the URL (%s)' % (meta.get('name'), name))
        if resource.namespaced:
            if meta.get('namespace') not in (None, namespace):
                raise ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request')
            meta['namespace'] = namespace
        else:
            meta.pop('namespace', None)
        if name is not None:
            meta['name'] = name
        if not meta.get('name'):
            if not meta.get('generateName'):
                raise ApiError(422, 'Invalid', '%s "" is invalid: metadata.name: Required value: name or generateName is required' % resource.kind,
                               {'kind': resource.kind, 'group': resource.group})
            meta['name'] = meta['generateName'] + uuid.uuid4().hex[:5]
        if not re.match(r'^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$', meta['name']) or len(meta['name']) > 253:
            raise ApiError(422, 'Invalid', '%s "%s" is invalid: metadata.name: Invalid value: "%s": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\''
                           % (resource.kind, meta['name'], meta['name']), {'name': meta['name'], 'kind': resource.kind})
        return body

    @staticmethod
    def defaults(resource, obj, now):
        meta = obj['metadata']
        meta.setdefault('uid', str(uuid.uuid4()))
        meta.setdefault('creationTimestamp', now)
        for k in ('resourceVersion', 'generation', 'selfLink', 'deletionTimestamp'):
            meta.pop(k, None)
        if resource.kind == 'Namespace':
            obj.setdefault('spec', {}).setdefault('finalizers', ['kubernetes'])
            obj.setdefault('status', {})['phase'] = 'Active'
            meta.setdefault('labels', {})['kubernetes.io/metadata.name'] = meta['name']
        if resource.kind == 'Secret':
            obj.setdefault('type', 'Opaque')
            for k, v in (obj.pop('stringData', None) or {}).items():  # write-only: folded into data
                obj.setdefault('data', {})[k] = base64.b64encode(str(v).encode()).decode()
        return obj

    def get(self, resource, namespace, name):
        obj, _ = self.store.read(resource, namespace, name)
        if obj is None:
            raise resource.not_found(name)
        return 200, obj

    def list(self, resource, namespace, query):
        items, revision = self.store.list(resource, namespace)
        for selector in [s for s in query.get('labelSelector', [''])[0].split(',') if s]:
            key, _, value = selector.partition('=')
            items = [o for o in items if (o['metadata'].get('labels') or {}).get(key.rstrip('!=')) == value.lstrip('=')] if value \
                else [o for o in items if key in (o['metadata'].get('labels') or {})]
        for selector in [s for s in query.get('fieldSelector', [''])[0].split(',') if s]:
            key, _, value = selector.partition('=')
            field = key.rstrip('=').split('.')[-1]
            items = [o for o in items if str(o['metadata'].get(field)) == value.lstrip('=')]
        return 200, {'kind': resource.kind + 'List', 'apiVersion': resource.api_version,
                     'metadata': {'resourceVersion': str(revision)},
                     'items': items}

    def create(self, resource, namespace, body, query):
        now = now_rfc3339()
        obj = self.defaults(resource, self.check_body(resource, namespace, None, body), now)
        self.check_namespace(resource, namespace)
        name = obj['metadata']['name']
        if self.store.read(resource, namespace, name)[0] is not None:
            raise ApiError(409, 'AlreadyExists', '%s "%s" already exists' % (resource.qualified, name),
                           {'name': name, 'group': resource.group, 'kind': resource.name})
        record_update(obj, query.get('fieldManager', ['unknown'])[0], now)
        validate(resource, None, obj, query)
        if 'All' in query.get('dryRun', []):
            return 201, obj
        if self.store.write(resource, obj, 0) is None:
            raise ApiError(409, 'AlreadyExists', '%s "%s" already exists' % (resource.qualified, name))
        return 201, obj

    def update(self, resource, namespace, name, body, query):
        now = now_rfc3339()
        for _ in range(5):
            live, revision = self.store.read(resource, namespace, name)
            if live is None:
                raise resource.not_found(name)
            obj = self.check_body(resource, namespace, name, copy.deepcopy(body))
            wanted = obj['metadata'].get('resourceVersion')
            if wanted and wanted != live['metadata']['resourceVersion']:
                raise ApiError(409, 'Conflict', 'Operation cannot be fulfilled on %s "%s": the object has been modified; please apply your changes to the latest version and try again' % (resource.qualified, name))
            obj['metadata']['uid'] = live['metadata']['uid']
            obj['metadata']['creationTimestamp'] = live['metadata']['creationTimestamp']
            obj['metadata'].setdefault('managedFields', live['metadata'].get('managedFields'))
            obj = self.defaults(resource, obj, now)
            result = self.commit(resource, live, revision, obj, query)
            if result is not None:
                return 200, result
        raise ApiError(409, 'Conflict', 'too many concurrent writes to %s "%s"' % (resource.qualified, name))

    def patch(self, resource, namespace, name, content_type, raw, query):
        now = now_rfc3339()
        kind = content_type.split(';')[0].strip()
        try:
            patch = yaml_load(raw.decode()) if kind == 'application/apply-patch+yaml' else json.loads(raw or b'null')
        except (ValueError, YamlError) as e:
            raise ApiError(400, 'BadRequest', 'error decoding patch: %s' % e)
        for _ in range(5):
            live, revision = self.store.read(resource, namespace, name)
            if kind == 'application/apply-patch+yaml':
                manager = query.get('fieldManager', [''])[0]
                if not manager:
                    raise ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch')
                applied = self.check_body(resource, namespace, name, copy.deepcopy(patch))
                if live is None:
                    self.check_namespace(resource, namespace)
                    obj = server_side_apply({}, applied, manager, now)
                else:
                    obj = server_side_apply(live, applied, manager, now)
                    obj['metadata']['uid'] = live['metadata']['uid']
                    obj['metadata']['creationTimestamp'] = live['metadata']['creationTimestamp']
                obj = self.defaults(resource, obj, now)
            elif live is None:
                raise resource.not_found(name)
            elif kind == 'application/merge-patch+json':
                obj = merge_patch(live, patch)
            elif kind == 'application/strategic-merge-patch+json':
                obj = merge_patch(live, patch, strategic=True)
            elif kind == 'application/json-patch+json':
                obj = json_patch(live, patch)
            else:
                raise ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json')
            if live is not None and kind != 'application/apply-patch+yaml':
                obj = self.check_body(resource, namespace, name, obj)
                for k in ('uid', 'creationTimestamp'):
                    obj['metadata'][k] = live['metadata'][k]
                record_update(obj, query.get('fieldManager', ['unknown'])[0], now)
            result = self.commit(resource, live, revision, obj, query)
            if result is not None:
                return (201 if live is None else 200), result
        raise ApiError(409, 'Conflict', 'too many concurrent writes to %s "%s"' % (resource.qualified, name))

    def commit(self, resource, live, revision, obj, query):
        """Write `obj` unless it equals `live` or this is a dry run; None when another writer came first."""
        if resource.kind == 'CertificateSigningRequest' and live is not None:
            # The main resource changes only metadata: spec is immutable, status goes through /approval and /status.
            for part in ('spec', 'status'):
                obj.pop(part, None)
                if part in live:
                    obj[part] = copy.deepcopy(live[part])
        validate(resource, live, obj, query)
        if live is not None and same_content(live, obj):
            return live
        if 'All' in query.get('dryRun', []):
            if live is not None:
                obj['metadata']['resourceVersion'] = live['metadata']['resourceVersion']
            return obj
        return obj if self.store.write(resource, obj, revision) is not None else None

    def delete(self, resource, namespace, name, query):
        live, _ = self.store.read(resource, namespace, name)
        if live is None:
            raise resource.not_found(name)
        if 'All' not in query.get('dryRun', []):
            self.store.delete(resource, namespace, name)
        return 200, status_doc(200, '', '', {'name': name, 'group': resource.group, 'kind': resource.name, 'uid': live['metadata']['uid']}) \
            if resource.kind != 'Namespace' else live


def as_table(resource, body):
    """The Table kubectl get asks for (Accept: ...;as=Table): NAME and CREATED AT, as for the RBAC kinds."""
    items = body['items'] if body.get('kind', '').endswith('List') else [body]
    rows = [{'cells': [o['metadata']['name'], o['metadata'].get('creationTimestamp')],
             'object': {'kind': 'PartialObjectMetadata', 'apiVersion': 'meta.k8s.io/v1', 'metadata': o['metadata']}}
            for o in items]
    return {'kind': 'Table', 'apiVersion': 'meta.k8s.io/v1',
            'metadata': {'resourceVersion': body['metadata'].get('resourceVersion', '')},
            'columnDefinitions': [
                {'name': 'Name', 'type': 'string', 'format': 'name', 'description': 'Name must be unique within a namespace.', 'priority': 0},
                {'name': 'Created At', 'type': 'date', 'format': '', 'description': 'CreationTimestamp of the object.', 'priority': 0}],
            'rows': rows}
