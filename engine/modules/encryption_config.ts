// encryption_config: the API server's encryption-at-rest config (0600) with an aescbc key made once. The key of an
// existing config is kept whatever else changes: a new key would leave every stored secret unreadable.

import { newEncryptionKey, readEncryptionKeys, renderEncryptionConfig } from '../pki/encryption.ts';
import { defineModule } from './contract.ts';
import { SECRET_MODE, fileEffects, modeFixes, pkiCall, readExisting, writeFiles } from './pki_common.ts';

interface EncryptionConfigArgs {
  dest: string;
  key_name: string;
  resources: string[];
}

export default defineModule<EncryptionConfigArgs>({
  name: 'encryption_config',
  controllerOnly: true,
  spec: {
    args: {
      dest: { type: 'path', required: true, aliases: ['path'], description: 'The config file on the controller.' },
      key_name: { type: 'str', default: 'key1', description: 'Name of the key made when there is none.' },
      resources: { type: 'list', elements: 'str', default: ['secrets'], description: 'What the API server encrypts.' },
    },
  },
  async plan(args, ctx) {
    const existing = await readExisting(ctx, args.dest);
    const result = { dest: args.dest };
    const keys = existing.text === null ? null : pkiCall(() => readEncryptionKeys(existing.text as string));
    if (keys !== null) {
      const wanted = renderEncryptionConfig(keys, args.resources);
      const fixes = existing.text === wanted ? modeFixes([[existing, SECRET_MODE]]) : [{ path: args.dest, content: wanted, mode: SECRET_MODE }];
      if (!fixes.length) return { changed: false, result };
      return {
        changed: true,
        msg: `update ${args.dest}, keeping its key${keys.length > 1 ? 's' : ''}`,
        result,
        effects: fileEffects(fixes),
        apply: () => writeFiles(ctx, fixes),
      };
    }
    return {
      changed: true,
      msg: `create ${args.dest} with a new aescbc key`,
      result,
      effects: fileEffects([{ path: args.dest, mode: SECRET_MODE }]),
      apply: () => writeFiles(ctx, [{ path: args.dest, content: renderEncryptionConfig([newEncryptionKey(args.key_name)], args.resources), mode: SECRET_MODE }]),
    };
  },
});
