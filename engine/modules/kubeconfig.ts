// kubeconfig: a kubeconfig (0600) that embeds the CA and a client certificate and key from the PKI folder (or a
// bearer token: a kubelet's bootstrap kubeconfig), for one API server URL. Rewritten only when what it embeds or
// points at changed (a reissued client cert, a new token, a new server).

import { join } from 'node:path';
import { kubeconfigChanges, renderKubeconfig } from '../pki/kubeconfig.ts';
import { ModuleError, defineModule, type ModuleContext, type Plan } from './contract.ts';
import { SECRET_MODE, fileEffects, loadCa, madeEarlier, modeFixes, pairPaths, pkiCall, readExisting, writeFiles, type Existing } from './pki_common.ts';

interface KubeconfigArgs {
  dir: string;
  name: string;
  cert?: string;
  token?: string;
  ca: string;
  dest?: string;
  server: string;
  cluster: string;
  user?: string;
  context: string;
}

/** Write the kubeconfig unless it already holds `wanted` (then only its mode is fixed). */
function write(ctx: ModuleContext, existing: Existing, wanted: string, result: { dest: string; server: string; user: string }): Plan {
  if (existing.text === wanted) {
    const fixes = modeFixes([[existing, SECRET_MODE]]);
    if (!fixes.length) return { changed: false, result };
    return { changed: true, msg: `set mode of ${result.dest}`, result, effects: fileEffects(fixes), apply: () => writeFiles(ctx, fixes) };
  }
  const file = { path: result.dest, content: wanted, mode: SECRET_MODE };
  return {
    changed: true,
    msg: existing.text === null ? `create ${result.dest} for ${result.server}` : `update ${result.dest}: ${kubeconfigChanges(existing.text, wanted).join('; ')}`,
    result,
    effects: fileEffects([file]),
    apply: () => writeFiles(ctx, [file]),
  };
}

export default defineModule<KubeconfigArgs>({
  name: 'kubeconfig',
  controllerOnly: true,
  spec: {
    args: {
      dir: { type: 'path', required: true, description: 'The PKI folder on the controller.' },
      name: { type: 'str', required: true, description: 'Writes <dir>/<name>.kubeconfig.' },
      cert: { type: 'str', description: 'The client certificate: a name in dir (default: name).' },
      token: { type: 'str', noLog: true, description: 'A bearer token instead of a client certificate (a bootstrap token).' },
      ca: { type: 'str', default: 'ca', description: 'The CA to embed: a name in dir, or a path without .pem.' },
      dest: { type: 'path', description: 'Another path for the kubeconfig.' },
      server: { type: 'str', required: true, description: 'The API server URL, https://host:6443.' },
      cluster: { type: 'str', default: 'kubernetes', description: 'The cluster name in the kubeconfig.' },
      user: { type: 'str', description: 'The user name in the kubeconfig (default: the certificate name).' },
      context: { type: 'str', default: 'default' },
    },
    mutuallyExclusive: [['cert', 'token']],
  },
  async plan(args, ctx) {
    const dest = args.dest ?? join(args.dir, `${args.name}.kubeconfig`);
    const certName = args.cert ?? args.name;
    const result = { dest, server: args.server, user: args.user ?? certName };
    const ca = await loadCa(ctx, args.dir, args.ca);
    if (args.token !== undefined) {
      const existing = await readExisting(ctx, dest);
      if (ca === null) return { changed: true, msg: 'its CA is made by an earlier task', result, effects: fileEffects([{ path: dest, mode: SECRET_MODE }]) };
      const wanted = pkiCall(() =>
        renderKubeconfig({ cluster: args.cluster, server: args.server, user: result.user, context: args.context, caPem: ca.certPem, token: args.token }),
      );
      return write(ctx, existing, wanted, result);
    }
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
    return write(ctx, existing, wanted, result);
  },
});
