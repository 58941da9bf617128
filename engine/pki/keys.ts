// Private keys, made by node:crypto: RSA (2048 bits by default) or ECDSA (P-256, P-384). PEM in, PEM out.

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { PkiError } from './errors.ts';

export type KeyAlgorithm = 'rsa' | 'ecdsa';

export interface KeySpec {
  algorithm: KeyAlgorithm;
  /** RSA: modulus bits (2048, 3072, 4096). ECDSA: curve bits (256 = P-256, 384 = P-384). */
  size: number;
}

const CURVES: Record<number, string> = { 256: 'prime256v1', 384: 'secp384r1' };

export function checkKeySpec(spec: KeySpec): void {
  if (spec.algorithm === 'rsa' && (spec.size < 2048 || spec.size > 8192 || spec.size % 8 !== 0)) {
    throw new PkiError(`RSA key size ${spec.size} is not a multiple of 8 between 2048 and 8192`);
  }
  if (spec.algorithm === 'ecdsa' && !CURVES[spec.size]) throw new PkiError(`ECDSA key size ${spec.size} is not 256 or 384`);
}

/** A new private key in PEM: PKCS#1 for RSA, SEC1 for ECDSA (what openssl and cfssl write, what every tool reads). */
export function generatePrivateKey(spec: KeySpec): string {
  checkKeySpec(spec);
  const { privateKey } =
    spec.algorithm === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: spec.size })
      : generateKeyPairSync('ec', { namedCurve: CURVES[spec.size] });
  return privateKey.export({ type: spec.algorithm === 'rsa' ? 'pkcs1' : 'sec1', format: 'pem' }).toString();
}

/** The key in `pem`, or null when it is not a readable unencrypted private key. */
export function readPrivateKey(pem: string | Buffer): KeyObject | null {
  try {
    return createPrivateKey(pem);
  } catch {
    return null;
  }
}

/** Why `key` is not the key `spec` asks for, or null when it is. */
export function keySpecProblem(key: KeyObject, spec: KeySpec): string | null {
  const details = key.asymmetricKeyDetails ?? {};
  const have =
    key.asymmetricKeyType === 'rsa'
      ? `RSA ${details.modulusLength}`
      : key.asymmetricKeyType === 'ec'
        ? `ECDSA ${Object.entries(CURVES).find(([, curve]) => curve === details.namedCurve)?.[0] ?? details.namedCurve}`
        : String(key.asymmetricKeyType);
  const want = `${spec.algorithm === 'rsa' ? 'RSA' : 'ECDSA'} ${spec.size}`;
  return have === want ? null : `the key is ${have}, not ${want}`;
}

/** The public half of a private key, as SPKI PEM ("PUBLIC KEY"). */
export function publicKeyPem(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}
