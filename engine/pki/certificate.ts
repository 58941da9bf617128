// X.509 certificates with node-forge: issue one (self-signed CA or signed by a CA), and say why an existing one no
// longer matches what is asked (subject, SANs, usages, issuer, key, expiry), so a run reissues only what is wrong.

import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import type forge from 'node-forge';
import { lazy } from '../core/lazy.ts';

/** node-forge (0.6 MB) is parsed only by runs that make or read a certificate. */
const nodeForge = lazy<typeof forge>('node-forge');
import { PkiError } from './errors.ts';
import { parseSubjectAltNames } from './names.ts';

export const KEY_USAGES = ['digitalSignature', 'contentCommitment', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign'] as const;
export const EXT_KEY_USAGES = ['serverAuth', 'clientAuth', 'codeSigning', 'emailProtection', 'timeStamping'] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];
export type ExtKeyUsage = (typeof EXT_KEY_USAGES)[number];

export interface Subject {
  commonName: string;
  organization?: readonly string[];
  organizationalUnit?: readonly string[];
  country?: string;
  state?: string;
  locality?: string;
}

export interface CertificateRequest {
  subject: Subject;
  /** IP addresses and DNS names; checked by parseSubjectAltNames. */
  sans?: readonly string[];
  keyUsage: readonly KeyUsage[];
  extKeyUsage?: readonly ExtKeyUsage[];
  isCa?: boolean;
  days: number;
}

/** The signing CA: its certificate and private key, PEM. */
export interface Issuer {
  certPem: string;
  keyPem: string;
}

/** Backdating absorbs clock skew between the controller and the hosts. */
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Accept `digitalSignature`, `digital signature`, `Digital-Signature`, cfssl's `server auth`... */
function usageName<T extends string>(name: string, known: readonly T[], what: string): T {
  const squash = (s: string): string => s.toLowerCase().replace(/[\s_-]/g, '');
  const found = known.find((k) => squash(k) === squash(name));
  if (!found) throw new PkiError(`unknown ${what} "${name}" (known: ${known.join(', ')})`);
  return found;
}
export const keyUsageName = (name: string): KeyUsage => usageName(name, KEY_USAGES, 'key usage');
export const extKeyUsageName = (name: string): ExtKeyUsage => usageName(name, EXT_KEY_USAGES, 'extended key usage');

function subjectAttributes(s: Subject): forge.pki.CertificateField[] {
  const attrs: forge.pki.CertificateField[] = [];
  const add = (shortName: string, values: readonly string[] | string | undefined): void => {
    for (const value of typeof values === 'string' ? [values] : (values ?? [])) if (value !== '') attrs.push({ shortName, value });
  };
  add('C', s.country);
  add('ST', s.state);
  add('L', s.locality);
  add('O', s.organization);
  add('OU', s.organizationalUnit);
  add('CN', s.commonName);
  return attrs;
}

/** `C=US/O=system:masters/CN=admin`: one string to compare and to show. */
function subjectText(attrs: readonly { shortName?: string; name?: string; value?: unknown }[]): string {
  return attrs.map((a) => `${a.shortName ?? a.name}=${String(a.value)}`).join('/');
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01; // positive and minimal in DER
  return bytes.toString('hex');
}

function forgePrivateKey(pem: string): forge.pki.rsa.PrivateKey {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'rsa') throw new PkiError('certificates are made with RSA keys only (node-forge signs RSA)');
  return nodeForge().pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }).toString());
}

/** Issue a certificate for the key `keyPem`: signed by `issuer`, or self-signed when there is none (a root CA). */
export function issueCertificate(request: CertificateRequest, keyPem: string, issuer?: Issuer, now = new Date()): string {
  const sans = parseSubjectAltNames(request.sans ?? []);
  const key = forgePrivateKey(keyPem);
  const cert = nodeForge().pki.createCertificate();
  cert.publicKey = nodeForge().pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + request.days * DAY_MS);
  cert.setSubject(subjectAttributes(request.subject));
  const caCert = issuer ? nodeForge().pki.certificateFromPem(issuer.certPem) : cert;
  cert.setIssuer(caCert.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: request.isCa === true, critical: true },
    { name: 'keyUsage', critical: true, ...Object.fromEntries(request.keyUsage.map((u) => [u, true])) },
  ];
  if (request.extKeyUsage?.length) extensions.push({ name: 'extKeyUsage', ...Object.fromEntries(request.extKeyUsage.map((u) => [u, true])) });
  if (sans.ips.length + sans.dns.length > 0) {
    extensions.push({
      name: 'subjectAltName',
      altNames: [...sans.dns.map((value) => ({ type: 2, value })), ...sans.ips.map((ip) => ({ type: 7, ip }))],
    });
  }
  extensions.push({ name: 'subjectKeyIdentifier' });
  extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() });
  cert.setExtensions(extensions);
  cert.sign(issuer ? forgePrivateKey(issuer.keyPem) : key, nodeForge().md.sha256.create());
  return nodeForge().pki.certificateToPem(cert);
}

/** What a certificate says, read back: for messages, `register` and the reissue decision. */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  sans: string[];
  keyUsage: KeyUsage[];
  extKeyUsage: ExtKeyUsage[];
  isCa: boolean;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  subjectKeyId?: string;
  authorityKeyId?: string;
}

interface ForgeExtension {
  name?: string;
  cA?: boolean;
  altNames?: { type: number; value: string; ip?: string }[];
  subjectKeyIdentifier?: string;
  keyIdentifier?: string;
  [usage: string]: unknown;
}

/** Read a PEM certificate; throws PkiError when it is not one node-forge can read (forge reads RSA keys only). */
export function readCertificate(pem: string): CertificateInfo {
  let cert: forge.pki.Certificate;
  try {
    cert = nodeForge().pki.certificateFromPem(pem);
  } catch (error) {
    throw new PkiError(`not a readable RSA certificate: ${(error as Error).message}`);
  }
  const ext = (name: string): ForgeExtension | undefined => cert.getExtension(name) as ForgeExtension | undefined;
  const san = ext('subjectAltName')?.altNames ?? [];
  const aki = ext('authorityKeyIdentifier')?.keyIdentifier;
  return {
    subject: subjectText(cert.subject.attributes),
    issuer: subjectText(cert.issuer.attributes),
    sans: [...san.filter((n) => n.type === 2).map((n) => n.value), ...san.filter((n) => n.type === 7 && n.ip).map((n) => n.ip as string)],
    keyUsage: KEY_USAGES.filter((u) => ext('keyUsage')?.[u] === true),
    extKeyUsage: EXT_KEY_USAGES.filter((u) => ext('extKeyUsage')?.[u] === true),
    isCa: ext('basicConstraints')?.cA === true,
    serial: cert.serialNumber,
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    subjectKeyId: ext('subjectKeyIdentifier')?.subjectKeyIdentifier,
    authorityKeyId: aki === undefined ? undefined : nodeForge().util.bytesToHex(aki),
  };
}

function setDifference(have: readonly string[], want: readonly string[]): string | null {
  const missing = want.filter((x) => !have.includes(x));
  const extra = have.filter((x) => !want.includes(x));
  if (!missing.length && !extra.length) return null;
  return [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `not asked ${extra.join(', ')}` : ''].filter(Boolean).join('; ');
}

export interface CheckOptions {
  /** Reissue when the certificate expires within this many days. */
  renewBeforeDays: number;
  now?: Date;
}

/** One way an existing certificate is not what is asked; `what` lets a caller weigh it (a CA keeps its subject). */
export interface CertificateProblem {
  what: 'unreadable' | 'key' | 'subject' | 'sans' | 'usage' | 'ca' | 'issuer' | 'expiry';
  text: string;
}

/**
 * Why the certificate `certPem` (for key `keyPem`) is not what `request` asks, issued by `issuerCertPem` (or
 * self-signed when null). An empty list: keep it.
 */
export function certificateProblems(
  certPem: string,
  keyPem: string,
  request: CertificateRequest,
  issuerCertPem: string | null,
  options: CheckOptions,
): CertificateProblem[] {
  let info: CertificateInfo;
  let x509: X509Certificate;
  try {
    info = readCertificate(certPem);
    x509 = new X509Certificate(certPem);
  } catch (error) {
    return [{ what: 'unreadable', text: (error as Error).message }];
  }
  const problems: CertificateProblem[] = [];
  const problem = (what: CertificateProblem['what'], text: string | null): void => {
    if (text !== null) problems.push({ what, text });
  };
  const key = (() => {
    try {
      return createPrivateKey(keyPem);
    } catch {
      return null;
    }
  })();
  if (!key || !x509.checkPrivateKey(key)) problem('key', 'the certificate is not for the key beside it');
  const wantSubject = subjectText(subjectAttributes(request.subject));
  if (info.subject !== wantSubject) problem('subject', `subject is ${info.subject}, asked ${wantSubject}`);
  const sans = parseSubjectAltNames(request.sans ?? []);
  const sanChange = setDifference(info.sans, [...sans.dns, ...sans.ips]);
  const usageChange = setDifference(info.keyUsage, request.keyUsage);
  const extUsageChange = setDifference(info.extKeyUsage, request.extKeyUsage ?? []);
  problem('sans', sanChange && `SANs: ${sanChange}`);
  problem('usage', usageChange && `key usage: ${usageChange}`);
  problem('usage', extUsageChange && `extended key usage: ${extUsageChange}`);
  if (info.isCa !== (request.isCa === true)) problem('ca', request.isCa ? 'it is not a CA certificate' : 'it is a CA certificate');
  const signer = issuerCertPem === null ? x509 : new X509Certificate(issuerCertPem);
  const signerInfo = issuerCertPem === null ? info : readCertificate(issuerCertPem);
  const signedBySigner =
    info.issuer === signerInfo.subject &&
    x509.verify(signer.publicKey) &&
    (info.authorityKeyId === undefined || info.authorityKeyId === signerInfo.subjectKeyId);
  if (!signedBySigner) problem('issuer', issuerCertPem === null ? 'it is not self-signed' : `it is not signed by the CA ${signerInfo.subject}`);
  const now = options.now ?? new Date();
  if (info.notAfter.getTime() - options.renewBeforeDays * DAY_MS <= now.getTime()) {
    problem('expiry', `it expires ${info.notAfter.toISOString()}, within ${options.renewBeforeDays} days`);
  }
  return problems;
}
