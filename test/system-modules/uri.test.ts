// uri, run on the host, against HTTPS servers on the lab's bridge whose CA and certificates kplay's own pki made:
// JSON and form bodies, expected and unexpected statuses, a redirect, client-certificate auth, basic auth, a server
// of an unknown CA with and without validate_certs, a body written to a file. The same playbook runs through
// ansible-playbook (JSON callback) on one host and kplay on another: the results must agree task by task.

import t from 'tap';
import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { issueCertificate, type Issuer } from '../../engine/pki/certificate.ts';
import { generatePrivateKey } from '../../engine/pki/keys.ts';
import { run } from '../lab/nspawn.ts';
import { kplayRun, onHost, startSysLab } from './lab.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures/uri/uri.yml');
const ANSIBLE_HOST = 'controller-0';
const KPLAY_HOST = 'controller-1';

function makeCa(name: string): Issuer {
  const keyPem = generatePrivateKey({ algorithm: 'rsa', size: 2048 });
  return { keyPem, certPem: issueCertificate({ subject: { commonName: name }, keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'], isCa: true, days: 2 }, keyPem) };
}

function leaf(ca: Issuer, commonName: string, sans: string[], usage: 'serverAuth' | 'clientAuth'): { certPem: string; keyPem: string } {
  const keyPem = generatePrivateKey({ algorithm: 'rsa', size: 2048 });
  return { keyPem, certPem: issueCertificate({ subject: { commonName }, sans, keyUsage: ['digitalSignature', 'keyEncipherment'], extKeyUsage: [usage], days: 2 }, keyPem, ca) };
}

function serve(address: string, cert: { certPem: string; keyPem: string }, ca: Issuer): Promise<{ server: Server; url: string }> {
  const server = createServer({ cert: cert.certPem, key: cert.keyPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'X-Kplay-Test': 'yes' });
      res.end(JSON.stringify(value));
    };
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (path === '/json') return json(200, { hello: 'world', n: 1 });
      if (path === '/echo') return json(201, { method: req.method, type: req.headers['content-type'], body });
      if (path === '/redirect') {
        res.writeHead(302, { Location: '/json' });
        return res.end();
      }
      if (path === '/client') {
        const socket = req.socket as TLSSocket;
        if (!socket.authorized) return json(401, { error: 'no client certificate' });
        return json(200, { cn: socket.getPeerCertificate().subject.CN });
      }
      if (path === '/auth') {
        if (req.headers.authorization !== `Basic ${Buffer.from('kplay:s3cret').toString('base64')}`) {
          res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="kplay"' });
          return res.end();
        }
        return json(200, { user: 'kplay' });
      }
      json(404, { error: 'not found' });
    });
  });
  return new Promise((resolve) => server.listen(0, address, () => resolve({ server, url: `https://${address}:${(server.address() as AddressInfo).port}` })));
}

/** The parts of a uri result both tools must agree on. */
function essence(r: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!r) return { missing: true };
  const out: Record<string, unknown> = { failed: r.failed === true, changed: r.changed === true };
  if (r.skipped) out.skipped = true;
  for (const key of ['status', 'json', 'content', 'redirected', 'content_type', 'x_kplay_test']) if (r[key] !== undefined) out[key] = r[key];
  if (typeof r.url === 'string') out.url = r.url;
  return out;
}

interface AnsibleJson {
  plays: { tasks: { task: { name: string }; hosts: Record<string, Record<string, unknown>> }[] }[];
  stats: Record<string, { ok: number; changed: number; failures: number; ignored: number }>;
}

t.test('uri against HTTPS servers on the bridge, as Ansible does it', async (t) => {
  const lab = await startSysLab('sysuri', 2);
  t.teardown(() => lab.stop());
  const bridge = lab.hosts[0].address.replace(/\.\d+$/, '.1');
  const ca = makeCa('kplay-uri-test-ca');
  const other = makeCa('some-other-ca');
  const main = await serve(bridge, leaf(ca, 'server', [bridge], 'serverAuth'), ca);
  const stranger = await serve(bridge, leaf(other, 'server', [bridge], 'serverAuth'), other);
  t.teardown(() => new Promise<void>((resolve) => main.server.close(() => stranger.server.close(() => resolve()))));
  const client = leaf(ca, 'kplay-client', [], 'clientAuth');

  const dir = t.testdir({});
  copyFileSync(FIXTURE, join(dir, 'uri.yml'));
  // node-forge ends PEM lines with CRLF; Ansible's uri finds no certificate in such a CA file ("Empty certificate
  // data"), so the files get LF endings, as openssl writes them.
  const lf = (pem: string): string => pem.replace(/\r\n/g, '\n');
  writeFileSync(join(dir, 'ca.pem'), lf(ca.certPem));
  writeFileSync(join(dir, 'client.pem'), lf(client.certPem));
  writeFileSync(join(dir, 'client-key.pem'), lf(client.keyPem));
  const extra = ['-e', `base=${main.url}`, '-e', `other=${stranger.url}`];

  const check = await kplayRun(lab, join(dir, 'uri.yml'), ['-l', KPLAY_HOST, '--check', ...extra], dir);
  t.equal(check.code, 0, 'kplay --check exits 0', { output: check.code === 0 ? '' : check.stderr + check.stdout.slice(-2000) });
  const checkUri = check.events.filter((e) => e.type === 'result' && e.task.module === 'uri');
  t.ok(checkUri.length === 12 && checkUri.every((e) => e.type === 'result' && e.status === 'skipped'), 'in --check every uri task is skipped, as in Ansible');
  t.equal((await onHost(lab, KPLAY_HOST, 'ls /root/got.json 2>&1')).includes('No such file'), true, '--check wrote nothing');

  process.env.ANSIBLE_PIPELINING = '1';
  const ansibleRun = run('env', ['ANSIBLE_STDOUT_CALLBACK=json', 'ansible-playbook', '-i', lab.inventoryPath, join(dir, 'uri.yml'), '-l', ANSIBLE_HOST, ...extra], { timeoutMs: 300_000 });
  const [ansible, kplay] = await Promise.all([ansibleRun, kplayRun(lab, join(dir, 'uri.yml'), ['-l', KPLAY_HOST, ...extra], dir)]);
  t.equal(kplay.code, 0, 'kplay exits 0', { output: kplay.code === 0 ? '' : kplay.stderr + kplay.stdout.slice(-3000) });
  t.equal(ansible.rc, 0, 'ansible-playbook exits 0', { output: ansible.rc === 0 ? '' : ansible.stdout.slice(-3000) + ansible.stderr });
  const report = JSON.parse(ansible.stdout.slice(ansible.stdout.indexOf('{'))) as AnsibleJson;

  const ansibleResults = new Map(report.plays[0].tasks.map((task) => [task.task.name, task.hosts[ANSIBLE_HOST]]));
  const kplayResults = new Map(kplay.events.flatMap((e) => (e.type === 'result' && e.task.module === 'uri' ? [[e.task.name, e.result]] : [])));
  t.equal(kplayResults.size, 12, 'twelve uri results');
  for (const [name, result] of kplayResults) {
    const theirs = essence(ansibleResults.get(name));
    const ours = essence(result);
    // The URL differs by host only in nothing: both fetch the same servers.
    t.same(ours, theirs, `"${name}": the same result as Ansible`);
  }
  const stats = report.stats[ANSIBLE_HOST];
  t.same(
    { ok: kplay.recap?.[KPLAY_HOST]?.ok, changed: kplay.recap?.[KPLAY_HOST]?.changed, ignored: kplay.recap?.[KPLAY_HOST]?.ignored },
    { ok: stats.ok, changed: stats.changed, ignored: stats.ignored },
    'the same recap as Ansible',
  );
  const get = (name: string): Record<string, unknown> => kplayResults.get(name) as Record<string, unknown>;
  t.same(get('GET JSON, verified with the CA').json, { hello: 'world', n: 1 });
  t.same((get('POST a JSON body, 201 expected').json as Record<string, unknown>).body, '{"a": 1, "b": ["x", "y"]}', 'the JSON body arrived, written as Ansible writes it');
  t.same(get('a client certificate').json, { cn: 'kplay-client' }, 'the client certificate was presented');
  t.equal(get('a server of an unknown CA, verified').status, -1, 'an unknown CA fails verification');
  t.equal((await onHost(lab, KPLAY_HOST, 'cat /root/got.json')), '{"hello":"world","n":1}', 'dest holds the body');
});
