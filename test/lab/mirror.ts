// The lab's download mirror: the stand-ins laid out like the official release URLs, each with a .sha256 beside it,
// served over plain HTTP (as a local mirror would be), so the role's download-and-verify path runs for real.
//   <url>/v1.30.2/bin/linux/amd64/kube-apiserver(.sha256)   as dl.k8s.io
//   <url>/flannel/v0.25.1/flanneld-amd64(.sha256)           as flannel's GitHub releases

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, normalize, sep } from 'node:path';
import { DEFAULT_FLANNEL_VERSION, STANDIN_PROGRAMS, plainVersion, standinScript, type StandinProgram } from './standins/build.ts';

export { buildStandins } from './standins/build.ts';

export interface MirrorOptions {
  /** Folder to build the release tree in (served as the mirror's root). */
  dir: string;
  /** Kubernetes versions, `1.30.2` or `v1.30.2`. */
  versions: readonly string[];
  flannelVersions?: readonly string[];
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
}

export interface Mirror {
  /** `http://host:port`, without a trailing slash. */
  url: string;
  stop(): Promise<void>;
}

/** Where a program of a version sits under the mirror's root, as in the official release URLs. */
export function releasePath(program: StandinProgram, version: string): string {
  const v = `v${plainVersion(version)}`;
  return program === 'flanneld' ? `flannel/${v}/flanneld-amd64` : `${v}/bin/linux/amd64/${program}`;
}

async function writeRelease(dir: string, program: StandinProgram, version: string): Promise<void> {
  const path = join(dir, releasePath(program, version));
  const script = await standinScript(program, version);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, script, { mode: 0o755 });
  // dl.k8s.io's .sha256 holds the bare hex digest.
  await writeFile(`${path}.sha256`, createHash('sha256').update(script).digest('hex'));
}

export async function startMirror(options: MirrorOptions): Promise<Mirror> {
  const { dir, versions, flannelVersions = [DEFAULT_FLANNEL_VERSION], host = '127.0.0.1', port = 0 } = options;
  for (const version of versions) {
    for (const program of STANDIN_PROGRAMS) if (program !== 'flanneld') await writeRelease(dir, program, version);
  }
  for (const version of flannelVersions) await writeRelease(dir, 'flanneld', version);

  const root = normalize(dir) + sep;
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://mirror').pathname)));
    const notFound = (): void => {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    };
    if (!path.startsWith(root) || (req.method !== 'GET' && req.method !== 'HEAD')) return notFound();
    stat(path).then(
      (s) => {
        if (!s.isFile()) return notFound();
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': s.size });
        if (req.method === 'HEAD') return res.end();
        createReadStream(path).pipe(res);
      },
      notFound,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
