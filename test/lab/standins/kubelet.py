# kubelet stand-in (standalone, static pods only): its flags and its KubeletConfiguration checked as that version
# checks them; every manifest of staticPodPath decoded and validated as the kubelet and the API validation would; each
# pod's containers run as host processes (hostNetwork), probed, restarted, and stopped when the manifest changes or goes.
# What it logs, where it writes logs and the pods file is a contract with the static-pod tests (README.md beside it).

from standin_lib import *  # noqa: F401,F403  build: inlined

import ctypes
import hashlib
import urllib.request

PROGRAM = 'kubelet'
CONFIG_KIND, CONFIG_API = 'KubeletConfiguration', 'kubelet.config.k8s.io/v1beta1'
POLL = float(os.environ.get('STANDIN_KUBELET_POLL', '1'))  # the real one checks the folder every 20 s (fileCheckFrequency)
POD_LOGS = os.environ.get('STANDIN_POD_LOGS', '/var/log/pods')  # changed only by tests that run it outside a lab host
IMAGE_CACHE = ['/var/lib/kubelet/standin-images']  # under --root-dir
KUBE_IMAGES = ('kube-apiserver', 'kube-controller-manager', 'kube-scheduler')

# ---------------------------------------------------------------- flags (the table has no kubelet: a short list)

CONFIG_FILE_FLAG = ("This parameter should be set via the config file specified by the Kubelet's --config flag. "
                    "See https://kubernetes.io/docs/tasks/administer-cluster/kubelet-config-file/ for more information.")
# name -> (bool, added, deprecated from, removed from, deprecation message). Flags backed by a config field print
# pflag's deprecation from the release the real one marks them (most from before 1.21; the runtime endpoint from 1.27).
KUBELET_FLAGS = {
    'config': (False, None, None, None, None), 'kubeconfig': (False, None, None, None, None),
    'bootstrap-kubeconfig': (False, None, None, None, None), 'hostname-override': (False, None, None, None, None),
    'node-ip': (False, None, None, None, None), 'node-labels': (False, None, None, None, None),
    'root-dir': (False, None, None, None, None), 'cert-dir': (False, None, None, None, None),
    'v': (False, None, None, None, None), 'vmodule': (False, None, None, None, None),
    'register-node': (True, None, None, None, None), 'feature-gates': (False, None, '1.21', None, CONFIG_FILE_FLAG),
    'container-runtime-endpoint': (False, None, '1.27', None, CONFIG_FILE_FLAG),
    'image-service-endpoint': (False, None, '1.27', None, CONFIG_FILE_FLAG),
    'container-runtime': (False, None, '1.24', '1.27', 'will be removed in 1.27 as the only valid value is \'remote\''),
    'network-plugin': (False, None, None, '1.24', None), 'cni-bin-dir': (False, None, None, '1.24', None),
    'cni-conf-dir': (False, None, None, '1.24', None), 'docker-endpoint': (False, None, None, '1.24', None),
    'pod-infra-container-image': (False, None, '1.27', '1.35', 'will be removed in 1.35. Image garbage collector will get sandbox image information from CRI.'),
    'logtostderr': (True, None, '1.23', '1.26', 'will be removed in a future release'),
    'pod-manifest-path': (False, None, '1.21', None, CONFIG_FILE_FLAG), 'cgroup-driver': (False, None, '1.21', None, CONFIG_FILE_FLAG),
    'fail-swap-on': (True, None, '1.21', None, CONFIG_FILE_FLAG), 'address': (False, None, '1.21', None, CONFIG_FILE_FLAG),
    'port': (False, None, '1.21', None, CONFIG_FILE_FLAG), 'read-only-port': (False, None, '1.21', None, CONFIG_FILE_FLAG),
    'healthz-port': (False, None, '1.21', None, CONFIG_FILE_FLAG), 'healthz-bind-address': (False, None, '1.21', None, CONFIG_FILE_FLAG),
    'anonymous-auth': (True, None, '1.21', None, CONFIG_FILE_FLAG), 'authorization-mode': (False, None, '1.21', None, CONFIG_FILE_FLAG),
    'authentication-token-webhook': (True, None, '1.21', None, CONFIG_FILE_FLAG), 'client-ca-file': (False, None, '1.21', None, CONFIG_FILE_FLAG),
    'cluster-dns': (False, None, '1.21', None, CONFIG_FILE_FLAG), 'cluster-domain': (False, None, '1.21', None, CONFIG_FILE_FLAG),
    'runtime-request-timeout': (False, None, '1.21', None, CONFIG_FILE_FLAG), 'max-pods': (False, None, '1.21', None, CONFIG_FILE_FLAG),
    'register-with-taints': (False, None, '1.21', None, CONFIG_FILE_FLAG), 'tls-cert-file': (False, None, '1.21', None, CONFIG_FILE_FLAG),
    'tls-private-key-file': (False, None, '1.21', None, CONFIG_FILE_FLAG),
}

# KubeletConfiguration v1beta1 fields: unknown ones make the strict decoder fail and the kubelet fall back to a
# lenient decode with a log line (not fatal, as the real one).
CONFIG_FIELDS = set('''
apiVersion kind enableServer staticPodPath podLogsDir syncFrequency fileCheckFrequency httpCheckFrequency staticPodURL
staticPodURLHeader address port readOnlyPort tlsCertFile tlsPrivateKeyFile tlsCipherSuites tlsMinVersion rotateCertificates
serverTLSBootstrap authentication authorization registryPullQPS registryBurst imagePullCredentialsVerificationPolicy
preloadedImagesVerificationAllowlist eventRecordQPS eventBurst enableDebuggingHandlers enableContentionProfiling healthzPort
healthzBindAddress oomScoreAdj clusterDomain clusterDNS streamingConnectionIdleTimeout nodeStatusUpdateFrequency
nodeStatusReportFrequency nodeLeaseDurationSeconds imageMinimumGCAge imageMaximumGCAge imageGCHighThresholdPercent
imageGCLowThresholdPercent volumeStatsAggPeriod kubeletCgroups systemCgroups cgroupRoot cgroupsPerQOS cgroupDriver
cpuManagerPolicy singleProcessOOMKill cpuManagerPolicyOptions cpuManagerReconcilePeriod memoryManagerPolicy
topologyManagerPolicy topologyManagerScope topologyManagerPolicyOptions qosReserved runtimeRequestTimeout hairpinMode maxPods
podCIDR podPidsLimit resolvConf runOnce cpuCFSQuota cpuCFSQuotaPeriod nodeStatusMaxImages maxOpenFiles contentType kubeAPIQPS
kubeAPIBurst serializeImagePulls maxParallelImagePulls evictionHard evictionSoft evictionSoftGracePeriod
evictionPressureTransitionPeriod evictionMaxPodGracePeriod evictionMinimumReclaim mergeDefaultEvictionSettings podsPerCore
enableControllerAttachDetach protectKernelDefaults makeIPTablesUtilChains iptablesMasqueradeBit iptablesDropBit featureGates
failSwapOn memorySwap containerLogMaxSize containerLogMaxFiles containerLogMaxWorkers containerLogMonitorInterval
configMapAndSecretChangeDetectionStrategy systemReserved kubeReserved reservedSystemCPUs showHiddenMetricsForVersion
systemReservedCgroup kubeReservedCgroup enforceNodeAllocatable allowedUnsafeSysctls volumePluginDir providerID
kernelMemcgNotification logging enableSystemLogHandler enableSystemLogQuery shutdownGracePeriod
shutdownGracePeriodCriticalPods shutdownGracePeriodByPodPriority crashLoopBackOff reservedMemory enableProfilingHandler
enableDebugFlagsHandler seccompDefault memoryThrottlingFactor registerWithTaints registerNode tracing
localStorageCapacityIsolation containerRuntimeEndpoint imageServiceEndpoint failCgroupV1 userNamespaces
'''.split())
CONFIG_SUBFIELDS = {
    'authentication': {'x509', 'webhook', 'anonymous'}, 'authorization': {'mode', 'webhook'},
}


def known_flags():
    version = FACTS['version']
    known = {'help': {'bool': True}, 'version': {'bool': False}}
    for name, (is_bool, added, deprecated, removed, message) in KUBELET_FLAGS.items():
        if added and not at_least(version, added):
            continue
        if removed and at_least(version, removed):
            continue
        known[name] = {'bool': is_bool, 'deprecated': message if deprecated and at_least(version, deprecated) else None}
    return known


def parse_flags(argv):
    argv = ['--version=true' if a == '--version' else a for a in argv]
    known = known_flags()
    flags = parse_pflags(argv, known, PROGRAM, {'v': 'v', 'h': 'help'})
    if flags.bool('help'):
        sys.stdout.write(usage_text(PROGRAM, known))
        sys.exit(0)
    if flags.has('version') and flags.get('version') not in ('false', 'False', '0'):
        print('Kubernetes v%s' % FACTS['version'])
        sys.stderr.write('(%s)\n' % STANDIN_NOTICE)
        sys.exit(0)
    log('kubelet v%s: %s' % (FACTS['version'], STANDIN_NOTICE))
    for name, values in sorted(flags.values.items()):
        log('FLAG: --%s=%s' % (name, json.dumps(values[-1])))
    return flags


def fail(message):
    """The kubelet's fatal start errors: `command failed` with the error, exit 1 (systemd restarts the unit)."""
    die(message)


# ---------------------------------------------------------------- the KubeletConfiguration file

def load_config(path):
    if not path:
        return {}
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        fail('failed to load kubelet config file, path: %s, error: failed to load Kubelet config file %s, error failed to read kubelet config file "%s", error: %s'
             % (path, path, path, (e.strerror or str(e)).lower()))
    try:
        doc = yaml_load(data.decode())
    except (YamlError, ValueError, UnicodeDecodeError) as e:
        fail('failed to load kubelet config file, path: %s, error: failed to decode: %s' % (path, e))
    if not isinstance(doc, dict):
        fail('failed to load kubelet config file, path: %s, error: failed to decode: Object \'Kind\' is missing' % path)
    kind, api = doc.get('kind'), doc.get('apiVersion')
    if not kind:
        fail('failed to load kubelet config file, path: %s, error: failed to decode: Object \'Kind\' is missing in \'%s\'' % (path, data.decode()[:80]))
    if kind != CONFIG_KIND or api != CONFIG_API:
        fail('failed to load kubelet config file, path: %s, error: failed to decode: no kind "%s" is registered for version "%s" in scheme "pkg/kubelet/apis/config/scheme/scheme.go:33"'
             % (path, kind, api))
    unknown = sorted(k for k in doc if k not in CONFIG_FIELDS)
    for parent, subs in CONFIG_SUBFIELDS.items():
        if isinstance(doc.get(parent), dict):
            unknown += sorted('%s.%s' % (parent, k) for k in doc[parent] if k not in subs)
    if unknown:
        log('"Using lenient decoding as strict decoding failed" err="strict decoding error: %s"'
            % ', '.join('unknown field \\"%s\\"' % u for u in unknown))
    return doc


def setting(flags, config, flag, field, default):
    """A flag given on the command line wins over the config file's field, as in the real kubelet."""
    if flags.has(flag):
        return flags.get(flag)
    value = config.get(field)
    return default if value is None else value


def check_config(flags, config):
    driver = setting(flags, config, 'cgroup-driver', 'cgroupDriver', 'cgroupfs')
    if driver not in ('cgroupfs', 'systemd'):
        fail('failed to validate kubelet configuration, error: invalid configuration: cgroupDriver (--cgroup-driver) %r must be cgroupfs or systemd' % driver)
    for field in ('healthzPort', 'port', 'readOnlyPort'):
        value = config.get(field)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= 65535):
            fail('failed to validate kubelet configuration, error: invalid configuration: %s (--%s) %s must be between 0 and 65535, inclusive'
                 % (field, re.sub(r'([A-Z])', lambda m: '-' + m.group(1).lower(), field), value))
    auth = config.get('authentication') or {}
    if (auth.get('webhook') or {}).get('enabled') and not flags.get('kubeconfig'):
        fail('failed to run Kubelet: no client provided, cannot use webhook authentication')
    authz = (config.get('authorization') or {}).get('mode')
    if authz == 'Webhook' and not flags.get('kubeconfig'):
        fail('failed to run Kubelet: no client provided, cannot use webhook authorization')
    if authz not in (None, 'Webhook', 'AlwaysAllow'):
        fail('failed to validate kubelet configuration, error: invalid configuration: authorization.mode %r must be AlwaysAllow or Webhook' % authz)
    # The container runtime: the lab has none; the stand-in runs containers itself and never dials the endpoint.
    version = FACTS['version']
    runtime = flags.get('container-runtime', 'docker' if not at_least(version, '1.24') else 'remote')
    endpoint = flags.get('container-runtime-endpoint') or config.get('containerRuntimeEndpoint')
    if not at_least(version, '1.24') and runtime == 'docker':
        fail('failed to run Kubelet: failed to create kubelet: failed to get docker version: Cannot connect to the Docker daemon at '
             'unix:///var/run/docker.sock. Is the docker daemon running? (the lab has no docker: give --container-runtime=remote)')
    if runtime != 'remote':
        fail('failed to run Kubelet: unsupported CRI runtime: "%s", only "remote" is currently supported' % runtime)
    if not endpoint and (at_least(version, '1.27') or not at_least(version, '1.24')):
        fail('failed to run Kubelet: validate service connection: the container runtime endpoint address was not specified or empty, '
             'use --container-runtime-endpoint to set')
    return endpoint or 'unix:///run/containerd/containerd.sock'


# ---------------------------------------------------------------- the pod schema (core/v1), strict

# Each object: field -> type. Types: 's' string, 'i' integer, 'b' bool, 'ios' int or string, 'q' quantity,
# ('list', T), ('map', T) (string keys), or the name of another object. A field may carry a release range
# as (type, added, removed).
SCHEMA = {
    'Pod': {'apiVersion': 's', 'kind': 's', 'metadata': 'ObjectMeta', 'spec': 'PodSpec', 'status': 'any'},
    'ObjectMeta': {
        'name': 's', 'generateName': 's', 'namespace': 's', 'selfLink': 's', 'uid': 's', 'resourceVersion': 's', 'generation': 'i',
        'creationTimestamp': 'any', 'deletionTimestamp': 'any', 'deletionGracePeriodSeconds': 'i', 'labels': ('map', 's'),
        'annotations': ('map', 's'), 'ownerReferences': ('list', 'any'), 'finalizers': ('list', 's'),
        'clusterName': ('s', None, '1.25'), 'managedFields': ('list', 'any'),
    },
    'PodSpec': {
        'volumes': ('list', 'Volume'), 'initContainers': ('list', 'Container'), 'containers': ('list', 'Container'),
        'ephemeralContainers': ('list', 'any'), 'restartPolicy': 's', 'terminationGracePeriodSeconds': 'i',
        'activeDeadlineSeconds': 'i', 'dnsPolicy': 's', 'nodeSelector': ('map', 's'), 'serviceAccountName': 's',
        'serviceAccount': 's', 'automountServiceAccountToken': 'b', 'nodeName': 's', 'hostNetwork': 'b', 'hostPID': 'b',
        'hostIPC': 'b', 'shareProcessNamespace': 'b', 'securityContext': 'PodSecurityContext', 'imagePullSecrets': ('list', 'any'),
        'hostname': 's', 'subdomain': 's', 'affinity': 'any', 'schedulerName': 's', 'tolerations': ('list', 'Toleration'),
        'hostAliases': ('list', 'any'), 'priorityClassName': 's', 'priority': 'i', 'dnsConfig': 'any', 'readinessGates': ('list', 'any'),
        'runtimeClassName': 's', 'enableServiceLinks': 'b', 'preemptionPolicy': 's', 'overhead': ('map', 'q'),
        'topologySpreadConstraints': ('list', 'any'), 'setHostnameAsFQDN': 'b', 'os': ('any', '1.23', None),
        'hostUsers': ('b', '1.25', None), 'schedulingGates': (('list', 'any'), '1.26', None),
        'resourceClaims': (('list', 'any'), '1.26', None), 'resources': ('ResourceRequirements', '1.32', None),
        'hostnameOverride': ('s', '1.34', None),
    },
    'Container': {
        'name': 's', 'image': 's', 'command': ('list', 's'), 'args': ('list', 's'), 'workingDir': 's',
        'ports': ('list', 'ContainerPort'), 'envFrom': ('list', 'any'), 'env': ('list', 'EnvVar'), 'resources': 'ResourceRequirements',
        'resizePolicy': (('list', 'any'), '1.27', None), 'restartPolicy': ('s', '1.28', None), 'volumeMounts': ('list', 'VolumeMount'),
        'volumeDevices': ('list', 'any'), 'livenessProbe': 'Probe', 'readinessProbe': 'Probe', 'startupProbe': 'Probe',
        'lifecycle': 'any', 'terminationMessagePath': 's', 'terminationMessagePolicy': 's', 'imagePullPolicy': 's',
        'securityContext': 'SecurityContext', 'stdin': 'b', 'stdinOnce': 'b', 'tty': 'b',
    },
    'ContainerPort': {'name': 's', 'hostPort': 'i', 'containerPort': 'i', 'protocol': 's', 'hostIP': 's'},
    'EnvVar': {'name': 's', 'value': 's', 'valueFrom': 'EnvVarSource'},
    'EnvVarSource': {'fieldRef': 'ObjectFieldSelector', 'resourceFieldRef': 'any', 'configMapKeyRef': 'any', 'secretKeyRef': 'any'},
    'ObjectFieldSelector': {'apiVersion': 's', 'fieldPath': 's'},
    'ResourceRequirements': {'limits': ('map', 'q'), 'requests': ('map', 'q'), 'claims': (('list', 'any'), '1.26', None)},
    'VolumeMount': {'name': 's', 'readOnly': 'b', 'mountPath': 's', 'subPath': 's', 'mountPropagation': 's', 'subPathExpr': 's',
                    'recursiveReadOnly': ('s', '1.30', None)},
    'Volume': {'name': 's', 'hostPath': 'HostPathVolumeSource', 'emptyDir': 'EmptyDirVolumeSource', 'configMap': 'any',
               'secret': 'any', 'projected': 'any', 'persistentVolumeClaim': 'any', 'downwardAPI': 'any'},
    'HostPathVolumeSource': {'path': 's', 'type': 's'},
    'EmptyDirVolumeSource': {'medium': 's', 'sizeLimit': 'q'},
    'Probe': {'exec': 'ExecAction', 'httpGet': 'HTTPGetAction', 'tcpSocket': 'TCPSocketAction', 'grpc': ('GRPCAction', '1.23', None),
              'initialDelaySeconds': 'i', 'timeoutSeconds': 'i', 'periodSeconds': 'i', 'successThreshold': 'i', 'failureThreshold': 'i',
              'terminationGracePeriodSeconds': 'i'},
    'ExecAction': {'command': ('list', 's')},
    'HTTPGetAction': {'path': 's', 'port': 'ios', 'host': 's', 'scheme': 's', 'httpHeaders': ('list', 'HTTPHeader')},
    'HTTPHeader': {'name': 's', 'value': 's'},
    'TCPSocketAction': {'port': 'ios', 'host': 's'},
    'GRPCAction': {'port': 'i', 'service': 's'},
    'SecurityContext': {'capabilities': 'Capabilities', 'privileged': 'b', 'seLinuxOptions': 'any', 'windowsOptions': 'any',
                        'runAsUser': 'i', 'runAsGroup': 'i', 'runAsNonRoot': 'b', 'readOnlyRootFilesystem': 'b',
                        'allowPrivilegeEscalation': 'b', 'procMount': 's', 'seccompProfile': 'SeccompProfile',
                        'appArmorProfile': ('any', '1.30', None)},
    'Capabilities': {'add': ('list', 's'), 'drop': ('list', 's')},
    'PodSecurityContext': {'seLinuxOptions': 'any', 'windowsOptions': 'any', 'runAsUser': 'i', 'runAsGroup': 'i', 'runAsNonRoot': 'b',
                           'supplementalGroups': ('list', 'i'), 'fsGroup': 'i', 'sysctls': ('list', 'any'), 'fsGroupChangePolicy': 's',
                           'seccompProfile': 'SeccompProfile', 'appArmorProfile': ('any', '1.30', None),
                           'supplementalGroupsPolicy': ('s', '1.31', None), 'seLinuxChangePolicy': ('s', '1.32', None)},
    'SeccompProfile': {'type': 's', 'localhostProfile': 's'},
    'Toleration': {'key': 's', 'operator': 's', 'effect': 's', 'value': 's', 'tolerationSeconds': 'i'},
}

QUANTITY = re.compile(r'^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$')
DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
PRIORITY_CLASSES = {'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000}


class Invalid(Exception):
    pass


def type_name(t):
    return {'s': 'string', 'i': 'int32', 'b': 'bool', 'ios': 'IntOrString', 'q': 'Quantity'}.get(t, 'object' if isinstance(t, str) else 'array')


def check_schema(value, t, path):
    """Decode `value` as type `t`: a wrong type is a decode error, an unknown field a strict-decoding error."""
    if t == 'any' or value is None:
        return
    if isinstance(t, tuple) and t[0] in ('list', 'map'):
        if t[0] == 'list':
            if not isinstance(value, list):
                raise Invalid('%s: cannot unmarshal %s into Go value of type []%s' % (path, type(value).__name__, type_name(t[1])))
            for i, item in enumerate(value):
                check_schema(item, t[1], '%s[%d]' % (path, i))
        else:
            if not isinstance(value, dict):
                raise Invalid('%s: cannot unmarshal %s into Go value of type map[string]%s' % (path, type(value).__name__, type_name(t[1])))
            for k, item in value.items():
                check_schema(item, t[1], '%s[%s]' % (path, k))
        return
    if t == 's':
        if not isinstance(value, str):
            raise Invalid('%s: cannot unmarshal %s into Go value of type string' % (path, json.dumps(value)))
    elif t == 'i':
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid('%s: cannot unmarshal %s into Go value of type int' % (path, json.dumps(value)))
    elif t == 'b':
        if not isinstance(value, bool):
            raise Invalid('%s: cannot unmarshal %s into Go value of type bool' % (path, json.dumps(value)))
    elif t == 'ios':
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise Invalid('%s: cannot unmarshal %s into Go value of type intstr.IntOrString' % (path, json.dumps(value)))
    elif t == 'q':
        if isinstance(value, bool) or not isinstance(value, (int, float, str)) or not QUANTITY.match(str(value)):
            raise Invalid('%s: quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'' % path)
    else:
        fields = SCHEMA[t]
        if not isinstance(value, dict):
            raise Invalid('%s: cannot unmarshal %s into Go value of type v1.%s' % (path, type(value).__name__, t))
        for key, item in value.items():
            spec = fields.get(key)
            if isinstance(spec, tuple) and len(spec) == 3:
                spec, added, removed = spec
                if (added and not at_least(FACTS['version'], added)) or (removed and at_least(FACTS['version'], removed)):
                    spec = None
            if spec is None:
                raise Invalid('strict decoding error: unknown field "%s"' % ('%s.%s' % (path, key) if path else key))
            check_schema(item, spec, '%s.%s' % (path, key) if path else key)


def parse_quantity(text):
    m = QUANTITY.match(str(text))
    number = float(m.group(1)) * (1 if str(text)[0] != '-' else -1)
    suffix = m.group(3) or ''
    binary = {'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60}
    decimal = {'n': 1e-9, 'u': 1e-6, 'm': 1e-3, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18}
    if suffix in binary:
        return number * binary[suffix]
    if suffix in decimal:
        return number * decimal[suffix]
    if suffix[:1] in ('e', 'E'):
        return number * 10 ** int(suffix[1:])
    return number


def validate_probe(probe, path, container, kind, errors):
    handlers = [h for h in ('exec', 'httpGet', 'tcpSocket', 'grpc') if probe.get(h) is not None]
    if len(handlers) == 0:
        errors.append('%s: Required value: must specify a handler type' % path)
    elif len(handlers) > 1:
        errors.append('%s.%s: Forbidden: may not specify more than 1 handler type' % (path, handlers[1]))
    for field in ('initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'):
        if probe.get(field) is not None and probe[field] < 0:
            errors.append('%s.%s: Invalid value: %d: must be greater than or equal to 0' % (path, field, probe[field]))
    if kind in ('livenessProbe', 'startupProbe') and probe.get('successThreshold') not in (None, 1):
        errors.append('%s.successThreshold: Invalid value: %d: must be 1' % (path, probe['successThreshold']))
    ports = {p.get('name'): p.get('containerPort') for p in container.get('ports') or [] if p.get('name')}
    for handler in ('httpGet', 'tcpSocket'):
        action = probe.get(handler)
        if action is None:
            continue
        port = action.get('port')
        if port is None:
            errors.append('%s.%s.port: Required value' % (path, handler))
        elif isinstance(port, int):
            if not 1 <= port <= 65535:
                errors.append('%s.%s.port: Invalid value: %d: must be between 1 and 65535, inclusive' % (path, handler, port))
        elif not re.match(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', port) or len(port) > 15 or not re.search('[a-z]', port):
            errors.append('%s.%s.port: Invalid value: "%s": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)' % (path, handler, port))
        elif port not in ports:
            # The API accepts any name; the kubelet fails the probe when no container port has it. Refused here:
            # a probe that can never pass is a manifest bug.
            errors.append('%s.%s.port: Invalid value: "%s": no container port has this name' % (path, handler, port))
        if handler == 'httpGet' and action.get('scheme', 'HTTP') not in ('HTTP', 'HTTPS'):
            errors.append('%s.httpGet.scheme: Unsupported value: "%s": supported values: "HTTP", "HTTPS"' % (path, action.get('scheme')))
    if probe.get('exec') is not None and not (probe['exec'].get('command') or []):
        errors.append('%s.exec.command: Required value' % path)
    if probe.get('grpc') is not None and not at_least(FACTS['version'], '1.24'):
        errors.append('%s.grpc: Forbidden: disabled by feature-gate GRPCContainerProbe' % path)


def validate_pod(pod, node_name):
    """The API's validation of a pod (ValidatePodCreate) as far as the lab can use it, plus what the lab needs
    (hostNetwork). Returns a list of messages (empty: valid)."""
    errors = []
    meta = pod.get('metadata') or {}
    spec = pod.get('spec') or {}
    name = meta.get('name')
    if not name:
        errors.append('metadata.name: Required value: name or generateName is required')
    elif not DNS_SUBDOMAIN.match(name) or len(name) > 253:
        errors.append('metadata.name: Invalid value: "%s": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
                      'characters, \'-\' or \'.\', and must start and end with an alphanumeric character' % name)
    namespace = meta.get('namespace') or 'default'
    if not DNS_LABEL.match(namespace):
        errors.append('metadata.namespace: Invalid value: "%s": a lowercase RFC 1123 label must consist of lower case alphanumeric '
                      'characters or \'-\'' % namespace)
    containers = spec.get('containers') or []
    if not containers:
        errors.append('spec.containers: Required value')
    volumes = {}
    for i, volume in enumerate(spec.get('volumes') or []):
        path = 'spec.volumes[%d]' % i
        vname = volume.get('name')
        if not vname or not DNS_LABEL.match(vname):
            errors.append('%s.name: Invalid value: "%s": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\'' % (path, vname or ''))
        elif vname in volumes:
            errors.append('%s.name: Duplicate value: "%s"' % (path, vname))
        sources = [k for k in volume if k != 'name']
        if len(sources) != 1:
            errors.append('%s: %s' % (path, 'Required value: must specify a volume type' if not sources else 'Forbidden: may not specify more than 1 volume type'))
        elif sources[0] not in ('hostPath', 'emptyDir'):
            # Static pods cannot reference API objects (configMap, secret, serviceAccount tokens, claims).
            errors.append('%s.%s: Forbidden: a static pod may only use hostPath and emptyDir volumes here' % (path, sources[0]))
        host = volume.get('hostPath')
        if host is not None:
            if not host.get('path'):
                errors.append('%s.hostPath.path: Required value' % path)
            if host.get('type', '') not in ('', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'):
                errors.append('%s.hostPath.type: Unsupported value: "%s": supported values: "", "BlockDevice", "CharDevice", "Directory", '
                              '"DirectoryOrCreate", "File", "FileOrCreate", "Socket"' % (path, host.get('type')))
        volumes[vname] = volume
    if spec.get('initContainers'):
        errors.append('spec.initContainers: Forbidden: the stand-in kubelet does not run init containers')
    names = set()
    for i, c in enumerate(containers):
        path = 'spec.containers[%d]' % i
        cname = c.get('name')
        if not cname or not DNS_LABEL.match(cname) or len(cname) > 63:
            errors.append('%s.name: Invalid value: "%s": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\'' % (path, cname or ''))
        elif cname in names:
            errors.append('%s.name: Duplicate value: "%s"' % (path, cname))
        names.add(cname)
        if not c.get('image'):
            errors.append('%s.image: Required value' % path)
        if c.get('imagePullPolicy', 'IfNotPresent') not in ('Always', 'IfNotPresent', 'Never'):
            errors.append('%s.imagePullPolicy: Unsupported value: "%s": supported values: "Always", "IfNotPresent", "Never"' % (path, c.get('imagePullPolicy')))
        for j, port in enumerate(c.get('ports') or []):
            number = port.get('containerPort')
            if number is None or not 1 <= number <= 65535:
                errors.append('%s.ports[%d].containerPort: Invalid value: %s: must be between 1 and 65535, inclusive' % (path, j, number))
            if port.get('protocol', 'TCP') not in ('TCP', 'UDP', 'SCTP'):
                errors.append('%s.ports[%d].protocol: Unsupported value: "%s"' % (path, j, port.get('protocol')))
        for j, env in enumerate(c.get('env') or []):
            if not env.get('name'):
                errors.append('%s.env[%d].name: Required value' % (path, j))
            source = env.get('valueFrom')
            if source is not None:
                if any(source.get(k) for k in ('configMapKeyRef', 'secretKeyRef')):
                    errors.append('%s.env[%d].valueFrom: Forbidden: a static pod cannot reference API objects' % (path, j))
        for j, mount in enumerate(c.get('volumeMounts') or []):
            mpath = '%s.volumeMounts[%d]' % (path, j)
            if mount.get('name') not in volumes:
                errors.append('%s.name: Not found: "%s"' % (mpath, mount.get('name')))
            if not mount.get('mountPath'):
                errors.append('%s.mountPath: Required value' % mpath)
        resources = c.get('resources') or {}
        for kind in ('requests', 'limits'):
            for rname, value in (resources.get(kind) or {}).items():
                if parse_quantity(value) < 0:
                    errors.append('%s.resources.%s[%s]: Invalid value: "%s": must be greater than or equal to 0' % (path, kind, rname, value))
        for rname, value in (resources.get('requests') or {}).items():
            limit = (resources.get('limits') or {}).get(rname)
            if limit is not None and parse_quantity(value) > parse_quantity(limit):
                errors.append('%s.resources.requests: Invalid value: "%s": must be less than or equal to %s limit of %s' % (path, value, rname, limit))
        for kind in ('livenessProbe', 'readinessProbe', 'startupProbe'):
            if c.get(kind) is not None:
                validate_probe(c[kind], '%s.%s' % (path, kind), c, kind, errors)
        seccomp = ((c.get('securityContext') or {}).get('seccompProfile'))
        validate_seccomp(seccomp, '%s.securityContext.seccompProfile' % path, errors)
    validate_seccomp(((spec.get('securityContext') or {}).get('seccompProfile')), 'spec.securityContext.seccompProfile', errors)
    if spec.get('restartPolicy', 'Always') not in ('Always', 'OnFailure', 'Never'):
        errors.append('spec.restartPolicy: Unsupported value: "%s": supported values: "Always", "OnFailure", "Never"' % spec.get('restartPolicy'))
    if spec.get('dnsPolicy', 'ClusterFirst') not in ('ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'):
        errors.append('spec.dnsPolicy: Unsupported value: "%s"' % spec.get('dnsPolicy'))
    if (spec.get('terminationGracePeriodSeconds') or 0) < 0:
        errors.append('spec.terminationGracePeriodSeconds: Invalid value: must be greater than or equal to 0')
    pcn = spec.get('priorityClassName')
    if pcn and pcn not in PRIORITY_CLASSES:
        # The Priority admission resolves the name through the API; a standalone kubelet knows only the system ones.
        errors.append('spec.priorityClassName: Invalid value: "%s": no PriorityClass with name %s was found (a standalone kubelet '
                      'knows system-node-critical and system-cluster-critical)' % (pcn, pcn))
    if spec.get('nodeName') and spec['nodeName'] != node_name:
        errors.append('spec.nodeName: Invalid value: "%s": a static pod runs on its own node %s' % (spec['nodeName'], node_name))
    if not spec.get('hostNetwork'):
        errors.append('spec.hostNetwork: Invalid value: false: the lab has no CNI network plugin, so only hostNetwork pods can run '
                      '(the real kubelet would wait forever: "network is not ready: container runtime network not ready")')
    return errors


def validate_seccomp(profile, path, errors):
    if profile is None:
        return
    kind = profile.get('type')
    if kind not in ('RuntimeDefault', 'Unconfined', 'Localhost'):
        errors.append('%s.type: Unsupported value: "%s": supported values: "Localhost", "RuntimeDefault", "Unconfined"' % (path, kind))
    if kind == 'Localhost' and not profile.get('localhostProfile'):
        errors.append('%s.localhostProfile: Required value: must be set when seccomp type is Localhost' % path)
    if kind != 'Localhost' and profile.get('localhostProfile'):
        errors.append('%s.localhostProfile: Invalid value: "%s": can only be set when seccomp type is Localhost' % (path, profile['localhostProfile']))


# ---------------------------------------------------------------- reading a manifest into a pod to run

class Refused(Exception):
    """A manifest that cannot run: `retry` when the kubelet would keep trying (host path, image), else final until
    the file changes."""

    def __init__(self, reason, retry=False):
        Exception.__init__(self, reason)
        self.reason, self.retry = reason, retry


def decode_manifest(path, data, node_name):
    try:
        doc = yaml_load(data.decode())
    except (YamlError, ValueError, UnicodeDecodeError) as e:
        raise Refused('could not decode: %s' % e)
    if not isinstance(doc, dict):
        raise Refused('could not decode: Object \'Kind\' is missing')
    if doc.get('kind') != 'Pod' or doc.get('apiVersion') != 'v1':
        raise Refused('invalid pod: the manifest is a "%s" of "%s", not a Pod of v1 (a file holds one pod)' % (doc.get('kind'), doc.get('apiVersion')))
    try:
        check_schema(doc, 'Pod', '')
    except Invalid as e:
        raise Refused('could not decode: %s' % e)
    errors = validate_pod(doc, node_name)
    if errors:
        raise Refused('invalid pod: [%s]' % ', '.join(errors))
    # The static pod's UID: a hash of the decoded pod, the node and the file (as the kubelet's applyDefaults), so
    # a rewrite with the same content keeps it and any change makes a new pod.
    hasher = hashlib.md5()
    hasher.update(json.dumps(doc, sort_keys=True).encode())
    hasher.update(('host:%s' % node_name).encode())
    hasher.update(('file:%s' % path).encode())
    return doc, hasher.hexdigest()


def flag_paths(argv):
    """(flag, path) for every flag value (or comma-separated item of one) that is an absolute path."""
    found = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith('-'):
            name, eq, value = arg.partition('=')
            if not eq and i + 1 < len(argv) and not argv[i + 1].startswith('-'):
                value = argv[i + 1]
                i += 1
            elif not eq:
                value = ''
            for item in value.split(','):
                item = item.split('=', 1)[-1] if '=' in item and not item.startswith('/') else item
                if item.startswith('/') and '://' not in item and '#' not in item:  # not --etcd-servers-overrides' /group#url
                    found.append((name, item))
        i += 1
    return found


# Flags naming a file that itself names files (kubeconfigs, component configs): those must be visible too.
FILE_FLAGS = ('--config', '--kubeconfig', '--authentication-kubeconfig', '--authorization-kubeconfig')
FILE_KEYS = ('kubeconfig', 'certificate-authority', 'client-certificate', 'client-key', 'tokenFile', 'kubeConfigFile')


def check_file_references(container, argv, mounts):
    """A kubeconfig or config file given by flag may name more files (a scheduler config's clientConnection.kubeconfig,
    a kubeconfig's client-certificate): in a container they resolve inside it, so they must lie under a mount too."""
    for flag, path in flag_paths(argv[1:]):
        if flag not in FILE_FLAGS:
            continue
        try:
            with open(host_path_of(path, mounts), 'rb') as f:
                doc = yaml_load(f.read().decode())
        except (OSError, YamlError, ValueError, UnicodeDecodeError, TypeError):
            continue  # the component reports an unreadable file itself
        found = []

        def walk(node, where):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k in FILE_KEYS and isinstance(v, str) and v.startswith('/'):
                        found.append((('%s.%s' % (where, k)).lstrip('.'), v))
                    walk(v, '%s.%s' % (where, k))
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, '%s[%d]' % (where, i))

        walk(doc, '')
        for key, named in found:
            host = host_path_of(named, mounts)
            if host is None:
                raise Refused('container %s: %s (from %s) names %s at %s, which is under none of its volumeMounts: the container '
                              'would not see it' % (container, path, flag, named, key))
            if host != named:
                raise Refused('container %s: %s (from %s) names %s at %s, mounted from %s: the stand-in runs the process on the '
                              'host and cannot move a path written inside a file; mount it at the same path' % (container, path, flag, named, key, host))


def host_path_of(path, mounts):
    """The host path a container path is at through its mounts (longest mountPath first), or None."""
    for mount_path, host in sorted(mounts, key=lambda m: -len(m[0])):
        mp = mount_path.rstrip('/') or '/'
        if path == mp:
            return host
        if path.startswith(mp + '/') or mp == '/':
            return host.rstrip('/') + '/' + path[len(mp):].lstrip('/')
    return None


def check_host_path(volume, pod_dir):
    """The kubelet's hostPath type check (and creation for the *OrCreate types): returns the host path."""
    name = volume['name']
    if 'emptyDir' in volume:
        path = os.path.join(pod_dir, 'volumes', 'kubernetes.io~empty-dir', name)
        os.makedirs(path, exist_ok=True)
        return path
    host = volume['hostPath']
    path, kind = host['path'], host.get('type', '')

    def failed(why):
        raise Refused('MountVolume.SetUp failed for volume "%s" : hostPath type check failed: %s %s' % (name, path, why), retry=True)

    if kind == 'DirectoryOrCreate':
        if not os.path.exists(path):
            try:
                os.makedirs(path, 0o755)
            except OSError as e:
                failed('cannot be created: %s' % e.strerror)
        elif not os.path.isdir(path):
            failed('is not a directory')
    elif kind == 'Directory':
        if not os.path.isdir(path):
            failed('is not a directory')
    elif kind == 'FileOrCreate':
        if not os.path.exists(path):
            try:
                open(path, 'a').close()
                os.chmod(path, 0o644)
            except OSError as e:
                failed('cannot be created: %s' % e.strerror)
        elif not os.path.isfile(path):
            failed('is not a file')
    elif kind == 'File':
        if not os.path.isfile(path):
            failed('is not a file')
    elif kind == 'Socket':
        import stat as stat_module
        if not os.path.exists(path) or not stat_module.S_ISSOCK(os.stat(path).st_mode):
            failed('is not a socket file')
    elif kind in ('CharDevice', 'BlockDevice'):
        import stat as stat_module
        test = stat_module.S_ISCHR if kind == 'CharDevice' else stat_module.S_ISBLK
        if not os.path.exists(path) or not test(os.stat(path).st_mode):
            failed('is not a %s device' % ('character' if kind == 'CharDevice' else 'block'))
    return path


def image_program(image, command0):
    """The host executable a container's command runs, from its image: the kube components' images are the stand-in
    of that version (from STANDIN_IMAGE_MIRROR, cached), etcd's image is Debian's etcd. None: the image cannot be
    pulled here."""
    m = re.match(r'^(?:[^/]+/)*([a-z0-9-]+)(?::([^@]+))?(?:@sha256:[0-9a-f]+)?$', image)
    if not m:
        raise Refused('Failed to pull image "%s": ErrImagePull: invalid reference format' % image, retry=True)
    repo, tag = m.group(1), m.group(2) or 'latest'
    program = os.path.basename(command0) if command0 else repo
    if repo in KUBE_IMAGES:
        if program != repo:
            raise Refused('Error: failed to create containerd task: exec: "%s": executable file not found in $PATH (image %s has only %s)'
                          % (command0, image, repo), retry=True)
        return pull_standin(image, repo, tag)
    if repo == 'etcd':
        if program not in ('etcd', 'etcdctl'):
            raise Refused('Error: failed to create containerd task: exec: "%s": executable file not found in $PATH' % command0, retry=True)
        return '/usr/bin/' + program
    raise Refused('Failed to pull image "%s": ErrImagePull: the lab has no registry; the stand-in kubelet runs the images of '
                  'kube-apiserver, kube-controller-manager, kube-scheduler (stand-ins) and etcd (the host\'s etcd)' % image, retry=True)


def pull_standin(image, component, tag):
    if not re.match(r'^v\d+\.\d+\.\d+$', tag):
        raise Refused('Failed to pull image "%s": ErrImagePull: tag %s is not a release (v1.30.2)' % (image, tag), retry=True)
    target = os.path.join(IMAGE_CACHE[0], component, tag, component)
    if os.path.isfile(target):
        return target
    mirror = os.environ.get('STANDIN_IMAGE_MIRROR', '').rstrip('/')
    if not mirror:
        raise Refused('Failed to pull image "%s": ErrImagePull: STANDIN_IMAGE_MIRROR is not set in the kubelet\'s environment' % image, retry=True)
    url = '%s/%s/bin/linux/amd64/%s' % (mirror, tag, component)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read()
        with urllib.request.urlopen(url + '.sha256', timeout=10) as r:
            digest = r.read().decode().split()[0]
    except (OSError, ValueError, IndexError) as e:
        raise Refused('Failed to pull image "%s": ErrImagePull: %s: %s' % (image, url, e), retry=True)
    if hashlib.sha256(body).hexdigest() != digest:
        raise Refused('Failed to pull image "%s": ErrImagePull: sha256 of %s does not match its .sha256' % (image, url), retry=True)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = target + '.part'
    with open(tmp, 'wb') as f:
        f.write(body)
    os.chmod(tmp, 0o755)
    os.rename(tmp, target)
    log('"Pulled image" image="%s" from="%s"' % (image, url))
    return target


def expand(text, env):
    """$(VAR) references in command and args, as the kubelet expands them ($$ escapes)."""
    return re.sub(r'\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)', lambda m: '$' if m.group(0) == '$$' else env.get(m.group(1), m.group(0)), text)


# ---------------------------------------------------------------- running containers

def journal(line):
    """One event line on stdout (the unit's journal), exactly as the static-pod tests read them."""
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def die_with_parent():
    """In the child: SIGKILL when the kubelet thread that started it ends, so no container outlives a killed kubelet.
    The container's own thread is the one that stops it (with its grace period) before it ends."""
    try:
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Probe:
    def __init__(self, kind, spec, container):
        self.kind, self.spec, self.container = kind, spec, container
        self.period = spec.get('periodSeconds') or 10
        self.timeout = spec.get('timeoutSeconds') or 1
        self.failure_threshold = spec.get('failureThreshold') or 3
        self.success_threshold = spec.get('successThreshold') or 1
        self.next = time.time() + (spec.get('initialDelaySeconds') or 0)
        self.failures, self.successes = 0, 0

    def due(self, now):
        if now < self.next:
            return False
        self.next = now + self.period
        return True

    def port(self, action):
        port = action.get('port')
        if isinstance(port, int):
            return port
        for p in self.container.spec.get('ports') or []:
            if p.get('name') == port:
                return p['containerPort']
        return 0

    def run(self):
        """(ok, message) of one probe, as the kubelet's prober words its failures."""
        spec = self.spec
        host, port = '127.0.0.1', 0
        try:
            if spec.get('httpGet') is not None:
                action = spec['httpGet']
                host, port = action.get('host') or '127.0.0.1', self.port(action)
                scheme = action.get('scheme', 'HTTP').lower()
                path = action.get('path') or '/'
                if scheme == 'https':
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # the kubelet does not verify probe certificates
                    conn = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=ctx)
                else:
                    conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
                try:
                    headers = {'User-Agent': 'kube-probe/%s' % '.'.join(FACTS['version'].split('.')[:2]), 'Accept': '*/*'}
                    for h in action.get('httpHeaders') or []:
                        headers[h['name']] = h['value']
                    conn.request('GET', path if path.startswith('/') else '/' + path, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                finally:
                    conn.close()
                if 200 <= resp.status < 400:
                    return True, ''
                return False, 'HTTP probe failed with statuscode: %d' % resp.status
            if spec.get('tcpSocket') is not None or spec.get('grpc') is not None:
                action = spec.get('tcpSocket') or spec.get('grpc')
                host, port = action.get('host') or '127.0.0.1', self.port(action)
                socket.create_connection((host, port), timeout=self.timeout).close()
                return True, ''
            command = spec['exec']['command']
            r = subprocess.run(command, env=self.container.env, stdin=subprocess.DEVNULL, capture_output=True, timeout=self.timeout)
            if r.returncode == 0:
                return True, ''
            return False, 'command %s exited with %d: %s' % (json.dumps(command), r.returncode, (r.stdout + r.stderr).decode(errors='replace').strip()[:200])
        except subprocess.TimeoutExpired:
            return False, 'command timed out after %ds' % self.timeout
        except (OSError, ssl.SSLError, http.client.HTTPException) as e:
            if spec.get('exec') is not None:
                return False, 'exec %s: %s' % (spec['exec']['command'][0], e)
            target = '%s:%s' % (host, port)
            if isinstance(e, socket.timeout):
                return False, 'dial tcp %s: i/o timeout' % target
            if isinstance(e, ConnectionRefusedError):
                return False, 'dial tcp %s: connect: connection refused' % target
            return False, '%s: %s' % (target, e)

    def record(self, ok):
        """True when the result crosses a threshold (the probe's state changes)."""
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            return self.successes >= self.success_threshold
        self.failures, self.successes = self.failures + 1, 0
        return self.failures >= self.failure_threshold


class Container:
    def __init__(self, pod, spec, argv, env, cwd):
        self.pod, self.spec, self.argv, self.env, self.cwd = pod, spec, argv, env, cwd
        self.name = spec['name']
        self.restart_count, self.pid, self.ready, self.started_at = 0, None, False, None
        self.proc = None
        self.stopping = threading.Event()
        self.first_start = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def summary(self):
        return {'name': self.name, 'pid': self.pid, 'restartCount': self.restart_count, 'ready': self.ready, 'startedAt': self.started_at}

    def start_process(self):
        path = os.path.join(self.pod.log_dir, self.name, '%d.log' % self.restart_count)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'ab') as out:
            try:
                self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent)
            except OSError as e:
                out.write(('exec %s: %s\n' % (self.argv[0], e.strerror)).encode())
                self.proc = None
        self.pid = self.proc.pid if self.proc else None
        self.started_at = now_rfc3339()
        self.ready = False

    def kill(self, grace):
        """SIGTERM to the container's process group, SIGKILL after the grace period (and to what it left behind)."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                proc.wait(timeout=max(grace, 0))
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()

    def run(self):
        try:
            self.supervise()
        except Exception as e:  # noqa: BLE001  a bug here must show, and must not leave the process behind
            log('"Container supervisor failed" pod="%s" container="%s" err="%s: %s"' % (self.pod.key, self.name, type(e).__name__, e), 'E')
            self.kill(0)
            self.first_start.set()

    def supervise(self):
        policy = self.pod.spec.get('restartPolicy', 'Always')
        crashes, reason = 0, None
        while True:
            if reason is not None:
                self.restart_count += 1
            self.start_process()
            if reason is None:
                self.first_start.set()
            else:
                journal('container restarted: %s/%s restartCount=%d reason=%s' % (self.pod.key, self.name, self.restart_count, reason))
            self.pod.changed()
            began = time.time()
            reason, code = self.watch()
            if self.stopping.is_set():
                return
            if code is None:  # a probe failed: the kubelet kills the container and starts it again
                log('"Container failed %s, will be restarted" pod="%s" container="%s"' % (reason, self.pod.key, self.name))
                self.kill(self.pod.grace)
            self.ready = False
            self.pod.changed()
            if code is not None and (policy == 'Never' or (policy == 'OnFailure' and code == 0)):
                log('"Container exited and will not be restarted" pod="%s" container="%s" exitCode=%d' % (self.pod.key, self.name, code))
                self.pid = None
                self.pod.changed()
                return
            if code is not None:
                # CrashLoopBackOff: the first restart at once, then 10 s doubling to 5 min; reset after 10 min running.
                crashes = 0 if time.time() - began > 600 else crashes + 1
                delay = 0 if crashes <= 1 else min(10 * 2 ** (crashes - 2), 300)
                if delay:
                    log('"Back-off restarting failed container" pod="%s" container="%s" backoff="%ds"' % (self.pod.key, self.name, delay))
                if self.stopping.wait(delay):
                    return

    def watch(self):
        """Until the container exits, a probe fails past its threshold, or the pod is stopped: (reason, exit code
        or None)."""
        if self.proc is None:
            return 'exec failed', 128
        probes = {k: Probe(k, self.spec[k], self) for k in ('startupProbe', 'livenessProbe', 'readinessProbe') if self.spec.get(k)}
        started = 'startupProbe' not in probes
        if started and 'readinessProbe' not in probes:
            self.set_ready(True)
        while True:
            if self.stopping.wait(0.25):
                self.kill(self.pod.grace)
                return 'pod stopped', None
            code = self.proc.poll()
            if code is not None:
                return ('exited with code %d' % code if code >= 0 else 'killed by signal %d' % -code), code
            now = time.time()
            if not started:
                probe = probes['startupProbe']
                if probe.due(now):
                    ok, message = probe.run()
                    if probe.record(ok) and ok:
                        started = True
                        if 'readinessProbe' not in probes:
                            self.set_ready(True)
                    elif not ok and probe.failures >= probe.failure_threshold:
                        return 'startup probe failed: %s' % message, None
                continue
            for kind in ('livenessProbe', 'readinessProbe'):
                probe = probes.get(kind)
                if probe is None or not probe.due(now):
                    continue
                ok, message = probe.run()
                crossed = probe.record(ok)
                if kind == 'livenessProbe' and crossed and not ok:
                    return 'liveness probe failed: %s' % message, None
                if kind == 'readinessProbe':
                    if crossed:
                        self.set_ready(ok)
                    if not ok and probe.failures == 1:
                        log('"Probe failed" probeType="Readiness" pod="%s" container="%s" output="%s"' % (self.pod.key, self.name, message))

    def set_ready(self, ready):
        if self.ready != ready:
            self.ready = ready
            self.pod.changed()


# ---------------------------------------------------------------- pods

class Pod:
    def __init__(self, kubelet, path, doc, uid):
        meta, self.spec = doc.get('metadata') or {}, doc.get('spec') or {}
        self.kubelet, self.path, self.uid = kubelet, path, uid
        # The kubelet names a static pod <metadata.name>-<node name> (the mirror pod's name in the API).
        self.namespace, self.name = meta.get('namespace') or 'default', '%s-%s' % (meta['name'], kubelet.node_name)
        self.key = '%s/%s' % (self.namespace, self.name)
        grace = self.spec.get('terminationGracePeriodSeconds')
        self.grace = 30 if grace is None else grace
        self.log_dir = os.path.join(POD_LOGS, '%s_%s_%s' % (self.namespace, self.name, uid))
        self.dir = os.path.join(kubelet.root_dir, 'pods', uid)
        self.containers = []

    def prepare(self):
        """Volumes, images, command lines: everything before a process starts. Raises Refused."""
        volumes = {}
        for volume in self.spec.get('volumes') or []:
            volumes[volume['name']] = volume
        host_paths = {name: check_host_path(volume, self.dir) for name, volume in volumes.items()}
        for c in self.spec['containers']:
            mounts = []
            for m in c.get('volumeMounts') or []:
                host = host_paths[m['name']]
                if m.get('subPath'):
                    host = os.path.join(host, m['subPath'])
                mounts.append((m['mountPath'], host))
            env = self.env_of(c)
            command = [expand(w, env) for w in (c.get('command') or [])]
            args = [expand(w, env) for w in (c.get('args') or [])]
            program = image_program(c['image'], command[0] if command else None)
            argv = [program] + (command[1:] if command else []) + args
            original = list(argv)
            for flag, path in flag_paths(original[1:]):
                host = host_path_of(path, mounts)
                if host is None:
                    raise Refused('container %s: flag %s names %s, which is under none of its volumeMounts (%s): the container '
                                  'would not see it' % (c['name'], flag, path, ', '.join(m[0] for m in mounts) or 'none'))
                if host != path:  # a mount at another path than on the host: the process on the host needs the host's path
                    argv = [w.replace(path, host) if w.startswith(flag) or w == path else w for w in argv]
            check_file_references(c['name'], original, mounts)
            cwd = host_path_of(c['workingDir'], mounts) if c.get('workingDir') else '/'
            self.containers.append(Container(self, c, argv, env, cwd or '/'))

    def env_of(self, c):
        env = {'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME': self.kubelet.node_name}
        fields = {'metadata.name': self.name, 'metadata.namespace': self.namespace, 'metadata.uid': self.uid,
                  'spec.nodeName': self.kubelet.node_name, 'status.podIP': self.kubelet.node_ip, 'status.hostIP': self.kubelet.node_ip,
                  'status.podIPs': self.kubelet.node_ip, 'status.hostIPs': self.kubelet.node_ip,
                  'spec.serviceAccountName': self.spec.get('serviceAccountName', 'default')}
        for e in c.get('env') or []:
            if 'valueFrom' in e and e['valueFrom']:
                ref = (e['valueFrom'].get('fieldRef') or {}).get('fieldPath')
                if ref not in fields:
                    raise Refused('container %s: env %s: the stand-in resolves only fieldRef %s' % (c['name'], e['name'], ', '.join(sorted(fields))))
                env[e['name']] = fields[ref]
            else:
                env[e['name']] = expand(e.get('value', ''), env)
        return env

    def start(self):
        for c in self.containers:
            c.thread.start()
        for c in self.containers:
            c.first_start.wait(10)
        first = self.containers[0]
        journal('static pod started: %s uid=%s pid=%s' % (self.key, self.uid, first.pid))

    def stop(self, reason):
        for c in self.containers:
            c.stopping.set()
        for c in self.containers:
            c.thread.join()
            c.pid, c.ready = None, False
        journal('static pod stopped: %s uid=%s reason=%s' % (self.key, self.uid, reason))

    def changed(self):
        self.kubelet.write_pods()

    def summary(self):
        return {'namespace': self.namespace, 'name': self.name, 'uid': self.uid, 'manifest': self.path, 'containers': [c.summary() for c in self.containers]}


class Kubelet:
    def __init__(self, flags, config):
        self.node_name = (flags.get('hostname-override') or socket.gethostname()).lower()
        self.node_ip = flags.get('node-ip') or node_address()
        self.root_dir = flags.get('root-dir', '/var/lib/kubelet')
        self.manifests = setting(flags, config, 'pod-manifest-path', 'staticPodPath', '')
        self.pods = {}       # manifest path -> running Pod
        self.refused = {}    # manifest path -> (uid or data hash, reason, retried) last logged
        self.decoded = {}    # manifest path -> (bytes, (pod, uid) or Refused)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        os.makedirs(self.root_dir, exist_ok=True)
        self.pods_file = os.path.join(self.root_dir, 'standin-pods.json')
        IMAGE_CACHE[0] = os.path.join(self.root_dir, 'standin-images')

    def write_pods(self):
        with self.lock:
            pods = [p.summary() for p in sorted(self.pods.values(), key=lambda p: p.key)]
            tmp = self.pods_file + '.tmp'
            with open(tmp, 'w') as f:
                json.dump(pods, f, indent=1)
            os.rename(tmp, self.pods_file)

    def manifest_files(self):
        """Every regular file of the folder whose name does not start with a dot, as the kubelet reads them."""
        try:
            names = sorted(os.listdir(self.manifests))
        except OSError as e:
            if not getattr(self, 'warned_missing', False):
                log('"Unable to read config path" err="path does not exist, ignoring" path="%s" (%s)' % (self.manifests, e.strerror), 'W')
                self.warned_missing = True
            return []
        self.warned_missing = False
        return [os.path.join(self.manifests, n) for n in names if not n.startswith('.') and os.path.isfile(os.path.join(self.manifests, n))]

    def refuse(self, path, key, reason, retry=False):
        """One journal line per manifest content and reason; a retried refusal (host path, image) logs again only
        when its reason changes."""
        if self.refused.get(path, (None, None))[:2] != (key, reason):
            journal('static pod refused: %s: %s' % (path, reason))
        self.refused[path] = (key, reason, retry)

    def sync(self):
        files = self.manifest_files()
        names = {}
        for path in files:
            try:
                self.sync_file(path, names)
            except Exception as e:  # noqa: BLE001  one odd manifest must not take the kubelet and every pod down
                log('"Error syncing static pod" path="%s" err="%s: %s"' % (path, type(e).__name__, e), 'E')
                self.refuse(path, 'error', 'internal error of the stand-in kubelet: %s: %s' % (type(e).__name__, e), True)
        for path in list(self.pods):
            if path not in files:
                self.stop_pod(path, 'manifest removed')
        for path in list(self.refused):
            if path not in files:
                del self.refused[path]
        for path in list(self.decoded):
            if path not in files:
                del self.decoded[path]

    def sync_file(self, path, names):
        """One manifest: decode (cached by its bytes), refuse, or start, replace or keep its pod."""
        try:
            with open(path, 'rb') as f:
                data = f.read()
        except OSError:
            return
        current = self.pods.get(path)
        try:
            cached = self.decoded.get(path)
            if cached is None or cached[0] != data:  # the same bytes decode the same: no YAML parse every poll
                try:
                    cached = (data, decode_manifest(path, data, self.node_name))
                except Refused as r:
                    cached = (data, r)
                self.decoded[path] = cached
            if isinstance(cached[1], Refused):
                raise cached[1]
            doc, uid = cached[1]
            meta = doc['metadata']
            key = '%s/%s-%s' % (meta.get('namespace') or 'default', meta['name'], self.node_name)
            if key in names:
                raise Refused('duplicate pod %s: %s defines it too (the kubelet reads every file of the folder)' % (key, names[key]))
            names[key] = path
        except Refused as r:
            if current is not None:
                self.stop_pod(path, 'manifest changed and is refused')
            self.refuse(path, hashlib.md5(data).hexdigest(), r.reason)
            return
        if current is not None and current.uid == uid:
            return
        if current is not None:
            self.stop_pod(path, 'manifest changed')
        last = self.refused.get(path)
        if last and last[0] == uid and not last[2]:
            return  # refused for good until the file changes
        pod = Pod(self, path, doc, uid)
        try:
            pod.prepare()
        except Refused as r:
            self.refuse(path, uid, r.reason, r.retry)
            return
        self.refused.pop(path, None)
        with self.lock:
            self.pods[path] = pod
        pod.start()
        self.write_pods()

    def stop_pod(self, path, reason):
        pod = self.pods[path]
        pod.stop(reason)
        with self.lock:
            del self.pods[path]
        self.write_pods()

    def stop_all(self, reason):
        pods = list(self.pods.items())
        threads = [threading.Thread(target=p.stop, args=(reason,)) for _, p in pods]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with self.lock:
            self.pods.clear()
        self.write_pods()

    def run(self):
        self.write_pods()
        if not self.manifests:
            log('"No static pod path: the stand-in kubelet has nothing to run" (set staticPodPath in --config)', 'W')
        try:
            while not self.stopping.is_set():
                if self.manifests:
                    self.sync()
                self.stopping.wait(POLL)
        finally:
            self.stop_all('kubelet stopping')


def node_address():
    """The node's first global IPv4 address (a hostNetwork pod's IP), else 127.0.0.1."""
    try:
        out = subprocess.run(['hostname', '-I'], capture_output=True, timeout=5).stdout.decode().split()
        return next((a for a in out if '.' in a), '127.0.0.1')
    except (OSError, subprocess.TimeoutExpired):
        return '127.0.0.1'


def serve_healthz(bind, port):
    class Handler(QuietHandler):
        def do_GET(self):
            if self.path.split('?')[0] == '/healthz':
                return self.send_body(200, 'ok')
            self.send_body(404, '404 page not found\n')

    try:
        server = http.server.ThreadingHTTPServer((bind, port), Handler)
    except OSError as e:
        fail('failed to start healthz server: listen tcp %s:%d: bind: %s' % (bind, port, (e.strerror or '').lower()))
    serve_in_background(server)
    log('Started healthz server on %s:%d' % (bind, port))


def main():
    flags = parse_flags(sys.argv[1:])
    config = load_config(flags.get('config'))
    endpoint = check_config(flags, config)
    flags_only_exit(PROGRAM)
    log('"Using container runtime endpoint" endpoint="%s" (not dialled: the stand-in runs containers as host processes)' % endpoint)
    kubelet = Kubelet(flags, config)
    signal.signal(signal.SIGTERM, lambda *_: kubelet.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: kubelet.stopping.set())
    port = int(setting(flags, config, 'healthz-port', 'healthzPort', 10248))
    if port:
        serve_healthz(setting(flags, config, 'healthz-bind-address', 'healthzBindAddress', '127.0.0.1'), port)
    kubelet.run()


if __name__ == '__main__':
    main()
