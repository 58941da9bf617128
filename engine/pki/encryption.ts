// The API server's encryption-at-rest config: aescbc with one random 32-byte key. A key, once made, is kept:
// a new one would leave every secret already written unreadable.

import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { PkiError } from './errors.ts';

export interface EncryptionKey {
  name: string;
  /** base64 of 32 random bytes. */
  secret: string;
}

export function newEncryptionKey(name = 'key1'): EncryptionKey {
  return { name, secret: randomBytes(32).toString('base64') };
}

export function renderEncryptionConfig(keys: readonly EncryptionKey[], resources: readonly string[] = ['secrets']): string {
  return stringify({
    kind: 'EncryptionConfiguration',
    apiVersion: 'apiserver.config.k8s.io/v1',
    resources: [
      {
        resources: [...resources],
        // identity last: what was stored before encryption was turned on stays readable.
        providers: [{ aescbc: { keys: keys.map((k) => ({ name: k.name, secret: k.secret })) } }, { identity: {} }],
      },
    ],
  });
}

/** The aescbc keys of an existing config; throws when it has none that is 32 bytes (never silently replaced). */
export function readEncryptionKeys(text: string): EncryptionKey[] {
  type Node = Record<string, unknown>;
  let doc: Node;
  try {
    doc = parse(text) as Node;
  } catch (error) {
    throw new PkiError(`the encryption config is not YAML (${(error as Error).message}); fix or remove it by hand`);
  }
  const list = (v: unknown): Node[] => (Array.isArray(v) ? (v as Node[]) : []);
  const keys = list(doc?.resources)
    .flatMap((r) => list(r?.providers))
    .flatMap((p) => list((p?.aescbc as Node | undefined)?.keys))
    .map((k) => ({ name: String(k?.name ?? ''), secret: String(k?.secret ?? '') }));
  const usable = keys.filter((k) => k.name && Buffer.from(k.secret, 'base64').length === 32);
  if (!usable.length) throw new PkiError('the encryption config has no aescbc key of 32 bytes; fix or remove it by hand');
  return usable;
}
