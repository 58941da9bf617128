// A kubeconfig that embeds the CA and a client certificate and key (or a bearer token: a kubelet's bootstrap
// kubeconfig) for one API server URL, and the differences between an existing one and what is asked, named without
// showing any secret.

import { parse, stringify } from 'yaml';
import { PkiError } from './errors.ts';

export interface KubeconfigSpec {
  cluster: string;
  server: string;
  user: string;
  context: string;
  caPem: string;
  certPem?: string;
  keyPem?: string;
  /** A bearer token instead of the client pair. */
  token?: string;
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

export function checkServerUrl(server: string): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new PkiError(`server "${server}" is not a URL like https://10.0.0.10:6443`);
  }
  if (url.protocol !== 'https:') throw new PkiError(`server "${server}" must be https (the client authenticates with a certificate)`);
}

function credentials(spec: KubeconfigSpec): Record<string, string> {
  if (spec.token !== undefined) return { token: spec.token };
  if (spec.certPem === undefined || spec.keyPem === undefined) throw new PkiError('a kubeconfig needs a client certificate and key, or a token');
  return { 'client-certificate-data': b64(spec.certPem), 'client-key-data': b64(spec.keyPem) };
}

export function renderKubeconfig(spec: KubeconfigSpec): string {
  checkServerUrl(spec.server);
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: spec.cluster, cluster: { 'certificate-authority-data': b64(spec.caPem), server: spec.server } }],
    users: [{ name: spec.user, user: credentials(spec) }],
    contexts: [{ name: spec.context, context: { cluster: spec.cluster, user: spec.user } }],
    'current-context': spec.context,
    preferences: {},
  });
}

/** What differs between the kubeconfig `existing` and `wanted` (both rendered), in words safe to print. */
export function kubeconfigChanges(existing: string, wanted: string): string[] {
  if (existing === wanted) return [];
  type Entry = Record<string, unknown>;
  const read = (text: string): Entry => {
    try {
      return (parse(text) as Entry | null) ?? {};
    } catch {
      return {};
    }
  };
  const first = (doc: Entry, list: string, key: string): Entry => {
    const items = doc[list];
    return (Array.isArray(items) ? ((items[0] as Entry | undefined)?.[key] as Entry | undefined) : undefined) ?? {};
  };
  const [before, after] = [read(existing), read(wanted)];
  // [what, list, entry key, field, secret]: secrets are named, never shown.
  const fields: [string, string, string, string, boolean][] = [
    ['server', 'clusters', 'cluster', 'server', false],
    ['CA certificate', 'clusters', 'cluster', 'certificate-authority-data', true],
    ['client certificate', 'users', 'user', 'client-certificate-data', true],
    ['client key', 'users', 'user', 'client-key-data', true],
    ['token', 'users', 'user', 'token', true],
    ['cluster', 'contexts', 'context', 'cluster', false],
    ['user', 'contexts', 'context', 'user', false],
  ];
  const changes = fields.flatMap(([what, list, key, field, secret]) => {
    const [was, now] = [first(before, list, key)[field], first(after, list, key)[field]];
    if (was === now) return [];
    return [secret ? `${what} changed` : `${what} ${String(was ?? '(none)')} -> ${String(now)}`];
  });
  return changes.length ? changes : ['layout changed'];
}
