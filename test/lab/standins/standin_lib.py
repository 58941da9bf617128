# Shared code of the test stand-ins for kube-apiserver, kube-controller-manager, kube-scheduler and flanneld.
# Stdlib only (the lab hosts have python3 and openssl, no pip). mirror.ts inlines this file into each stand-in
# script, after a FACTS = {...} line carrying that version's flag facts (from k8s-flags.json).

import atexit
import base64
import datetime
import http.client
import http.server
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

FACTS = globals().get('FACTS') or {}  # build: replaced by the inlined FACTS line

STANDIN_NOTICE = 'STAND-IN FOR TESTS, not the real binary: it checks flags, files and certificates as the real one would.'


# ---------------------------------------------------------------- logging and exits (klog-like lines on stderr)

def log(message, level='I'):
    now = datetime.datetime.now()
    sys.stderr.write('%s%s %7d standin] %s\n' % (level, now.strftime('%m%d %H:%M:%S.%f'), os.getpid(), message))
    sys.stderr.flush()


def die(message, code=1):
    """The real components log the error and exit non-zero: systemd then sees the unit fail."""
    log('"command failed" err="%s"' % message, 'E')
    sys.exit(code)


# ---------------------------------------------------------------- versions

def version_tuple(text):
    parts = re.findall(r'\d+', str(text))
    return tuple(int(p) for p in parts[:3]) + (0,) * (3 - len(parts[:3]))


def at_least(version, since):
    """True when `version` (1.30.2) is `since` (1.24) or later; `since` None means never."""
    return since is not None and version_tuple(version)[:2] >= version_tuple(since)[:2]


# ---------------------------------------------------------------- flags

class Flags:
    """Parsed flags: name (without dashes) -> list of values, in order."""

    def __init__(self):
        self.values = {}

    def set(self, name, value):
        self.values.setdefault(name, []).append(value)

    def has(self, name):
        return name in self.values

    def get(self, name, default=None):
        return self.values[name][-1] if name in self.values else default

    def all(self, name):
        return self.values.get(name, [])

    def bool(self, name, default=False):
        if name not in self.values:
            return default
        return self.values[name][-1].lower() in ('1', 't', 'true')


def usage_text(program, known):
    lines = ['%s: %s' % (program, STANDIN_NOTICE), '', 'Usage:', '  %s [flags]' % program, '', 'Flags:']
    for name in sorted(known):
        lines.append('      --%s%s' % (name, '' if known[name].get('bool') else ' string'))
    return '\n'.join(lines) + '\n'


BOOL_STRINGS = ('1', '0', 't', 'f', 'true', 'false', 'TRUE', 'FALSE', 'True', 'False', 'T', 'F')


def parse_pflags(argv, known, program, shorthands=None):
    """cobra/pflag semantics: --f=v, --f v, bool --f / --f=false, -v=2 / -v 2; an unknown flag is fatal.

    `known` maps a flag name (no dashes) to {'bool': bool, 'deprecated': message or None}. Underscores are read as
    dashes, as the kube components' word-separator normalisation does. Exits 1 like cobra on any error."""
    shorthands = shorthands or {}
    flags = Flags()

    def fail(message):
        sys.stderr.write('Error: %s\n%s' % (message, usage_text(program, known)))
        die(message)

    def take(name, inline, rest, shown):
        spec = known.get(name)
        if spec is None:
            fail('unknown flag: %s' % shown)
        if spec.get('deprecated'):
            sys.stderr.write('Flag --%s has been deprecated, %s\n' % (name, spec['deprecated']))
        if inline is not None:
            if spec.get('bool') and inline not in BOOL_STRINGS:
                fail('invalid argument "%s" for "%s" flag: strconv.ParseBool: parsing "%s": invalid syntax' % (inline, shown, inline))
            flags.set(name, inline)
        elif spec.get('bool'):
            flags.set(name, 'true')
        elif rest:
            flags.set(name, rest.pop(0))
        else:
            fail('flag needs an argument: %s' % shown)

    rest = list(argv)
    positional = []
    while rest:
        arg = rest.pop(0)
        if arg == '--':
            positional.extend(rest)
            break
        if arg.startswith('--') and len(arg) > 2:
            name, eq, value = arg[2:].partition('=')
            take(name.replace('_', '-'), value if eq else None, rest, '--' + name)
        elif arg.startswith('-') and len(arg) > 1:
            letter, body = arg[1], arg[2:]
            if letter not in shorthands:
                fail("unknown shorthand flag: '%s' in %s" % (letter, arg))
            value = body[1:] if body.startswith('=') else (body or None)
            take(shorthands[letter], value, rest, '-' + letter)
        else:
            positional.append(arg)
    if positional:
        fail('%s does not take any arguments, got %s' % (program, json.dumps(positional)))
    return flags


def parse_goflags(argv, known, program):
    """Go's `flag` package (flanneld): -f or --f, =value or next arg, bool only with =; stops at the first
    non-flag; an unknown flag prints 'flag provided but not defined' and usage, exit 2."""
    flags = Flags()

    def fail(message):
        sys.stderr.write('%s\n%s' % (message, usage_text(program, known)))
        sys.exit(2)

    rest = list(argv)
    while rest and rest[0].startswith('-') and rest[0] not in ('-', '--'):
        arg = rest.pop(0)
        name, eq, value = arg.lstrip('-').partition('=')
        spec = known.get(name)
        if spec is None:
            fail('flag provided but not defined: -%s' % name)
        if eq:
            if spec.get('bool') and value not in BOOL_STRINGS:
                fail('invalid boolean value "%s" for -%s: parse error' % (value, name))
            flags.set(name, value)
        elif spec.get('bool'):
            flags.set(name, 'true')
        elif rest:
            flags.set(name, rest.pop(0))
        else:
            fail('flag needs an argument: -%s' % name)
    return flags


def kube_known_flags(extra_bools=()):
    """The flags this version accepts (FACTS['flags'], from k8s-flags.json) plus --help, --version and -v."""
    known = {}
    for name, spec in FACTS['flags'].items():
        known[name.lstrip('-')] = {'bool': name in BOOL_FLAGS or name in extra_bools, 'deprecated': spec.get('deprecated')}
    known['help'] = {'bool': True}
    known['version'] = {'bool': False}  # pflag: --version takes an optional value; --version alone is read below
    return known


# kube flags whose type is bool (the table does not say which are); the rest take a value.
BOOL_FLAGS = {
    '--allow-privileged', '--anonymous-auth', '--kubelet-https', '--enable-swagger-ui', '--logtostderr',
    '--enable-bootstrap-token-auth', '--experimental-bootstrap-token-auth', '--etcd-quorum-read',
    '--encryption-provider-config-automatic-reload', '--allocate-node-cidrs', '--leader-elect',
    '--use-service-account-credentials', '--alsologtostderr', '--skip-headers', '--skip-log-headers', '--one-output',
    '--add-dir-header',
}


def kube_main_flags(argv, program, shorthands=None):
    """Parse a kube component's argv; answer --help and --version as the real ones do (exit 0)."""
    argv = ['--version=true' if a == '--version' else a for a in argv]
    known = kube_known_flags()
    flags = parse_pflags(argv, known, program, dict({'v': 'v', 'h': 'help'}, **(shorthands or {})))
    if flags.bool('help'):
        sys.stdout.write(usage_text(program, known))
        sys.exit(0)
    if flags.has('version') and flags.get('version') not in ('false', 'False', '0'):
        print('Kubernetes v%s' % FACTS['version'])  # exactly the real line: roles compare it
        sys.stderr.write('(%s)\n' % STANDIN_NOTICE)
        sys.exit(0)
    log('%s v%s: %s' % (program, FACTS['version'], STANDIN_NOTICE))
    for name, values in sorted(flags.values.items()):
        log('FLAG: --%s=%s' % (name, json.dumps(values[-1])))
    check_rules(flags)
    return flags


def check_rules(flags):
    """The table's fatal rules for this version (FACTS['rules']): a value the release refuses, flags it will not take
    together, flags it requires. Each exits as the real binary does, with its error."""
    for rule in FACTS.get('rules', []):
        kind = rule['kind']
        if kind == 'value':
            name = rule['flag'].lstrip('-')
            for value in flags.all(name):
                for item in (value.split(',') if rule.get('items') else [value]):
                    if re.search(rule['match'], item.strip()):
                        die(rule['error'].replace('{value}', item.strip()))
        elif kind == 'exclusive':
            first, others = rule['flags'][0].lstrip('-'), [f.lstrip('-') for f in rule['flags'][1:]]
            if flags.get(first) and any(flags.get(o) for o in others):
                die(rule['error'])
        elif kind == 'required':
            if any(not flags.get(f.lstrip('-')) for f in rule['flags']):
                die(rule['error'])


def flags_only_exit(program):
    """STANDIN_FLAGS_ONLY=1: stop after the flag and value checks, before files, etcd and serving (exit 0): how a
    test asks whether this version accepts a command line at all."""
    if os.environ.get('STANDIN_FLAGS_ONLY') == '1':
        log('%s: flags accepted (STANDIN_FLAGS_ONLY)' % program)
        sys.exit(0)


# ---------------------------------------------------------------- files, keys and certificates (openssl CLI)

def read_file(path, what):
    if not path:
        die('%s: no file given' % what)
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError as e:
        die('%s: open %s: %s' % (what, path, e.strerror.lower() if e.strerror else e))


def openssl(args, data=None):
    r = subprocess.run(['openssl'] + args, input=data, capture_output=True)
    return r.returncode, r.stdout, r.stderr


def check_certificate(path, what):
    """The PEM certificate(s) at path parse; returns the first one's public key (PEM) to match against its key."""
    data = read_file(path, what)
    if b'-----BEGIN CERTIFICATE-----' not in data:
        die('%s: failed to load certificate from %s: data does not contain any valid RSA or ECDSA certificates' % (what, path))
    rc, out, err = openssl(['x509', '-noout', '-pubkey'], data)
    if rc != 0:
        die('%s: unable to load certificate %s: %s' % (what, path, err.decode(errors='replace').strip().splitlines()[-1:]))
    return out


def check_private_key(path, what):
    data = read_file(path, what)
    rc, out, err = openssl(['pkey', '-pubout'], data)
    if rc != 0 or b'PRIVATE KEY' not in data:
        die('%s: failed to load private key from %s: data does not contain a valid RSA or ECDSA private key' % (what, path))
    return out


def check_public_key(path, what):
    """A service account key file: a public key, a private key or a certificate, as the real one accepts."""
    data = read_file(path, what)
    if b'PRIVATE KEY' in data:
        return check_private_key(path, what)
    if b'CERTIFICATE' in data:
        return check_certificate(path, what)
    rc, _, _ = openssl(['pkey', '-pubin', '-noout'], data)
    if rc != 0:
        die('%s: failed to parse key file %s: data does not contain any valid RSA or ECDSA public keys' % (what, path))
    return data


def check_pair(cert_path, key_path, what):
    """A certificate and its key: both parse and belong together (tls: private key does not match public key)."""
    cert_pub = check_certificate(cert_path, what)
    key_pub = check_private_key(key_path, what)
    if cert_pub.strip() != key_pub.strip():
        die('%s: unable to load server certificate: tls: private key does not match public key' % what)


def self_signed_pair(directory, names):
    """The serving pair kube-controller-manager and kube-scheduler make for themselves when given none."""
    cert, key = os.path.join(directory, 'serving.crt'), os.path.join(directory, 'serving.key')
    san = ','.join(('IP:' if re.match(r'^[\d.]+$|:', n) else 'DNS:') + n for n in names)
    rc, _, err = openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '365',
                          '-subj', '/CN=%s@%d' % (names[0], int(time.time())), '-addext', 'subjectAltName=' + san])
    if rc != 0:
        die('unable to generate self-signed cert: %s' % err.decode(errors='replace'))
    return cert, key


def check_cidr(text, flag):
    for part in [p for p in text.split(',') if p]:
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            die('%s: invalid CIDR address: %s' % (flag, part))


def host_port(text, flag):
    try:
        port = int(text)
    except ValueError:
        die('invalid argument "%s" for "%s" flag: strconv.ParseInt: parsing "%s": invalid syntax' % (text, flag, text))
    if not 0 <= port <= 65535:
        die('%s %d must be between 0 and 65535, inclusive.' % (flag, port))
    return port


# ---------------------------------------------------------------- a small YAML reader (block and flow styles)

class YamlError(Exception):
    pass


def yaml_load(text):
    """The YAML shapes kplay writes (kubeconfig, scheduler and encryption configs) and JSON: block mappings and
    sequences, flow collections, plain/quoted scalars, | and > block scalars, comments. One document."""
    text = text.lstrip('\ufeff')
    stripped = text.strip()
    if stripped.startswith('{') or stripped.startswith('['):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    lines = []
    for raw in text.split('\n'):
        if raw.strip() in ('---', '...') or raw.startswith('%'):
            continue
        lines.append(raw.rstrip('\r'))
    reader = _YamlBlock(lines)
    value = reader.node(-1)
    reader.skip_blank()
    if reader.i < len(lines):
        raise YamlError('line %d: unexpected content %r' % (reader.i + 1, lines[reader.i].strip()))
    return value


def _strip_comment(s):
    out, quote = [], None
    for i, c in enumerate(s):
        if quote:
            if c == quote:
                quote = None
        elif c in '"\'' and (i == 0 or s[i - 1] in ' \t:[{,-'):
            quote = c
        elif c == '#' and (i == 0 or s[i - 1] in ' \t'):
            break
        out.append(c)
    return ''.join(out).rstrip()


def _scalar(text):
    t = text.strip()
    if t == '' or t in ('~', 'null', 'Null', 'NULL'):
        return None
    if t[0] in '[{':
        value, end = _flow(t, 0)
        if t[end:].strip():
            raise YamlError('unexpected %r after a flow collection' % t[end:])
        return value
    if t[0] == '"':
        return json.loads(t)
    if t[0] == "'":
        return t[1:-1].replace("''", "'")
    if t in ('true', 'True', 'TRUE'):
        return True
    if t in ('false', 'False', 'FALSE'):
        return False
    if re.match(r'^[-+]?(0|[1-9]\d*)$', t):
        return int(t)
    if re.match(r'^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$', t):
        return float(t)
    return t


def _flow(t, i):
    """A flow collection or scalar starting at t[i]: returns (value, index after it)."""
    while i < len(t) and t[i] in ' \t':
        i += 1
    if t[i] in '[{':
        close = ']' if t[i] == '[' else '}'
        items, mapping, i = [], {}, i + 1
        while True:
            while i < len(t) and t[i] in ' \t,':
                i += 1
            if i >= len(t):
                raise YamlError('unclosed flow collection')
            if t[i] == close:
                return (items if close == ']' else mapping), i + 1
            key, i = _flow(t, i)
            while i < len(t) and t[i] in ' \t':
                i += 1
            if close == '}' or (i < len(t) and t[i] == ':'):
                if i < len(t) and t[i] == ':':
                    value, i = _flow(t, i + 1)
                else:
                    value = None
                if close == '}':
                    mapping[key] = value
                else:
                    items.append({key: value})
            else:
                items.append(key)
    if t[i] in '"\'':
        q, j = t[i], i + 1
        while j < len(t):
            if t[j] == '\\' and q == '"':
                j += 2
                continue
            if t[j] == q:
                if q == "'" and j + 1 < len(t) and t[j + 1] == "'":
                    j += 2
                    continue
                break
            j += 1
        return _scalar(t[i:j + 1]), j + 1
    j = i
    while j < len(t) and t[j] not in ',]}' and not (t[j] == ':' and (j + 1 == len(t) or t[j + 1] in ' ,]}')):
        j += 1
    return _scalar(t[i:j]), j


def _split_key(content):
    """`key: rest` -> (key, rest) when content is a mapping entry, else None."""
    if content[0] in '"\'':
        q = content[0]
        end = content.find(q, 1)
        while q == "'" and end != -1 and content[end + 1:end + 2] == "'":
            end = content.find(q, end + 2)
        if end != -1 and content[end + 1:end + 2] == ':' and content[end + 2:end + 3] in ('', ' '):
            return _scalar(content[:end + 1]), content[end + 2:]
        return None
    m = re.match(r'^([^\s#\[\]{},][^#]*?|[^\s#\[\]{},]):(\s|$)(.*)$', content)
    if not m or content[0] in '[{':
        return None
    return m.group(1).strip(), m.group(3)


class _YamlBlock:
    def __init__(self, lines):
        self.lines, self.i = lines, 0

    def skip_blank(self):
        while self.i < len(self.lines) and _strip_comment(self.lines[self.i]).strip() == '':
            self.i += 1

    def peek(self):
        self.skip_blank()
        if self.i >= len(self.lines):
            return None, None
        line = _strip_comment(self.lines[self.i])
        return len(line) - len(line.lstrip(' ')), line.strip()

    def node(self, parent_indent, seq_ok_at_parent=False):
        indent, content = self.peek()
        if content is None or indent < parent_indent or (indent == parent_indent and not (seq_ok_at_parent and content.startswith('-'))):
            return None
        if content == '-' or content.startswith('- '):
            return self.sequence(indent)
        if _split_key(content) is not None:
            return self.mapping(indent)
        return self.plain(indent)

    def plain(self, indent):
        parts = []
        while True:
            ind, content = self.peek()
            if content is None or ind < indent:
                break
            parts.append(content)
            self.i += 1
        return _scalar(' '.join(parts))

    def value_after(self, rest, indent, seq_ok):
        """The value of `key: rest` or `- rest` whose own line is at `indent`."""
        rest = rest.strip()
        if rest[:1] in ('|', '>'):
            return self.block_scalar(rest, indent)
        if rest == '':
            return self.node(indent, seq_ok)
        if rest[0] in '[{"\'' and not self._flow_closed(rest):
            rest = self._join_flow(rest)  # a flow collection or quoted string folded over lines
        value = _scalar(rest)
        if isinstance(value, str) and rest[0] not in '"\'':
            ind, content = self.peek()
            while content is not None and ind > indent and _split_key(content) is None and not content.startswith('- '):
                value += ' ' + content
                self.i += 1
                ind, content = self.peek()
        return value

    @staticmethod
    def _flow_closed(text):
        try:
            _flow(text, 0)
            return True
        except (YamlError, IndexError, ValueError):
            return False

    def _join_flow(self, first):
        text = first
        while not self._flow_closed(text) and self.i < len(self.lines):
            line = self.lines[self.i].strip() if first[0] in '"\'' else _strip_comment(self.lines[self.i]).strip()
            text += ' ' + line
            self.i += 1
        return text

    def block_scalar(self, header, indent):
        chomp = '-' if '-' in header else ('+' if '+' in header else '')
        body, block_indent = [], None
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() == '':
                body.append('')
                self.i += 1
                continue
            ind = len(line) - len(line.lstrip(' '))
            if block_indent is None:
                block_indent = ind
            if ind < block_indent or ind <= indent:
                break
            body.append(line[block_indent:])
            self.i += 1
        while body and body[-1] == '' and chomp != '+':
            body.pop()
        text = '\n'.join(body)
        if header[0] == '>':
            text = re.sub(r'(?<=\S)\n(?=\S)', ' ', text)  # folded: single line breaks become spaces
        return text + ('' if chomp == '-' else '\n')

    def mapping(self, indent):
        result = {}
        while True:
            ind, content = self.peek()
            if content is None or ind < indent:
                return result
            if ind > indent:
                raise YamlError('line %d: bad indentation' % (self.i + 1))
            split = _split_key(content)
            if split is None:
                return result
            key, rest = split
            self.i += 1
            if key in result:
                raise YamlError('line %d: mapping key %r already defined' % (self.i, key))
            result[key] = self.value_after(rest, indent, True)

    def sequence(self, indent):
        result = []
        while True:
            ind, content = self.peek()
            if content is None or ind != indent or not (content == '-' or content.startswith('- ')):
                return result
            rest = content[1:]
            inner = len(rest) - len(rest.lstrip(' '))
            rest = rest.strip()
            if rest and (rest == '-' or rest.startswith('- ') or (_split_key(rest) is not None and rest[0] not in '[{')):
                # `- key: value` or `- - x` starts a collection whose items sit at the column after the dash
                col = indent + 1 + inner
                self.lines[self.i] = ' ' * col + rest
                result.append(self.node(col - 1))
            else:
                self.i += 1
                result.append(self.value_after(rest, indent, False))


def read_yaml_file(path, what):
    data = read_file(path, what)
    try:
        return yaml_load(data.decode())
    except (YamlError, ValueError) as e:
        die('%s: error loading %s: %s' % (what, path, e))


# ---------------------------------------------------------------- kubeconfig

def load_kubeconfig(path, what, workdir):
    """The current context's server URL and, written to files in workdir, its CA and client certificate and key:
    all must be there and valid, and the certificate must match its key."""
    doc = read_yaml_file(path, what)
    if not isinstance(doc, dict):
        die('%s: %s is not a kubeconfig' % (what, path))

    def named(list_name, name):
        for entry in doc.get(list_name) or []:
            if isinstance(entry, dict) and entry.get('name') == name:
                return entry
        die('%s: invalid configuration: %s %r not found in %s' % (what, list_name[:-1], name, path))

    current = doc.get('current-context')
    if not current:
        die('%s: invalid configuration: no configuration has been provided (%s has no current-context)' % (what, path))
    context = named('contexts', current).get('context') or {}
    cluster = named('clusters', context.get('cluster')).get('cluster') or {}
    user = named('users', context.get('user')).get('user') or {}
    server = cluster.get('server')
    if not server or not server.startswith('https://'):
        die('%s: invalid configuration: cluster server %r must be an https URL' % (what, server))
    files = {}
    for field, name in (('certificate-authority', 'ca.crt'), ('client-certificate', 'client.crt'), ('client-key', 'client.key')):
        source = cluster if field == 'certificate-authority' else user
        if source.get(field + '-data'):
            target = os.path.join(workdir, name)
            with open(target, 'wb') as f:
                f.write(base64.b64decode(source[field + '-data']))
            files[field] = target
        elif source.get(field):
            read_file(source[field], what)
            files[field] = source[field]
        else:
            die('%s: invalid configuration: %s has no %s' % (what, path, field))
    check_certificate(files['certificate-authority'], what + ' (certificate-authority)')
    check_pair(files['client-certificate'], files['client-key'], what + ' (client certificate)')
    return {'server': server.rstrip('/'), 'ca': files['certificate-authority'],
            'cert': files['client-certificate'], 'key': files['client-key']}


def client_context(ca, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = True
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def https_request(url, ctx, method='GET', path='', body=None, headers=None, timeout=5):
    """(status, body bytes) of one HTTPS request; raises OSError/ssl.SSLError when the peer is not reachable."""
    m = re.match(r'^https://([^/:]+|\[[^\]]+\])(?::(\d+))?(/.*)?$', url)
    if not m:
        raise OSError('bad URL %r' % url)
    host, port = m.group(1).strip('[]'), int(m.group(2) or 443)
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=timeout)
    try:
        conn.request(method, (m.group(3) or '') + path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# ---------------------------------------------------------------- etcd v3 over its JSON gateway, TLS client certs

def _b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def _prefix_end(prefix):
    b = bytearray(prefix.encode())
    b[-1] += 1
    return bytes(b)


class Etcd:
    """Talks to the first reachable of `endpoints` (https://h:2379,...) with the given CA and client pair."""

    def __init__(self, endpoints, ca=None, cert=None, key=None):
        self.endpoints = [e.strip().rstrip('/') for e in endpoints.split(',') if e.strip()]
        if any(e.startswith('https://') for e in self.endpoints):
            self.ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
            if cert:
                self.ctx.load_cert_chain(cert, key)
        else:
            self.ctx = None

    def call(self, path, payload):
        last = None
        for endpoint in self.endpoints:
            try:
                if endpoint.startswith('https://'):
                    status, body = https_request(endpoint, self.ctx, 'POST', path, json.dumps(payload))
                else:
                    m = re.match(r'^http://([^/:]+)(?::(\d+))?', endpoint)
                    conn = http.client.HTTPConnection(m.group(1), int(m.group(2) or 2379), timeout=5)
                    conn.request('POST', path, json.dumps(payload))
                    resp = conn.getresponse()
                    status, body = resp.status, resp.read()
                    conn.close()
            except (OSError, ssl.SSLError) as e:
                last = '%s: %s' % (endpoint, e)
                continue
            if status != 200:
                raise OSError('etcd %s %s: %d %s' % (endpoint, path, status, body[:200]))
            return json.loads(body or b'{}')
        raise OSError('no etcd endpoint answered (%s)' % last)

    def get(self, key):
        """(value bytes, mod_revision) or (None, 0)."""
        kvs = self.call('/v3/kv/range', {'key': _b64(key)}).get('kvs') or []
        if not kvs:
            return None, 0
        return base64.b64decode(kvs[0].get('value', '')), int(kvs[0]['mod_revision'])

    def list(self, prefix):
        """[(key, value bytes, mod_revision)] under prefix, and the store's revision."""
        r = self.call('/v3/kv/range', {'key': _b64(prefix), 'range_end': _b64(_prefix_end(prefix))})
        items = [(base64.b64decode(kv['key']).decode(), base64.b64decode(kv.get('value', '')), int(kv['mod_revision']))
                 for kv in r.get('kvs') or []]
        return items, int(r['header']['revision'])

    def put(self, key, value, lease=None):
        payload = {'key': _b64(key), 'value': _b64(value)}
        if lease:
            payload['lease'] = lease
        return int(self.call('/v3/kv/put', payload)['header']['revision'])

    def put_if(self, key, value, mod_revision, lease=None):
        """Compare-and-swap: write only if the key's mod_revision is still `mod_revision` (0: absent).
        Returns the new revision, or None when someone else wrote first."""
        put = {'key': _b64(key), 'value': _b64(value)}
        if lease:
            put['lease'] = lease
        r = self.call('/v3/kv/txn', {
            'compare': [{'key': _b64(key), 'target': 'MOD', 'result': 'EQUAL', 'mod_revision': str(mod_revision)}],
            'success': [{'request_put': put}],
        })
        return int(r['header']['revision']) if r.get('succeeded') else None

    def delete(self, key):
        return int(self.call('/v3/kv/deleterange', {'key': _b64(key)}).get('deleted') or 0)

    def grant(self, ttl):
        return self.call('/v3/lease/grant', {'TTL': ttl})['ID']

    def status(self):
        return self.call('/v3/maintenance/status', {})


# ---------------------------------------------------------------- serving HTTPS

class TLSServer(http.server.ThreadingHTTPServer):
    """HTTPS with the handshake done in the request's thread, so one slow client cannot stall the accept loop."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, ctx):
        if ':' in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)
        self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def finish_request(self, request, client_address):
        try:
            request.settimeout(10)
            request.do_handshake()
            request.settimeout(None)
        except (OSError, ssl.SSLError):
            return
        super().finish_request(request, client_address)


def server_context(cert, key, client_ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except ssl.SSLError as e:
        die('unable to load server certificate: %s' % e)
    if client_ca:
        ctx.load_verify_locations(client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL  # no certificate: anonymous; a bad one: handshake refused
    return ctx


def serve_in_background(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


class QuietHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        if os.environ.get('STANDIN_ACCESS_LOG'):
            log('%s %s' % (self.address_string(), fmt % args))

    def send_body(self, code, body, content_type='text/plain; charset=utf-8'):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('X-Content-Type-Options', 'nosniff')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)


def health_text(checks, verbose, name):
    """The body of /healthz, /livez or /readyz as the k8s health handler writes it."""
    failed = [c for c, ok in checks if not ok]
    if not verbose and not failed:
        return 200, 'ok'
    lines = ['[%s]%s %s' % ('+' if ok else '-', c, 'ok' if ok else 'failed: reason withheld') for c, ok in checks]
    lines.append('%s check %s' % (name, 'failed' if failed else 'passed'))
    return (500 if failed else 200), '\n'.join(lines) + '\n'


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def private_workdir(program):
    """A folder for generated certificates and decoded kubeconfig data, removed at exit (SIGTERM included)."""
    path = tempfile.mkdtemp(prefix='%s-standin-' % program)
    atexit.register(shutil.rmtree, path, True)
    return path


# systemd stops units with SIGTERM: exit normally so that atexit clean-ups run.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def wait_forever():
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sys.exit(0)


# ---------------------------------------------------------------- kube-controller-manager and kube-scheduler

class ApiserverLink:
    """Keeps trying the apiserver with the kubeconfig's client certificate, as the real components keep retrying;
    `ok` says whether the last try was answered for this identity (health reports it)."""

    def __init__(self, kubeconfig, program):
        self.kubeconfig, self.program, self.ok, self.last_error = kubeconfig, program, False, None

    def try_once(self):
        kc = self.kubeconfig
        try:
            status, body = https_request(kc['server'], client_context(kc['ca'], kc['cert'], kc['key']), 'GET', '/api',
                                         headers={'Accept': 'application/json', 'User-Agent': self.program + '/standin'})
            error = None if status == 200 else 'apiserver answered %d: %s' % (status, body[:200].decode(errors='replace'))
        except (OSError, ssl.SSLError) as e:
            error = str(e)
        if error != self.last_error or self.ok != (error is None):
            if error:
                log('error retrieving resource lock / talking to %s: %s' % (kc['server'], error), 'E')
            else:
                log('connected to the apiserver at %s' % kc['server'])
        self.ok, self.last_error = error is None, error

    def run(self, interval=2.0):
        def loop():
            while True:
                self.try_once()
                time.sleep(interval)
        threading.Thread(target=loop, daemon=True).start()


def serve_insecure(flags, program, link):
    """Plain HTTP /healthz on --address:--port (0.0.0.0 and FACTS['insecurePort'] by default), as kcm up to 1.21
    and the scheduler up to 1.22 serve it without authentication; --port=0 turns it off."""
    default = FACTS.get('insecurePort')
    if not default:
        return
    port = host_port(flags.get('port', str(default)), '--port')
    if port == 0:
        return
    bind = flags.get('address', '0.0.0.0')

    class Handler(QuietHandler):
        def do_GET(self):
            if self.path.split('?')[0].rstrip('/') == '/healthz':
                code, text = health_text([('leaderElection', True), ('apiserver-connection', link.ok)], False, 'healthz')
                return self.send_body(code, text)
            self.send_body(404, '404 page not found\n')

    try:
        server = http.server.ThreadingHTTPServer((bind, port), Handler)
    except OSError as e:
        die('failed to create listener: failed to listen on %s:%d: bind: %s' % (bind, port, e.strerror))
    serve_in_background(server)
    log('Serving insecurely on %s:%d' % (bind, port), 'W')


def tls_min_version(flags):
    """--tls-min-version (VersionTLS10 to VersionTLS13) as Python's TLSVersion; the Go default is TLS 1.2 here."""
    value = flags.get('tls-min-version', 'VersionTLS12')
    versions = {'VersionTLS10': ssl.TLSVersion.TLSv1, 'VersionTLS11': ssl.TLSVersion.TLSv1_1,
                'VersionTLS12': ssl.TLSVersion.TLSv1_2, 'VersionTLS13': ssl.TLSVersion.TLSv1_3}
    if value not in versions:
        die('invalid argument "%s" for "--tls-min-version" flag: unknown tls version "%s"' % (value, value))
    return versions[value]


def serve_component(flags, program, link, health_paths):
    """Secure serving on --bind-address:--secure-port with --tls-cert-file, or a self-signed certificate (the real
    default when none is given). Health answers anonymously; it fails while the apiserver is not reached: stricter
    than the real one (which stays 'ok' while retrying) so that a lab test sees a broken kubeconfig."""
    port = host_port(flags.get('secure-port', str(FACTS['securePort'])), '--secure-port')
    if port == 0:
        log('secure serving disabled (--secure-port=0)')
        return
    bind = flags.get('bind-address', '0.0.0.0')
    for name in ('client-ca-file', 'requestheader-client-ca-file'):
        if flags.get(name):
            check_certificate(flags.get(name), '--' + name)
    if flags.get('tls-cert-file') or flags.get('tls-private-key-file'):
        cert, key = flags.get('tls-cert-file'), flags.get('tls-private-key-file')
        check_pair(cert, key, 'serving cert')
    else:
        cert, key = self_signed_pair(private_workdir(program), ['localhost', '127.0.0.1'])

    class Handler(QuietHandler):
        def do_GET(self):
            path = self.path.split('?')[0]
            name = path.strip('/').split('/')[0]
            if path.rstrip('/') in health_paths:
                code, text = health_text([('leaderElection', True), ('apiserver-connection', link.ok)], 'verbose' in self.path, name)
                return self.send_body(code, text)
            if name in ('healthz', 'livez', 'readyz'):  # always allowed, but not served by this component or version
                return self.send_body(404, '404 page not found\n')
            self.send_body(403, json.dumps({'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'reason': 'Forbidden', 'code': 403,
                                            'message': 'forbidden: User "system:anonymous" cannot get path "%s"' % path}), 'application/json')
        do_HEAD = do_GET

    try:
        ctx = server_context(cert, key)
        ctx.minimum_version = tls_min_version(flags)
        server = TLSServer((bind, port), Handler, ctx)
    except OSError as e:
        die('failed to create listener: failed to listen on %s:%d: bind: %s' % (bind, port, e.strerror))
    serve_in_background(server)
    log('Serving securely on %s:%d' % (bind, port))
    serve_insecure(flags, program, link)
