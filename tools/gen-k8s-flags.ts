// Generates roles/kube-common/files/flags.json, the flag table the roles and the lab's stand-ins read, from the flag
// facts compiled in k8s-flags.json (kept outside the repository): each flag's lifetime, admission plugins, config
// apiVersions, and the value rules and mutual exclusions that make a release refuse to start. The facts state those
// rules in prose; this file states each one as a rule a program can apply, and fails when the facts hold a fatal
// case no rule or lifetime covers, so a new fact cannot be dropped silently.
//   Usage: npx tsx tools/gen-k8s-flags.ts [path/to/k8s-flags.json] [--check]   (--check: exit 1 if the file is stale)

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ConfigApi, FlagRow, FlagRule, FlagTable, Lifetime } from '../roles/kube-common/lib/flag-table.ts';

interface SourceLifetime {
  added?: string | null;
  deprecated?: string | null;
  removed?: string | null;
  replacement?: string | null;
  notes?: string;
  valueRules?: { value: string; fails_from?: string | null; error?: string }[];
}
interface Source {
  _meta: { generated: string };
  components: Record<string, Record<string, SourceLifetime>>;
  admissionPlugins: Record<string, SourceLifetime>;
  configApis: Record<string, Record<string, unknown>>;
  ports: Record<string, { secure?: { port: number }; insecure?: { port: number; disabled: string } }>;
  crashOnStart: { component: string; item: string; fatalFrom: string }[];
  minimalFlagSets: Record<string, unknown>;
}

const COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

// Replacements that are the same setting under a new name: a role's flag is moved onto them for a release that
// dropped the old name. Others only point the way (--port's replacement is --secure-port, but --port=0 is not
// --secure-port=0): they are shown in messages, never applied.
const RENAMES: Record<string, string> = {
  '--experimental-bootstrap-token-auth': '--enable-bootstrap-token-auth',
  '--service-account-api-audiences': '--api-audiences',
  '--lock-object-name': '--leader-elect-resource-name',
  '--lock-object-namespace': '--leader-elect-resource-namespace',
  '--experimental-cluster-signing-duration': '--cluster-signing-duration',
  '--experimental-encryption-provider-config': '--encryption-provider-config',
};

// klog's flags besides -v and --vmodule: the facts' note on --logtostderr says they all went with it in 1.26.
const KLOG_FLAGS = ['--alsologtostderr', '--log-dir', '--log-file', '--log-file-max-size', '--skip-headers', '--skip-log-headers', '--stderrthreshold', '--log-backtrace-at', '--one-output', '--add-dir-header'];

// Flags every release from 1.21 to the newest has that the facts do not list (they track flags that changed): the
// common hardening flags, the aggregation layer's, serving options kubeadm sets. Known, so not refused.
const STEADY_FLAGS: Record<string, string[]> = {
  'kube-apiserver': [
    '--requestheader-client-ca-file', '--requestheader-allowed-names', '--requestheader-extra-headers-prefix',
    '--requestheader-group-headers', '--requestheader-username-headers', '--proxy-client-cert-file', '--proxy-client-key-file',
    '--enable-aggregator-routing', '--audit-policy-file', '--profiling', '--feature-gates', '--cert-dir', '--vmodule',
    '--tls-cipher-suites', '--tls-min-version', '--kubelet-preferred-address-types', '--storage-media-type', '--api-audiences',
  ],
  'kube-controller-manager': [
    '--controllers', '--node-cidr-mask-size', '--tls-cert-file', '--tls-private-key-file', '--tls-cipher-suites', '--tls-min-version',
    '--client-ca-file', '--requestheader-client-ca-file', '--requestheader-allowed-names', '--requestheader-extra-headers-prefix',
    '--requestheader-group-headers', '--requestheader-username-headers', '--profiling', '--feature-gates', '--vmodule',
    '--terminated-pod-gc-threshold',
  ],
  'kube-scheduler': [
    '--tls-cert-file', '--tls-private-key-file', '--tls-cipher-suites', '--tls-min-version', '--client-ca-file',
    '--requestheader-client-ca-file', '--requestheader-allowed-names', '--requestheader-extra-headers-prefix',
    '--requestheader-group-headers', '--requestheader-username-headers', '--profiling', '--feature-gates', '--vmodule',
  ],
};

// Flags that may be given more than once (a list renders one flag per value), and from which release.
const REPEATABLE: Record<string, Record<string, string | null>> = {
  // The facts: "Repeatable since 1.22 (first value issues tokens)".
  'kube-apiserver': { '--service-account-issuer': '1.22', '--service-account-key-file': null },
};

// The facts' fatal values and combinations as rules. `source` names the entry each one encodes.
const RULES: FlagRule[] = [
  {
    id: 'runtime-config-api-all', component: 'kube-apiserver', kind: 'value', flag: '--runtime-config', items: true, match: '^api/all$',
    from: '1.17', fatal: true, error: 'invalid value api/all=', fix: 'write api/all=true, or better leave --runtime-config out (it enables alpha APIs)',
    source: 'components.kube-apiserver.--runtime-config.valueRules[0]; crashOnStart --runtime-config=api/all (no =true)',
  },
  {
    id: 'runtime-config-rbac-v1alpha1', component: 'kube-apiserver', kind: 'value', flag: '--runtime-config', items: true,
    match: '^rbac\\.authorization\\.k8s\\.io/v1alpha1(=.*)?$', from: '1.23', fatal: true,
    error: 'group version rbac.authorization.k8s.io/v1alpha1 that has not been registered', fix: 'leave it out: RBAC is rbac.authorization.k8s.io/v1, on by default',
    source: 'components.kube-apiserver.--runtime-config.valueRules[2]; crashOnStart --runtime-config=rbac.authorization.k8s.io/v1alpha1',
  },
  {
    // Served again from 1.26, for ValidatingAdmissionPolicy (alpha): the facts list only the 1.14 removal.
    id: 'runtime-config-admissionregistration-v1alpha1', component: 'kube-apiserver', kind: 'value', flag: '--runtime-config', items: true,
    match: '^admissionregistration\\.k8s\\.io/v1alpha1(=.*)?$', from: '1.14', until: '1.26', fatal: true,
    error: 'group version admissionregistration.k8s.io/v1alpha1 that has not been registered', fix: 'leave it out: it served Initializers, removed in 1.14',
    source: 'crashOnStart --runtime-config=admissionregistration.k8s.io/v1alpha1 (used with Initializers)',
  },
  {
    id: 'insecure-port-zero', component: 'kube-apiserver', kind: 'value', flag: '--insecure-port', match: '^(?!0$)', from: '1.20', fatal: true,
    error: 'invalid port value {value}: only zero is allowed', fix: 'leave it out: clients use the secure port (--secure-port)',
    source: 'crashOnStart --insecure-port=<non-zero>',
  },
  {
    id: 'kcm-port-zero', component: 'kube-controller-manager', kind: 'value', flag: '--port', match: '^(?!0$)', from: '1.22', fatal: true,
    error: 'invalid port value {value}: only zero is allowed', fix: 'leave it out: /healthz is on --secure-port (10257)',
    source: 'crashOnStart kube-controller-manager --port=<non-zero>',
  },
  {
    id: 'scheduler-port-zero', component: 'kube-scheduler', kind: 'value', flag: '--port', match: '^(?!0$)', from: '1.23', fatal: true,
    error: 'invalid port value {value}: only zero is allowed', fix: 'leave it out: /healthz is on --secure-port (10259)',
    source: 'crashOnStart kube-scheduler --port=<non-zero>',
  },
  {
    id: 'storage-backend-etcd2', component: 'kube-apiserver', kind: 'value', flag: '--storage-backend', match: '^etcd2$', from: '1.13', fatal: true,
    error: 'etcd2 is no longer a supported storage backend', fix: 'leave it out (etcd3, the default)',
    source: 'components.kube-apiserver.--storage-backend.notes',
  },
  {
    // Not fatal: the process starts, but the API server has had no insecure port since 1.20, so it never reaches it.
    id: 'kcm-master-insecure', component: 'kube-controller-manager', kind: 'value', flag: '--master', match: '^http://', from: '1.20', fatal: false,
    error: 'the API server has no insecure port from 1.20: {value} never answers', fix: 'leave it out: the role gives --kubeconfig',
    source: 'unconfirmed kcm/scheduler with --master=http://<ip>:8080 on >=1.20; components.kube-controller-manager.--master.notes',
  },
  {
    id: 'scheduler-master-insecure', component: 'kube-scheduler', kind: 'value', flag: '--master', match: '^http://', from: '1.20', fatal: false,
    error: 'the API server has no insecure port from 1.20: {value} never answers', fix: 'leave it out: the role gives the kubeconfig in its --config file',
    source: 'unconfirmed kcm/scheduler with --master=http://<ip>:8080 on >=1.20',
  },
  {
    id: 'admission-control-exclusive', component: 'kube-apiserver', kind: 'exclusive',
    flags: ['--admission-control', '--enable-admission-plugins', '--disable-admission-plugins'], from: null, fatal: true,
    error: 'admission-control and enable-admission-plugins/disable-admission-plugins flags are mutually exclusive',
    fix: 'give the plugins as --enable-admission-plugins (it adds to the default set; --admission-control replaced it)',
    source: 'components.kube-apiserver.--admission-control.notes',
  },
  {
    id: 'authorization-config-exclusive', component: 'kube-apiserver', kind: 'exclusive', flags: ['--authorization-config', '--authorization-mode'],
    from: '1.29', fatal: true, error: '--authorization-config can not be specified when --authorization-mode is specified',
    fix: 'give the modes in the authorization config file and set --authorization-mode to null, or leave --authorization-config out',
    source: 'components.kube-apiserver.--authorization-mode.notes; components.kube-apiserver.--authorization-config.source',
  },
  {
    id: 'service-account-issuer-required', component: 'kube-apiserver', kind: 'required', flags: ['--service-account-issuer'],
    from: '1.20', fatal: true, error: 'service-account-issuer is a required flag',
    fix: 'keep the role\'s value (do not set it to null)', source: 'crashOnStart missing --service-account-issuer / --service-account-signing-key-file',
  },
  {
    id: 'service-account-signing-key-required', component: 'kube-apiserver', kind: 'required', flags: ['--service-account-signing-key-file'],
    from: '1.20', fatal: true, error: '--service-account-signing-key-file and --service-account-issuer are required flags',
    fix: 'keep the role\'s value (do not set it to null)', source: 'crashOnStart missing --service-account-issuer / --service-account-signing-key-file',
  },
];

// Every crashOnStart entry of the facts, and what encodes it: a rule, a lifetime (flag, plugin, config apiVersion).
const CRASH_COVERED: Record<string, string> = {
  '--experimental-bootstrap-token-auth': 'flag kube-apiserver --experimental-bootstrap-token-auth',
  'Initializers in --admission-control / --enable-admission-plugins': 'plugin Initializers',
  '--runtime-config=admissionregistration.k8s.io/v1alpha1 (used with Initializers)': 'rule runtime-config-admissionregistration-v1alpha1',
  '--runtime-config=api/all (no =true)': 'rule runtime-config-api-all',
  '--insecure-port=<non-zero> (or default guides relying on :8080)': 'rule insecure-port-zero',
  'missing --service-account-issuer / --service-account-signing-key-file': 'rule service-account-issuer-required',
  '--kubelet-https': 'flag kube-apiserver --kubelet-https',
  '--runtime-config=rbac.authorization.k8s.io/v1alpha1': 'rule runtime-config-rbac-v1alpha1',
  '--insecure-bind-address, --insecure-port (any value)': 'flag kube-apiserver --insecure-port',
  '--enable-swagger-ui': 'flag kube-apiserver --enable-swagger-ui',
  '--experimental-encryption-provider-config': 'flag kube-apiserver --experimental-encryption-provider-config',
  '--logtostderr (and other klog flags except -v/--vmodule)': 'flag kube-apiserver --logtostderr',
  '--port=<non-zero>': 'rule kcm-port-zero',
  '--address / --port': 'flag kube-controller-manager --address',
  'config apiVersion componentconfig/v1alpha1': 'config componentconfig/v1alpha1',
  'config apiVersion kubescheduler.config.k8s.io/v1alpha1': 'config kubescheduler.config.k8s.io/v1alpha1',
  'config apiVersion kubescheduler.config.k8s.io/v1beta1': 'config kubescheduler.config.k8s.io/v1beta1',
  'config apiVersion kubescheduler.config.k8s.io/v1beta2': 'config kubescheduler.config.k8s.io/v1beta2',
  'config apiVersion kubescheduler.config.k8s.io/v1beta3': 'config kubescheduler.config.k8s.io/v1beta3',
};
// The scheduler's --port=<non-zero> shares its item text with the controller manager's.
const CRASH_COVERED_BY_COMPONENT: Record<string, string> = { 'kube-scheduler --port=<non-zero>': 'rule scheduler-port-zero', 'kube-scheduler --address / --port': 'flag kube-scheduler --port' };

export function generate(raw: Source): FlagTable {
  const newest = /newest release covered: (\d+\.\d+)/.exec(raw._meta.generated)?.[1];
  if (!newest) throw new Error('_meta.generated does not name the newest release covered');
  const lifetime = (l: SourceLifetime, flag = ''): Lifetime => {
    const out: Lifetime = { added: l.added ?? null, deprecated: l.deprecated ?? null, removed: l.removed ?? null };
    if (l.replacement) out.replacement = l.replacement;
    if (RENAMES[flag] && RENAMES[flag] === l.replacement) out.renamedTo = l.replacement;
    return out;
  };
  const components: Record<string, Record<string, FlagRow>> = {};
  for (const component of COMPONENTS) {
    const rows: Record<string, FlagRow> = {};
    const source = raw.components[component] ?? {};
    for (const [flag, l] of Object.entries(source)) rows[flag] = lifetime(l, flag);
    // A rename's target the facts list only as a replacement: it came when the old name was deprecated (or earlier).
    for (const [flag, l] of Object.entries(source)) {
      const target = RENAMES[flag];
      if (target && l.replacement === target && !rows[target]) rows[target] = { added: l.deprecated ?? l.added ?? null, deprecated: null, removed: null };
    }
    const klog = source['--logtostderr'];
    if (klog) for (const flag of KLOG_FLAGS) rows[flag] ??= lifetime({ ...klog, replacement: null });
    for (const flag of STEADY_FLAGS[component] ?? []) rows[flag] ??= { added: null, deprecated: null, removed: null };
    for (const [flag, from] of Object.entries(REPEATABLE[component] ?? {})) {
      if (!rows[flag]) throw new Error(`${component} ${flag}: repeatable but not in the table`);
      rows[flag].repeatableFrom = from;
    }
    components[component] = Object.fromEntries(Object.entries(rows).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  const admissionPlugins = Object.fromEntries(
    Object.entries(raw.admissionPlugins).flatMap(([names, l]) => names.split(',').map((name) => [name.trim(), lifetime(l)])),
  );
  const apis = (kind: string): ConfigApi[] =>
    Object.entries(raw.configApis[kind] ?? {}).flatMap(([key, value]) => {
      if (typeof value !== 'object' || value === null || !('removed' in value)) return [];
      const m = /kind: (\w+), apiVersion: (\S+)/.exec(key);
      return [{ apiVersion: m ? m[2] : key, kind: m ? m[1] : kind, ...lifetime(value as SourceLifetime) }];
    });
  const configApis = { KubeSchedulerConfiguration: apis('KubeSchedulerConfiguration'), EncryptionConfiguration: apis('EncryptionConfiguration') };
  const securePorts = Object.fromEntries(COMPONENTS.map((c) => [c, raw.ports[c]?.secure?.port ?? 0]));
  const strict = /(\d+\.\d+)\+: file decoded strictly/.exec(raw.components['kube-apiserver']?.['--encryption-provider-config']?.notes ?? '')?.[1] ?? null;
  const table: FlagTable = {
    note: 'Generated by tools/gen-k8s-flags.ts from k8s-flags.json; do not edit by hand.',
    oldest: '1.21',
    newest,
    components,
    admissionPlugins,
    configApis,
    securePorts,
    insecurePorts: Object.fromEntries(
      COMPONENTS.flatMap((c) => (raw.ports[c]?.insecure ? [[c, { port: raw.ports[c].insecure!.port, disabledFrom: raw.ports[c].insecure!.disabled }]] : [])),
    ),
    encryptionStrictFrom: strict,
    rules: RULES,
    // The facts' minimal flag sets, which the stand-ins' tests start an API server with.
    minimalFlagSets: Object.fromEntries(Object.entries(raw.minimalFlagSets).filter(([k]) => !k.startsWith('_'))) as FlagTable['minimalFlagSets'],
  };
  checkCovered(raw, table);
  return table;
}

/** Fail when the facts hold a fatal case that neither a rule nor a lifetime of the generated table encodes. */
function checkCovered(raw: Source, table: FlagTable): void {
  const problems: string[] = [];
  const verify = (what: string, by: string | undefined, fatalFrom: string | null): void => {
    if (!by) return void problems.push(`${what}: not encoded (add a rule to tools/gen-k8s-flags.ts)`);
    const [kind, a, b] = by.split(' ');
    const ok =
      kind === 'rule' ? table.rules.some((r) => r.id === a)
      : kind === 'flag' ? table.components[a]?.[b]?.removed != null
      : kind === 'plugin' ? table.admissionPlugins[a]?.removed != null
      : kind === 'config' ? table.configApis.KubeSchedulerConfiguration.some((c) => c.apiVersion === a && c.removed != null)
      : false;
    if (!ok) problems.push(`${what}: ${by} does not encode it${fatalFrom ? ` (fatal from ${fatalFrom})` : ''}`);
  };
  for (const c of raw.crashOnStart) {
    verify(`crashOnStart ${c.component} ${c.item}`, CRASH_COVERED_BY_COMPONENT[`${c.component} ${c.item}`] ?? CRASH_COVERED[c.item], c.fatalFrom);
  }
  for (const [component, flags] of Object.entries(raw.components)) {
    for (const [flag, l] of Object.entries(flags)) {
      for (const rule of l.valueRules ?? []) {
        if (!rule.error) continue;
        const id = table.rules.find((r) => r.component === component && r.flag === flag && r.source.includes(`${flag}.valueRules[${(l.valueRules ?? []).indexOf(rule)}]`))?.id;
        // "unknown group" names no release: the release itself rejects any group it lacks, which no table lists.
        if (rule.value === 'unknown group') continue;
        verify(`${component} ${flag} value ${rule.value}`, id && `rule ${id}`, rule.fails_from ?? null);
      }
      if (/mutually exclusive/i.test(l.notes ?? '') && !table.rules.some((r) => r.kind === 'exclusive' && r.flags?.includes(flag))) {
        // kcm's per-signer --cluster-signing-*-file flags are not in the table, so they are refused anyway.
        if (!(component === 'kube-controller-manager' && flag === '--cluster-signing-cert-file')) problems.push(`${component} ${flag}: notes say mutually exclusive; no rule`);
      }
    }
  }
  if (problems.length > 0) throw new Error(`the flag facts hold cases the generated table would miss:\n  ${problems.join('\n  ')}`);
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const sourcePath = args.find((a) => a !== '--check') ?? fileURLToPath(new URL('../../shared/k8s-flags.json', import.meta.url));
  const out = fileURLToPath(new URL('../roles/kube-common/files/flags.json', import.meta.url));
  const text = `${JSON.stringify(generate(JSON.parse(readFileSync(sourcePath, 'utf8')) as Source), null, 1)}\n`;
  if (check) {
    const same = readFileSync(out, 'utf8') === text;
    console.log(same ? `${out} is up to date with ${sourcePath}` : `${out} differs from what ${sourcePath} gives: run npx tsx tools/gen-k8s-flags.ts`);
    process.exitCode = same ? 0 : 1;
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${out} from ${sourcePath}`);
  }
}
