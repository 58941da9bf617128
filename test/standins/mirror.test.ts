// The lab mirror serves the stand-ins at the official release paths, each with a .sha256 that matches it, and the
// files it serves are the executables of the versions asked for.

import { createHash } from 'node:crypto';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildStandins, releasePath, startMirror } from '../lab/mirror.ts';
import { STANDIN_PROGRAMS } from '../lab/standins/build.ts';
import { runToExit, tempDir } from './fixture.ts';

t.test('serves every stand-in with a matching .sha256 at the release paths', async (t) => {
  const mirror = await startMirror({ dir: tempDir(t, 'mirror'), versions: ['1.21.14', 'v1.30.2'], host: '127.0.0.1' });
  t.teardown(() => mirror.stop());
  t.match(mirror.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const downloads = tempDir(t, 'downloads');
  for (const version of ['1.21.14', '1.30.2']) {
    for (const program of STANDIN_PROGRAMS) {
      const path = program === 'flanneld' ? releasePath(program, '0.25.1') : releasePath(program, version);
      const body = Buffer.from(await (await fetch(`${mirror.url}/${path}`)).arrayBuffer());
      const sha = (await (await fetch(`${mirror.url}/${path}.sha256`)).text()).trim();
      t.equal(createHash('sha256').update(body).digest('hex'), sha, `${path} matches its .sha256`);
      if (program === 'kube-apiserver') {
        t.equal(path, `v${version}/bin/linux/amd64/kube-apiserver`);
        const file = join(downloads, `${program}-${version}`);
        writeFileSync(file, body);
        chmodSync(file, 0o755);
        t.match(runToExit(file, ['--version']).output, `Kubernetes v${version}`);
      }
    }
  }
  t.equal(releasePath('flanneld', 'v0.25.1'), 'flannel/v0.25.1/flanneld-amd64');
  t.equal((await fetch(`${mirror.url}/v1.99.0/bin/linux/amd64/kube-apiserver`)).status, 404);
  t.equal((await fetch(`${mirror.url}/..%2f..%2fetc/passwd`)).status, 404, 'nothing outside its folder');
});

t.test('buildStandins writes the four executables for a local-folder install', async (t) => {
  const paths = await buildStandins(tempDir(t, 'local'), '1.36.0');
  for (const program of STANDIN_PROGRAMS) {
    t.equal(statSync(paths[program]).mode & 0o777, 0o755, `${program} is executable`);
    t.match(runToExit(paths[program], ['--help']).output, 'STAND-IN FOR TESTS', `${program} --help says it is a stand-in`);
  }
  t.match(runToExit(paths['kube-scheduler'], ['--version']).output, 'Kubernetes v1.36.0');
});
