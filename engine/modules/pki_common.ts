// What the PKI modules share: where a named certificate and key live in the PKI folder, reading them on the
// controller, writing them (folder 0700, keys 0600) and turning library errors into task failures.

import { X509Certificate } from 'node:crypto';
import { dirname, join } from 'node:path';
import { shellQuote } from '../core/shell.ts';
import { readCertificate, type Subject } from '../pki/certificate.ts';
import { readPrivateKey } from '../pki/keys.ts';
import { PkiError } from '../pki/errors.ts';
import { ModuleError, type FileEffect, type ModuleContext } from './contract.ts';

export const CERT_MODE = 0o644;
export const SECRET_MODE = 0o600;
export const DIR_MODE = 0o700;

/** `ca` → `<dir>/ca.pem` and `<dir>/ca-key.pem` (cfssl's names, as the guides use); a name with a `/` is a path. */
export function pairPaths(dir: string, name: string): { cert: string; key: string } {
  const base = name.includes('/') ? name : join(dir, name);
  return { cert: `${base}.pem`, key: `${base}-key.pem` };
}

/** One file as it is on the controller: its text (null when absent) and mode. */
export interface Existing {
  path: string;
  text: string | null;
  mode?: number;
}

export async function readExisting(ctx: ModuleContext, path: string): Promise<Existing> {
  const st = await ctx.controller.stat(path, { follow: true });
  if (!st.exists) return { path, text: null };
  if (st.type !== 'file') throw new ModuleError(`${path} exists and is not a regular file`);
  const content = await ctx.controller.get(path);
  return { path, text: content === null ? null : content.toString(), mode: st.mode };
}

/**
 * A file an earlier task of this --check run makes, its content not known yet (the overlay plans it, the disk has
 * none): the caller plans as the real run would, after that task. A file that is there, or planned with content,
 * is read as it is.
 */
export function madeEarlier(ctx: ModuleContext, file: Existing): boolean {
  return file.text !== null || ctx.controller.planned?.(file.path)?.state === 'file';
}

/** A file this module owns: what it should hold and its mode. */
export interface Wanted {
  path: string;
  content: string;
  mode: number;
}

/** Put files on the controller, making their folders (0700: the PKI folder holds keys) when absent. */
export async function writeFiles(ctx: ModuleContext, files: readonly Wanted[]): Promise<void> {
  for (const dir of new Set(files.map((f) => dirname(f.path)))) {
    const r = await ctx.controller.exec(`mkdir -p -m ${DIR_MODE.toString(8)} -- ${shellQuote(dir)}`);
    if (r.rc !== 0) throw new ModuleError(`cannot make ${dir}: ${r.stderr.trim()}`);
  }
  for (const file of files) await ctx.controller.put(file.path, file.content, { mode: file.mode });
}

/** The existing files whose mode is not the one wanted (content is right): rewritten as they are, with the mode. */
export function modeFixes(files: readonly [Existing, number][]): Wanted[] {
  return files
    .filter(([f, mode]) => f.text !== null && f.mode !== mode)
    .map(([f, mode]) => ({ path: f.path, content: f.text as string, mode }));
}

/** The --check overlay: the files a plan leaves. Content only for public files; keys stay out of every event. */
export function fileEffects(files: readonly { path: string; mode: number; content?: string }[]): FileEffect[] {
  return files.map((f) => ({
    path: f.path,
    state: 'file',
    mode: f.mode,
    ...(f.content !== undefined && f.mode !== SECRET_MODE ? { content: Buffer.from(f.content) } : {}),
  }));
}

/** Run library code, so that a PkiError (bad input) becomes the task's failure with its message. */
export function pkiCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof PkiError) throw new ModuleError(error.message);
    throw error;
  }
}

/** Options shared by the modules that make a certificate: subject and validity. */
export const SUBJECT_ARGS = {
  common_name: { type: 'str', required: true, aliases: ['cn'], description: 'Subject CN.' },
  organization: { type: 'list', elements: 'str', default: [], aliases: ['o'], description: 'Subject O (several: Kubernetes groups).' },
  organizational_unit: { type: 'list', elements: 'str', default: [], aliases: ['ou'], description: 'Subject OU.' },
  country: { type: 'str', description: 'Subject C.' },
  state: { type: 'str', description: 'Subject ST.' },
  locality: { type: 'str', description: 'Subject L.' },
} as const;

export interface SubjectArgs {
  common_name: string;
  organization: string[];
  organizational_unit: string[];
  country?: string;
  state?: string;
  locality?: string;
}

export function subjectOf(args: SubjectArgs): Subject {
  return {
    commonName: args.common_name,
    organization: args.organization,
    organizationalUnit: args.organizational_unit,
    country: args.country ?? undefined,
    state: args.state ?? undefined,
    locality: args.locality ?? undefined,
  };
}

/**
 * The signing CA's certificate and key, read and checked before anything is written. Not there yet because an earlier
 * task of this --check run makes it: null, and the caller plans against that.
 */
export async function loadCa(ctx: ModuleContext, dir: string, name: string): Promise<{ certPem: string; keyPem: string } | null> {
  const paths = pairPaths(dir, name);
  const [cert, key] = await Promise.all([readExisting(ctx, paths.cert), readExisting(ctx, paths.key)]);
  if (cert.text === null || key.text === null) {
    if (madeEarlier(ctx, cert) && madeEarlier(ctx, key)) return null;
    throw new ModuleError(`no CA at ${cert.text === null ? paths.cert : paths.key}: make it first (pki_ca) or give ca:`);
  }
  const { certPem, keyPem } = { certPem: cert.text, keyPem: key.text };
  pkiCall(() => {
    const info = readCertificate(certPem);
    if (!info.isCa) throw new PkiError(`${paths.cert} is not a CA certificate`);
  });
  const caKey = readPrivateKey(keyPem);
  if (!caKey || !new X509Certificate(certPem).checkPrivateKey(caKey)) throw new ModuleError(`${paths.key} is not the key of ${paths.cert}`);
  return { certPem, keyPem };
}
