// pki_keypair: a bare key pair (the service-account token signing key): `<name>-key.pem` 0600 and the public half
// `<name>.pem`. RSA 2048 by default, ECDSA P-256 with `type: ecdsa`. Kept while it is the asked type and size.

import { generatePrivateKey, keySpecProblem, publicKeyPem, readPrivateKey, checkKeySpec, type KeySpec } from '../pki/keys.ts';
import { defineModule } from './contract.ts';
import { CERT_MODE, SECRET_MODE, fileEffects, modeFixes, pairPaths, pkiCall, readExisting, writeFiles } from './pki_common.ts';

interface KeypairArgs {
  dir: string;
  name: string;
  type: 'rsa' | 'ecdsa';
  size?: number;
}

export default defineModule<KeypairArgs>({
  name: 'pki_keypair',
  controllerOnly: true,
  spec: {
    args: {
      dir: { type: 'path', required: true, description: 'The PKI folder on the controller.' },
      name: { type: 'str', required: true, description: 'Files <name>-key.pem (private) and <name>.pem (public).' },
      type: { type: 'str', default: 'rsa', choices: ['rsa', 'ecdsa'] },
      size: { type: 'int', description: 'RSA bits (default 2048) or ECDSA curve bits (default 256: P-256).' },
    },
  },
  async plan(args, ctx) {
    const spec: KeySpec = { algorithm: args.type, size: args.size ?? (args.type === 'rsa' ? 2048 : 256) };
    pkiCall(() => checkKeySpec(spec));
    const paths = pairPaths(args.dir, args.name);
    const [pub, key] = await Promise.all([readExisting(ctx, paths.cert), readExisting(ctx, paths.key)]);
    const result = { key: paths.key, public_key: paths.cert, type: spec.algorithm, size: spec.size };
    const existing = key.text === null ? null : readPrivateKey(key.text);
    const problem = key.text === null ? null : existing === null ? 'the key is unreadable' : keySpecProblem(existing, spec);

    if (existing !== null && problem === null) {
      const publicPem = publicKeyPem(existing);
      const fixes = [
        ...modeFixes([[key, SECRET_MODE]]),
        ...(pub.text === publicPem ? modeFixes([[pub, CERT_MODE]]) : [{ path: paths.cert, content: publicPem, mode: CERT_MODE }]),
      ];
      if (!fixes.length) return { changed: false, result };
      return {
        changed: true,
        msg: `update ${fixes.map((f) => f.path).join(', ')}`,
        result,
        effects: fileEffects(fixes),
        apply: () => writeFiles(ctx, fixes),
      };
    }
    const files = [
      { path: paths.key, mode: SECRET_MODE },
      { path: paths.cert, mode: CERT_MODE },
    ];
    return {
      changed: true,
      msg: problem === null ? `create ${spec.algorithm.toUpperCase()} ${spec.size} key ${paths.key}` : `replace ${paths.key}: ${problem}`,
      result,
      effects: fileEffects(files),
      apply: async () => {
        const keyPem = pkiCall(() => generatePrivateKey(spec));
        const key = readPrivateKey(keyPem);
        if (key === null) throw new Error('a generated key cannot be read back');
        await writeFiles(ctx, [
          { ...files[0], content: keyPem },
          { ...files[1], content: publicKeyPem(key) },
        ]);
      },
    };
  },
});
