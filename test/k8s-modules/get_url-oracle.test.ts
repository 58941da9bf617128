// get_url against Ansible's (Debian's ansible-playbook 2.14, local connection) on the same local HTTP server: every
// checksum algorithm, a sums file, no checksum (fresh, stale, same, a 304), force, headers with basic auth, mode and
// owner. Same statuses and the same files on a first and a second run; kplay's --check predicts its first run.

import t from 'tap';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { chmodSync, utimesSync, writeFileSync } from 'node:fs';
import { compareWithAnsible } from '../files-modules/oracle.ts';
import { serve, serveSince, startServer, type Route } from './http-server.ts';

const digest = (algorithm: string, s: string): string => createHash(algorithm).update(s).digest('hex');
const BODY = 'release 1.2.3\n'.repeat(50);
const OLD = new Date('2020-01-01T00:00:00Z');

/** Answers only with the header and the credentials a task sends. */
const guarded =
  (body: string): Route =>
  (req) =>
    req.headers['x-token'] === 'tok' && req.headers.authorization === `Basic ${Buffer.from('me:s3cret').toString('base64')}` ? { status: 200, body } : { status: 401, body: 'no\n' };

const server = await startServer({
  '/app.tar.gz': serve(BODY),
  '/SHA256SUMS': serve(`${digest('sha256', 'x')}  other.tar.gz\n${digest('sha256', BODY)} *app.tar.gz\n`),
  '/since': serveSince(BODY, OLD),
  '/private': guarded(BODY),
});
t.teardown(() => server.close());

t.test('get_url does what Ansible does', async (t) => {
  const u = server.url;
  const { statuses, kplay, ansible } = await compareWithAnsible(t, {
    setup: (root) => {
      writeFileSync(`${root}/stale`, 'old content\n');
      writeFileSync(`${root}/same`, BODY);
      writeFileSync(`${root}/forced`, BODY);
      writeFileSync(`${root}/kept`, BODY);
      chmodSync(`${root}/kept`, 0o600);
      writeFileSync(`${root}/newer`, 'edited here\n'); // newer than the URL's Last-Modified: a 304 keeps it
      writeFileSync(`${root}/older`, 'old content\n');
      utimesSync(`${root}/older`, new Date('2019-01-01'), new Date('2019-01-01'));
    },
    tasks: ['sha256', 'sha1', 'sha224', 'sha384', 'sha512', 'md5']
      .map((a) => `    - get_url: { url: "${u}/app.tar.gz", dest: "{{ root }}/${a}", checksum: "${a}:${digest(a, BODY)}" }\n`)
      .concat([
        `    - get_url: { url: "${u}/app.tar.gz", dest: "{{ root }}/sums", checksum: "sha256:${u}/SHA256SUMS" }\n`,
        `    - get_url: { url: "${u}/app.tar.gz", dest: "{{ root }}/unverified" }\n`,
        `    - get_url: { url: "${u}/app.tar.gz", dest: "{{ root }}/stale" }\n`,
        `    - get_url: { url: "${u}/app.tar.gz", dest: "{{ root }}/same" }\n`,
        `    - get_url: { url: "${u}/app.tar.gz", dest: "{{ root }}/forced", force: true }\n`,
        `    - get_url: { url: "${u}/app.tar.gz", dest: "{{ root }}/kept", checksum: "sha256:${digest('sha256', BODY)}", mode: "0640" }\n`,
        `    - get_url: { url: "${u}/since", dest: "{{ root }}/newer" }\n`,
        `    - get_url: { url: "${u}/since", dest: "{{ root }}/older" }\n`,
        `    - get_url: { url: "${u}/private", dest: "{{ root }}/private", headers: { X-Token: tok }, url_username: me, url_password: s3cret, force_basic_auth: true, mode: "0600", owner: nobody }\n`,
      ])
      .join(''),
    attrOnly: -1,
  });
  t.same(statuses, ['changed', 'changed', 'changed', 'changed', 'changed', 'changed', 'changed', 'changed', 'changed', 'ok', 'ok', 'changed', 'ok', 'changed', 'changed']);
  // The values Ansible returns, with Ansible's values (sha1 of the new and of the old file, the status, the size).
  for (const i of [0, 8, 14]) {
    for (const key of ['checksum_src', 'checksum_dest', 'status_code', 'size', 'md5sum', 'msg', 'mode', 'owner', 'group', 'uid', 'gid', 'state', 'url']) {
      t.same(kplay[i][key], ansible[i][key], `task ${i + 1}: ${key}`);
    }
    t.equal(basename(String(kplay[i].dest)), basename(String(ansible[i].dest)), `task ${i + 1}: dest`);
  }
  for (const i of [9, 13]) for (const key of ['checksum_src', 'checksum_dest', 'status_code', 'msg']) t.same(kplay[i][key], ansible[i][key], `task ${i + 1}: ${key}`);
  for (const key of ['msg', 'checksum_src', 'checksum_dest', 'size', 'mode', 'owner', 'group', 'uid', 'gid', 'state']) {
    t.same(kplay[11][key], ansible[11][key], `checksum already there: ${key}`);
  }
  t.notOk(JSON.stringify(kplay).includes('s3cret'), 'the password is never in a result');
});
