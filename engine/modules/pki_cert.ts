// pki_cert: a certificate signed by the cluster's CA, with its key (0600), in the PKI folder on the controller.
// Kept while it matches what is asked; reissued (with the same key when that key is still right) when its subject,
// SANs, usages or issuer changed, its key does not match, or it expires within `renew_before_days`.

import { certificateProblems, extKeyUsageName, issueCertificate, keyUsageName, type CertificateRequest } from '../pki/certificate.ts';
import { checkKeySpec, generatePrivateKey, keySpecProblem, readPrivateKey, type KeySpec } from '../pki/keys.ts';
import { parseSubjectAltNames } from '../pki/names.ts';
import { defineModule } from './contract.ts';
import { CERT_MODE, SECRET_MODE, SUBJECT_ARGS, fileEffects, loadCa, modeFixes, pairPaths, pkiCall, readExisting, subjectOf, writeFiles, type SubjectArgs } from './pki_common.ts';

interface CertArgs extends SubjectArgs {
  dir: string;
  name: string;
  ca: string;
  sans: string[];
  key_usage: string[];
  extended_key_usage: string[];
  days: number;
  renew_before_days: number;
  key_size: number;
}

export default defineModule<CertArgs>({
  name: 'pki_cert',
  controllerOnly: true,
  spec: {
    args: {
      dir: { type: 'path', required: true, description: 'The PKI folder on the controller.' },
      name: { type: 'str', required: true, description: 'Files <name>.pem and <name>-key.pem.' },
      ca: { type: 'str', default: 'ca', description: 'The signing CA: a name in dir, or a path without .pem.' },
      ...SUBJECT_ARGS,
      sans: { type: 'list', elements: 'str', default: [], aliases: ['subject_alt_names'], description: 'IP addresses and DNS names.' },
      key_usage: { type: 'list', elements: 'str', default: ['digitalSignature', 'keyEncipherment'] },
      extended_key_usage: { type: 'list', elements: 'str', default: [], description: 'serverAuth, clientAuth...' },
      days: { type: 'int', default: 365, description: 'Validity of a new certificate.' },
      renew_before_days: { type: 'int', default: 30, description: 'Reissue when the certificate expires within this many days.' },
      key_size: { type: 'int', default: 2048, description: 'RSA key bits.' },
    },
  },
  async plan(args, ctx) {
    // Every input is checked before anything is read or written.
    const keySpec: KeySpec = { algorithm: 'rsa', size: args.key_size };
    const request: CertificateRequest = pkiCall(() => {
      checkKeySpec(keySpec);
      parseSubjectAltNames(args.sans);
      return {
        subject: subjectOf(args),
        sans: args.sans,
        keyUsage: args.key_usage.map(keyUsageName),
        extKeyUsage: args.extended_key_usage.map(extKeyUsageName),
        days: args.days,
      };
    });
    const ca = await loadCa(ctx, args.dir, args.ca);
    const paths = pairPaths(args.dir, args.name);
    const result = { cert: paths.cert, key: paths.key, subject_alt_names: args.sans };
    if (ca === null) {
      // --check, and an earlier task would make the CA: this certificate and its key are then made new.
      return { changed: true, msg: 'signed by a CA an earlier task makes', result, effects: fileEffects([{ path: paths.cert, mode: 0o644 }, { path: paths.key, mode: SECRET_MODE }]) };
    }

    const [cert, key] = await Promise.all([readExisting(ctx, paths.cert), readExisting(ctx, paths.key)]);
    const existingKey = key.text === null ? null : readPrivateKey(key.text);
    const keyProblem = key.text === null ? 'no key' : existingKey === null ? 'the key is unreadable' : keySpecProblem(existingKey, keySpec);
    const problems =
      keyProblem !== null
        ? [keyProblem]
        : cert.text === null
          ? ['no certificate']
          : certificateProblems(cert.text, key.text as string, request, ca.certPem, { renewBeforeDays: args.renew_before_days }).map((p) => p.text);

    if (!problems.length) {
      const fixes = modeFixes([
        [key, SECRET_MODE],
        [cert, CERT_MODE],
      ]);
      if (!fixes.length) return { changed: false, result };
      return { changed: true, msg: `set mode of ${fixes.map((f) => f.path).join(', ')}`, result, effects: fileEffects(fixes), apply: () => writeFiles(ctx, fixes) };
    }
    const files = [
      ...(keyProblem !== null ? [{ path: paths.key, mode: SECRET_MODE }] : []),
      { path: paths.cert, mode: CERT_MODE },
    ];
    const fresh = cert.text === null && key.text === null;
    return {
      changed: true,
      msg: fresh ? `issue ${args.common_name} as ${paths.cert}` : `reissue ${paths.cert}: ${problems.join('; ')}`,
      result: { ...result, reasons: problems },
      effects: fileEffects(files),
      apply: async () => {
        // A key that is still right is kept: only the certificate changes.
        const keyPem = keyProblem === null ? (key.text as string) : pkiCall(() => generatePrivateKey(keySpec));
        const certPem = pkiCall(() => issueCertificate(request, keyPem, ca));
        await writeFiles(ctx, [
          { path: paths.key, content: keyPem, mode: SECRET_MODE },
          { path: paths.cert, content: certPem, mode: CERT_MODE },
        ]);
      },
    };
  },
});
