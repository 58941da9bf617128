// bootstrap_token: a bootstrap token for kubelet TLS bootstrapping, made once and kept in a file (0600) on the
// controller, as the PKI's other secrets are, so that a rerun finds the same token. A new one is made only when the
// kept one has expired (or will within renew_before). The Secret itself is applied with kubectl_apply.

import { newBootstrapToken, parseTtl, readTokenFile, renderTokenFile, tokenExpired } from '../pki/bootstrap-token.ts';
import { defineModule } from './contract.ts';
import { SECRET_MODE, fileEffects, modeFixes, pkiCall, readExisting, writeFiles } from './pki_common.ts';

interface BootstrapTokenArgs {
  dest: string;
  ttl: string;
  renew_before: string;
}

export default defineModule<BootstrapTokenArgs>({
  name: 'bootstrap_token',
  controllerOnly: true,
  spec: {
    args: {
      dest: { type: 'path', required: true, aliases: ['path'], description: 'The file on the controller that keeps the token.' },
      ttl: { type: 'str', default: '24h', description: "How long a new token is valid (a Go duration; 0: never expires), kubeadm's --ttl." },
      renew_before: { type: 'str', default: '0', description: 'Make a new token when the kept one expires within this duration.' },
    },
  },
  async plan(args, ctx) {
    const ttl = pkiCall(() => parseTtl(args.ttl));
    const margin = pkiCall(() => parseTtl(args.renew_before));
    const existing = await readExisting(ctx, args.dest);
    const kept = existing.text === null ? null : pkiCall(() => readTokenFile(existing.text as string));
    const now = new Date();
    const token = kept !== null && !tokenExpired(kept, now, margin) ? kept : newBootstrapToken(ttl, now);
    const result = {
      dest: args.dest,
      token_id: token.id,
      token_secret: token.secret,
      token: `${token.id}.${token.secret}`,
      expiration: token.expiration ?? '',
    };
    const secrets = [token.secret, result.token];
    if (token === kept) {
      const fixes = modeFixes([[existing, SECRET_MODE]]);
      if (!fixes.length) return { changed: false, result, secrets };
      return { changed: true, msg: `set mode of ${args.dest}`, result, secrets, effects: fileEffects(fixes), apply: () => writeFiles(ctx, fixes) };
    }
    const file = { path: args.dest, content: renderTokenFile(token), mode: SECRET_MODE };
    const why = kept === null ? `create ${args.dest}` : `replace the token expired at ${kept.expiration} in ${args.dest}`;
    return {
      changed: true,
      msg: `${why}: token ${token.id}${token.expiration ? `, expires ${token.expiration}` : ', never expires'}`,
      result,
      secrets,
      effects: fileEffects([file]),
      apply: () => writeFiles(ctx, [file]),
    };
  },
});
