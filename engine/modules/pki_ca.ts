// pki_ca: a self-signed CA in the PKI folder (`<dir>/<name>.pem`, `<dir>/<name>-key.pem` 0600), made only when
// absent. An existing CA is never replaced: every certificate signed by it would stop being trusted.

import { certificateProblems, issueCertificate, type CertificateRequest } from '../pki/certificate.ts';
import { generatePrivateKey } from '../pki/keys.ts';
import { ModuleError, defineModule } from './contract.ts';
import { CERT_MODE, SECRET_MODE, SUBJECT_ARGS, fileEffects, modeFixes, pairPaths, pkiCall, readExisting, subjectOf, writeFiles, type SubjectArgs } from './pki_common.ts';

interface CaArgs extends SubjectArgs {
  dir: string;
  name: string;
  days: number;
  key_size: number;
  renew_before_days: number;
}

export default defineModule<CaArgs>({
  name: 'pki_ca',
  controllerOnly: true,
  spec: {
    args: {
      dir: { type: 'path', required: true, description: 'The PKI folder on the controller (one per cluster), made 0700.' },
      name: { type: 'str', default: 'ca', description: 'Files <name>.pem and <name>-key.pem.' },
      ...SUBJECT_ARGS,
      days: { type: 'int', default: 3650, description: 'Validity of a new CA.' },
      key_size: { type: 'int', default: 2048, description: 'RSA key bits.' },
      renew_before_days: { type: 'int', default: 30, description: 'Fail when the CA expires within this many days: rotating a CA is done by hand.' },
    },
  },
  async plan(args, ctx) {
    const paths = pairPaths(args.dir, args.name);
    const [cert, key] = await Promise.all([readExisting(ctx, paths.cert), readExisting(ctx, paths.key)]);
    const request: CertificateRequest = {
      subject: subjectOf(args),
      keyUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'],
      isCa: true,
      days: args.days,
    };
    const result = { cert: paths.cert, key: paths.key };

    if (cert.text === null && key.text === null) {
      const files = [
        { path: paths.key, mode: SECRET_MODE },
        { path: paths.cert, mode: CERT_MODE },
      ];
      return {
        changed: true,
        msg: `create CA ${args.common_name} in ${args.dir}`,
        result,
        effects: fileEffects(files),
        apply: async () => {
          const keyPem = pkiCall(() => generatePrivateKey({ algorithm: 'rsa', size: args.key_size }));
          const certPem = pkiCall(() => issueCertificate(request, keyPem));
          await writeFiles(ctx, [
            { ...files[0], content: keyPem },
            { ...files[1], content: certPem },
          ]);
        },
      };
    }
    if (cert.text === null || key.text === null) {
      const [have, missing] = cert.text === null ? [paths.key, paths.cert] : [paths.cert, paths.key];
      throw new ModuleError(`${have} exists but ${missing} does not: restore it, or remove both to make a new CA`);
    }
    // Only what makes the CA unusable fails the task; a subject other than asked is kept and said.
    const problems = certificateProblems(cert.text, key.text, request, null, { renewBeforeDays: args.renew_before_days });
    const fatal = problems.filter((p) => p.what !== 'subject' && p.what !== 'usage').map((p) => p.text);
    if (fatal.length) throw new ModuleError(`the CA in ${paths.cert} cannot be used (${fatal.join('; ')}); it is never replaced by kplay`);
    const fixes = modeFixes([
      [key, SECRET_MODE],
      [cert, CERT_MODE],
    ]);
    const kept = problems.length ? `keep existing CA (${problems.map((p) => p.text).join('; ')})` : undefined;
    if (!fixes.length) return { changed: false, msg: kept, result };
    return {
      changed: true,
      msg: [kept, `set mode of ${fixes.map((f) => f.path).join(', ')}`].filter(Boolean).join('; '),
      result,
      effects: fileEffects(fixes),
      apply: () => writeFiles(ctx, fixes),
    };
  },
});
