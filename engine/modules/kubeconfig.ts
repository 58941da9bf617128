// kubeconfig: a kubeconfig (0600) that embeds the CA and a client certificate and key from the PKI folder, for one
// API server URL. Rewritten only when what it embeds or points at changed (a reissued client cert, a new server).

import { join } from 'node:path';
import { kubeconfigChanges, renderKubeconfig } from '../pki/kubeconfig.ts';
import { ModuleError, defineModule } from './contract.ts';
import { SECRET_MODE, fileEffects, loadCa, madeEarlier, modeFixes, pairPaths, pkiCall, readExisting, writeFiles } from './pki_common.ts';

interface KubeconfigArgs {
  dir: string;
  name: string;
  cert?: string;
  ca: string;
  dest?: string;
  server: string;
  cluster: string;
  user?: string;
  context: string;
}

export default defineModule<KubeconfigArgs>({
  name: 'kubeconfig',
  controllerOnly: true,
  spec: {
    args: {
      dir: { type: 'path', required: true, description: 'The PKI folder on the controller.' },
      name: { type: 'str', required: true, description: 'Writes <dir>/<name>.kubeconfig.' },
      cert: { type: 'str', description: 'The client certificate: a name in dir (default: name).' },
      ca: { type: 'str', default: 'ca', description: 'The CA to embed: a name in dir, or a path without .pem.' },
      dest: { type: 'path', description: 'Another path for the kubeconfig.' },
      server: { type: 'str', required: true, description: 'The API server URL, https://host:6443.' },
      cluster: { type: 'str', default: 'kubernetes', description: 'The cluster name in the kubeconfig.' },
      user: { type: 'str', description: 'The user name in the kubeconfig (default: the certificate name).' },
      context: { type: 'str', default: 'default' },
    },
  },
  async plan(args, ctx) {
    const dest = args.dest ?? join(args.dir, `${args.name}.kubeconfig`);
    const certName = args.cert ?? args.name;
    const result = { dest, server: args.server, user: args.user ?? certName };
    const ca = await loadCa(ctx, args.dir, args.ca);
    const client = pairPaths(args.dir, certName);
    const [cert, key, existing] = await Promise.all([readExisting(ctx, client.cert), readExisting(ctx, client.key), readExisting(ctx, dest)]);
    if (ca === null || cert.text === null || key.text === null) {
      // An earlier task of this --check run makes them: a new kubeconfig is what the real run writes.
      if (ca === null || (madeEarlier(ctx, cert) && madeEarlier(ctx, key))) return { changed: true, msg: 'its certificates are made by an earlier task', result, effects: fileEffects([{ path: dest, mode: SECRET_MODE }]) };
      throw new ModuleError(`no client certificate ${cert.text === null ? client.cert : client.key}: make it first (pki_cert)`);
    }
    const wanted = pkiCall(() =>
      renderKubeconfig({
        cluster: args.cluster,
        server: args.server,
        user: args.user ?? certName,
        context: args.context,
        caPem: ca.certPem,
        certPem: cert.text as string,
        keyPem: key.text as string,
      }),
    );
    if (existing.text === wanted) {
      const fixes = modeFixes([[existing, SECRET_MODE]]);
      if (!fixes.length) return { changed: false, result };
      return { changed: true, msg: `set mode of ${dest}`, result, effects: fileEffects(fixes), apply: () => writeFiles(ctx, fixes) };
    }
    const file = { path: dest, content: wanted, mode: SECRET_MODE };
    return {
      changed: true,
      msg: existing.text === null ? `create ${dest} for ${args.server}` : `update ${dest}: ${kubeconfigChanges(existing.text, wanted).join('; ')}`,
      result,
      effects: fileEffects([file]),
      apply: () => writeFiles(ctx, [file]),
    };
  },
});
