// The certificates in use by real peers: etcd serving with client-cert auth, and kubectl talking to a TLS server
// that holds the API server certificate. A client signed by another CA is refused by both.

import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import pkiCa from '../../engine/modules/pki_ca.ts';
import pkiCert from '../../engine/modules/pki_cert.ts';
import kubeconfig from '../../engine/modules/kubeconfig.ts';
import { run } from './helpers.ts';

const execFileAsync = promisify(execFile);

/** A port nobody listens on now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function tool(command: string, args: string[]): Promise<{ rc: number; output: string }> {
  try {
    const r = await execFileAsync(command, args, { timeout: 20000 });
    return { rc: 0, output: r.stdout + r.stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { rc: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Our cluster's CA in `dir`, and a foreign CA with its own client certificate in `dir/foreign`. */
async function twoCas(dir: string, clientName: string, organization: string): Promise<void> {
  await run(pkiCa, { dir, common_name: 'Kubernetes' });
  await run(pkiCa, { dir: `${dir}/foreign`, common_name: 'Kubernetes' }); // same name, other key: only the key counts
  for (const where of [dir, `${dir}/foreign`]) {
    await run(pkiCert, { dir: where, name: clientName, common_name: clientName, organization, extended_key_usage: ['clientAuth'] });
  }
}

t.test('etcd serves with the etcd certificates and accepts only clients of this CA', async (t) => {
  const dir = `${t.testdir({})}/pki`;
  await twoCas(dir, 'etcd-client', 'system:masters');
  const serving = { sans: ['127.0.0.1', 'localhost'], extended_key_usage: ['serverAuth', 'clientAuth'] };
  await run(pkiCert, { dir, name: 'etcd-server', common_name: 'etcd', ...serving });
  await run(pkiCert, { dir, name: 'etcd-peer', common_name: 'etcd-peer', ...serving });

  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `https://127.0.0.1:${clientPort}`;
  const peer = `https://127.0.0.1:${peerPort}`;
  const etcd = spawn(
    'etcd',
    [
      '--name=test',
      `--data-dir=${dir}/../etcd-data`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=test=${peer}`,
      `--cert-file=${dir}/etcd-server.pem`,
      `--key-file=${dir}/etcd-server-key.pem`,
      `--trusted-ca-file=${dir}/ca.pem`,
      '--client-cert-auth',
      `--peer-cert-file=${dir}/etcd-peer.pem`,
      `--peer-key-file=${dir}/etcd-peer-key.pem`,
      `--peer-trusted-ca-file=${dir}/ca.pem`,
      '--peer-client-cert-auth',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  etcd.stderr.on('data', (d: Buffer) => (log += d.toString()));
  t.teardown(() => {
    if (etcd.exitCode === null) process.kill(etcd.pid as number, 'SIGTERM');
  });

  const etcdctl = (certDir: string, ...args: string[]): Promise<{ rc: number; output: string }> =>
    tool('etcdctl', [`--endpoints=${client}`, `--cacert=${dir}/ca.pem`, `--cert=${certDir}/etcd-client.pem`, `--key=${certDir}/etcd-client-key.pem`, '--dial-timeout=2s', '--command-timeout=3s', ...args]);
  let health = { rc: 1, output: '' };
  for (let i = 0; i < 50 && health.rc !== 0; i++) {
    if (etcd.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
    health = await etcdctl(dir, 'endpoint', 'health');
  }
  t.equal(health.rc, 0, `etcd is healthy over TLS: ${health.output}${etcd.exitCode !== null ? log : ''}`);

  t.equal((await etcdctl(dir, 'put', 'kplay', 'certified')).rc, 0);
  t.match((await etcdctl(dir, 'get', 'kplay', '--print-value-only')).output, /^certified/);
  const foreign = await etcdctl(`${dir}/foreign`, 'get', 'kplay');
  t.not(foreign.rc, 0, 'a client certificate from another CA is refused');
  t.notMatch(foreign.output, /certified/);
});

t.test('kubectl completes a client-certificate TLS handshake with the API server certificate', async (t) => {
  const dir = `${t.testdir({})}/pki`;
  await twoCas(dir, 'admin', 'system:masters');
  await run(pkiCert, {
    dir,
    name: 'kubernetes',
    common_name: 'kubernetes',
    sans: ['127.0.0.1', 'kubernetes', 'kubernetes.default.svc.cluster.local'],
    extended_key_usage: ['serverAuth'],
  });
  const seen: string[] = [];
  const server = createHttpsServer(
    {
      key: readFileSync(`${dir}/kubernetes-key.pem`),
      cert: readFileSync(`${dir}/kubernetes.pem`),
      ca: readFileSync(`${dir}/ca.pem`),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      // The apiserver maps the client certificate's CN to the user and O to groups: so does this one.
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      seen.push(`${peer.subject.CN}/${String(peer.subject.O)}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const serverUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  await run(kubeconfig, { dir, name: 'admin', server: serverUrl });
  await run(kubeconfig, { dir: `${dir}/foreign`, name: 'admin', server: serverUrl, ca: `${dir}/ca` });

  const ok = await tool('kubectl', ['--kubeconfig', `${dir}/admin.kubeconfig`, 'get', '--raw', '/version']);
  t.equal(ok.rc, 0, ok.output);
  t.match(JSON.parse(ok.output) as object, { gitVersion: 'v1.32.0' });
  t.same([...new Set(seen)], ['admin/system:masters'], 'the server saw the admin certificate');
  const served = seen.length;

  const refused = await tool('kubectl', ['--kubeconfig', `${dir}/foreign/admin.kubeconfig`, 'get', '--raw', '/version', '--request-timeout=5s']);
  t.not(refused.rc, 0, 'a client certificate from another CA is refused');
  t.equal(seen.length, served, 'and no request of it was served');
});
