// What one version of a kube component accepts, derived from the flag table (k8s-flags.json): the facts a stand-in
// script embeds so that it refuses what that version of the real binary refuses.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const KUBE_COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type KubeComponent = (typeof KUBE_COMPONENTS)[number];

interface Lifetime {
  added: string | null;
  deprecated: string | null;
  removed: string | null;
  replacement?: string | null;
}

interface FlagTable {
  components: Record<KubeComponent, Record<string, Lifetime>>;
  admissionPlugins: Record<string, Lifetime>;
  configApis: { KubeSchedulerConfiguration: Record<string, unknown>; EncryptionConfiguration: Record<string, unknown> };
  ports: Record<KubeComponent, { secure: { port: number } }>;
  crashOnStart: { component: string; item: string; fatalFrom: string }[];
}

export interface FlagFact {
  /** The warning pflag prints when the flag is used, once deprecated. */
  deprecated: string | null;
}

export interface ComponentFacts {
  component: KubeComponent;
  version: string;
  flags: Record<string, FlagFact>;
  securePort: number;
  [more: string]: unknown;
}

/** The shared table, beside the checkout as in CI (`../shared/k8s-flags.json`); KPLAY_K8S_FLAGS overrides. */
export const FLAG_TABLE_PATH = process.env.KPLAY_K8S_FLAGS ?? fileURLToPath(new URL('../../../../shared/k8s-flags.json', import.meta.url));

export function readFlagTable(path = FLAG_TABLE_PATH): FlagTable {
  return JSON.parse(readFileSync(path, 'utf8')) as FlagTable;
}

/** `1.30.2` or `v1.30` → [1, 30]. */
export function minor(version: string): [number, number] {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`version "${version}" is not like 1.30.2`);
  return [Number(m[1]), Number(m[2])];
}

/** Whether `version` is `since` or later; null `since` means never. */
export function atLeast(version: string, since: string | null | undefined): boolean {
  if (!since) return false;
  const [a, b] = [minor(version), minor(since)];
  return a[0] !== b[0] ? a[0] > b[0] : a[1] >= b[1];
}

const present = (version: string, l: Lifetime): boolean => !(l.added && !atLeast(version, l.added)) && !atLeast(version, l.removed);

function deprecation(version: string, l: Lifetime): string | null {
  if (!atLeast(version, l.deprecated)) return null;
  return l.replacement ? `use ${l.replacement} instead` : 'this flag will be removed in a future release';
}

// klog's other flags went with --logtostderr (the table's note on --logtostderr says so); -v and --vmodule stay.
const KLOG_FLAGS = ['--alsologtostderr', '--log-dir', '--log-file', '--log-file-max-size', '--skip-headers', '--skip-log-headers', '--stderrthreshold', '--log-backtrace-at', '--one-output', '--add-dir-header'];

/**
 * Flags every release from 1.21 to 1.36 has that the table does not list (it tracks flags that changed). Without
 * them the stand-ins would refuse flags the real binaries take; anything else outside the table stays refused.
 */
const STEADY_FLAGS: Record<KubeComponent, string[]> = {
  'kube-apiserver': [
    '--requestheader-client-ca-file', '--requestheader-allowed-names', '--requestheader-extra-headers-prefix',
    '--requestheader-group-headers', '--requestheader-username-headers', '--proxy-client-cert-file', '--proxy-client-key-file',
    '--enable-aggregator-routing', '--audit-policy-file', '--profiling', '--feature-gates', '--cert-dir',
    '--tls-cipher-suites', '--tls-min-version', '--kubelet-preferred-address-types', '--storage-media-type',
  ],
  'kube-controller-manager': [
    '--controllers', '--node-cidr-mask-size', '--cluster-signing-duration', '--tls-cert-file', '--tls-private-key-file',
    '--client-ca-file', '--requestheader-client-ca-file', '--profiling', '--feature-gates', '--terminated-pod-gc-threshold',
  ],
  'kube-scheduler': ['--tls-cert-file', '--tls-private-key-file', '--client-ca-file', '--requestheader-client-ca-file', '--profiling', '--feature-gates'],
};

function crashFrom(table: FlagTable, component: string, item: RegExp): string | null {
  return table.crashOnStart.find((c) => c.component === component && item.test(c.item))?.fatalFrom ?? null;
}

/** The apiVersions of a config kind this version decodes, each with its deprecation warning or null. */
function configVersions(entries: Record<string, unknown>, version: string): Record<string, string | null> {
  const accepted: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(entries)) {
    const l = value as Partial<Lifetime>;
    if (typeof l !== 'object' || !('removed' in l) || !present(version, l as Lifetime)) continue;
    accepted[name] = atLeast(version, l.deprecated) ? `${name} is deprecated${l.replacement ? `, use ${l.replacement}` : ''}` : null;
  }
  return accepted;
}

export function componentFacts(component: KubeComponent, version: string, table = readFlagTable()): ComponentFacts {
  const v = version.replace(/^v/, '');
  const flags: Record<string, FlagFact> = {};
  const rows = table.components[component];
  for (const [name, l] of Object.entries(rows)) if (present(v, l)) flags[name] = { deprecated: deprecation(v, l) };
  const logtostderr = rows['--logtostderr'];
  if (logtostderr) for (const name of KLOG_FLAGS) if (present(v, logtostderr)) flags[name] = { deprecated: deprecation(v, logtostderr) };
  for (const name of ['--vmodule', ...STEADY_FLAGS[component]]) flags[name] ??= { deprecated: null };
  const facts: ComponentFacts = { component, version: v, flags, securePort: table.ports[component].secure.port };
  const portItem = component === 'kube-apiserver' ? /^--insecure-port=<non-zero>/ : /^--port=<non-zero>/;
  facts.insecurePortMustBeZeroFrom = crashFrom(table, component, portItem);
  if (component === 'kube-apiserver') {
    facts.serviceAccountFlagsRequiredFrom = crashFrom(table, component, /^missing --service-account-issuer/);
    facts.runtimeConfigApiAllNeedsValueFrom = crashFrom(table, component, /^--runtime-config=api\/all \(no =true\)/);
    facts.runtimeConfigRemoved = Object.fromEntries(
      table.crashOnStart
        .filter((c) => c.component === component && /^--runtime-config=[a-z0-9.]+\/v/.test(c.item))
        .map((c) => [c.item.replace(/^--runtime-config=(\S+).*$/, '$1'), c.fatalFrom]),
    );
    // Plugin rows may name several plugins ("A,B,C") sharing one lifetime.
    const plugins = Object.entries(table.admissionPlugins).flatMap(([names, l]) => names.split(',').map((n) => [n, l] as const));
    facts.admissionPluginsKnown = plugins.filter(([, l]) => present(v, l)).map(([n]) => n);
    facts.admissionPluginsRemoved = plugins.filter(([, l]) => atLeast(v, l.removed)).map(([n]) => n);
    const encryption = configVersions(table.configApis.EncryptionConfiguration, v);
    // Keys of the table read "kind: K, apiVersion: V": the script matches "V/K".
    facts.encryptionKinds = Object.fromEntries(
      Object.entries(encryption).map(([key, warning]) => {
        const m = /kind: (\w+), apiVersion: (\S+)/.exec(key);
        return [m ? `${m[2]}/${m[1]}` : key, warning];
      }),
    );
    const notes = JSON.stringify(table.components[component]['--encryption-provider-config'] ?? {});
    facts.encryptionStrict = atLeast(v, /(\d+\.\d+)\+: file decoded strictly/.exec(notes)?.[1]);
  }
  if (component === 'kube-scheduler') facts.schedulerConfigApis = configVersions(table.configApis.KubeSchedulerConfiguration, v);
  return facts;
}
