// Shared by the stand-in tests: a PKI made with the project's engine/pki, a real etcd over TLS on free loopback
// ports, the stand-ins built for a version, and ways to run them to their exit or until they serve.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { issueCertificate, type CertificateRequest, type Issuer } from '../../engine/pki/certificate.ts';
import { newEncryptionKey, renderEncryptionConfig } from '../../engine/pki/encryption.ts';
import { generatePrivateKey, publicKeyPem, readPrivateKey } from '../../engine/pki/keys.ts';
import { renderKubeconfig } from '../../engine/pki/kubeconfig.ts';
import { buildStandins } from '../lab/mirror.ts';
import { readFlagTable } from '../lab/standins/facts.ts';
import type { StandinProgram } from '../lab/standins/build.ts';

/** kubectl 1.32 when google-cloud-sdk's per-version binaries are there, else whatever `kubectl` is. */
export const KUBECTL = ['/usr/lib/google-cloud-sdk/bin/kubectl.1.32'].find((p) => spawnSync(p, ['version', '--client']).status === 0) ?? 'kubectl';

export function tempDir(t: Test, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kplay-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Pki {
  dir: string;
  ca: string;
  caKey: string;
  /** Absolute paths of name.pem and name-key.pem. */
  cert(name: string): string;
  key(name: string): string;
  saKey: string;
  saPub: string;
  encryptionConfig: string;
  /** A kubeconfig for `name`'s client certificate against `server`, embedded as kplay writes it. */
  kubeconfig(name: string, server: string): string;
}

export function makePki(dir: string): Pki {
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const caKeyPem = generatePrivateKey({ algorithm: 'rsa', size: 2048 });
  const caRequest: CertificateRequest = { subject: { commonName: 'kplay-test-ca' }, keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'], isCa: true, days: 30 };
  const issuer: Issuer = { certPem: issueCertificate(caRequest, caKeyPem), keyPem: caKeyPem };
  const ca = file('ca.pem', issuer.certPem);
  const caKey = file('ca-key.pem', caKeyPem);
  const leaf = (name: string, commonName: string, organization: string[], sans: string[], usage: ('serverAuth' | 'clientAuth')[]): void => {
    const keyPem = generatePrivateKey({ algorithm: 'rsa', size: 2048 });
    file(`${name}-key.pem`, keyPem);
    file(`${name}.pem`, issueCertificate({ subject: { commonName, organization }, sans, keyUsage: ['digitalSignature', 'keyEncipherment'], extKeyUsage: usage, days: 30 }, keyPem, issuer));
  };
  leaf('etcd', 'etcd', [], ['127.0.0.1', 'localhost'], ['serverAuth', 'clientAuth']);
  leaf('etcd-client', 'kube-apiserver-etcd-client', [], [], ['clientAuth']);
  leaf('apiserver', 'kube-apiserver', [], ['127.0.0.1', 'localhost', 'kubernetes', 'kubernetes.default'], ['serverAuth']);
  leaf('apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters'], [], ['clientAuth']);
  leaf('admin', 'admin', ['system:masters'], [], ['clientAuth']);
  leaf('kube-controller-manager', 'system:kube-controller-manager', [], [], ['clientAuth']);
  leaf('kube-scheduler', 'system:kube-scheduler', [], [], ['clientAuth']);
  const saKeyPem = generatePrivateKey({ algorithm: 'rsa', size: 2048 });
  const saKey = file('sa-key.pem', saKeyPem);
  const saPub = file('sa.pem', publicKeyPem(readPrivateKey(saKeyPem)!));
  const encryptionConfig = file('encryption-config.yaml', renderEncryptionConfig([newEncryptionKey('key1')]));
  const cert = (name: string): string => join(dir, `${name}.pem`);
  const key = (name: string): string => join(dir, `${name}-key.pem`);
  return {
    dir, ca, caKey, cert, key, saKey, saPub, encryptionConfig,
    kubeconfig: (name, server) =>
      file(`${name}.kubeconfig`, renderKubeconfig({ cluster: 'kplay', server, user: name, context: 'default', caPem: issuer.certPem, certPem: readFileSync(cert(name), 'utf8'), keyPem: readFileSync(key(name), 'utf8') })),
  };
}

/** A process ended with its process group at the end of the test; `output` collects stdout and stderr. */
export interface Running {
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export function start(t: Test, command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Running {
  const proc = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      process.kill(-proc.pid!, 'SIGTERM');
      await exited;
    }
  });
  return { proc, output: () => output, exited };
}

/** Run to the end (with a timeout): exit code and everything printed. */
export function runToExit(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): { rc: number | null; output: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs });
  return { rc: r.status, output: `${r.stdout}${r.stderr}` };
}

/** curl (a real client) with the CA; optional client pair. Returns HTTP code and body. */
export function curl(url: string, ca: string, client?: { cert: string; key: string }): { code: number; body: string } {
  const args = ['-sS', '--max-time', '5', '--cacert', ca, '-w', '\n%{http_code}', url];
  if (client) args.push('--cert', client.cert, '--key', client.key);
  const r = spawnSync('curl', args, { encoding: 'utf8' });
  const lines = r.stdout.split('\n');
  return { code: Number(lines.pop()), body: lines.join('\n') };
}

/** Poll until `ready()` or the process exits (then fail with its output). */
export async function waitUntil(running: Running, ready: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (ready()) return;
    if (running.proc.exitCode !== null) throw new Error(`${what} exited ${running.proc.exitCode}:\n${running.output()}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms:\n${running.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface Etcd {
  endpoint: string;
  /** etcdctl with the client certificate; returns stdout. */
  etcdctl(...args: string[]): string;
}

/** A real single-member etcd on free loopback ports, TLS with client-certificate auth, ended with the test. */
export async function startEtcd(t: Test, pki: Pki, dir: string): Promise<Etcd> {
  const [client, peer] = [await freePort(), await freePort()];
  const endpoint = `https://127.0.0.1:${client}`;
  const running = start(t, 'etcd', [
    '--name', 'test', '--data-dir', join(dir, 'etcd-data'),
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `test=http://127.0.0.1:${peer}`,
    '--cert-file', pki.cert('etcd'), '--key-file', pki.key('etcd'), '--client-cert-auth', '--trusted-ca-file', pki.ca,
  ]);
  const etcdctl = (...args: string[]): string =>
    runToExit('etcdctl', ['--endpoints', endpoint, '--cacert', pki.ca, '--cert', pki.cert('etcd-client'), '--key', pki.key('etcd-client'), ...args], { ETCDCTL_API: '3' }).output;
  await waitUntil(running, () => etcdctl('endpoint', 'health').includes('is healthy'), 'etcd');
  return { endpoint, etcdctl };
}

/**
 * The table's minimal kube-apiserver flag set for `set` ("1.21"; "1.30+" says "same list as 1.21"), its
 * placeholders filled from this PKI, etcd and port. An unknown placeholder throws: a changed table is noticed.
 */
export function minimalApiserverFlags(pki: Pki, etcd: Etcd, port: number): string[] {
  const table = readFlagTable();
  const values: Record<string, string> = {
    'node-ip': '127.0.0.1', 'ca.pem': pki.ca, 'encryption-config.yaml': pki.encryptionConfig,
    'etcd-ca.pem': pki.ca, 'etcd-client.pem': pki.cert('etcd-client'), 'etcd-client-key.pem': pki.key('etcd-client'),
    'apiserver-kubelet-client.pem': pki.cert('apiserver-kubelet-client'), '…-key.pem': pki.key('apiserver-kubelet-client'),
    'lb-or-vip': '127.0.0.1', 'sa.pub or sa.pem': pki.saPub, 'sa-key.pem': pki.saKey, 'svc-cidr': '10.32.0.0/24',
    'apiserver.pem': pki.cert('apiserver'), 'apiserver-key.pem': pki.key('apiserver'),
  };
  return (table.minimalFlagSets['1.21']['kube-apiserver'] as string[]).map((flag) => {
    if (flag.startsWith('--etcd-servers=')) return `--etcd-servers=${etcd.endpoint}`;
    if (flag.startsWith('--secure-port=')) return `--secure-port=${port}`;
    if (flag.startsWith('--bind-address=')) return '--bind-address=127.0.0.1';
    return flag.replace(/<([^>]+)>/g, (_, name: string) => {
      if (!(name in values)) throw new Error(`the table's minimal flag ${flag} has a placeholder this test does not know`);
      return values[name];
    });
  });
}

/** Build the four stand-ins of `version` into a folder of this test. */
export async function standins(t: Test, version: string): Promise<Record<StandinProgram, string>> {
  return buildStandins(tempDir(t, `bin-${version}`), version);
}

export interface Apiserver {
  url: string;
  running: Running;
}

/** A stand-in kube-apiserver of `binary`'s version serving on a free port with the minimal flag set (+ `extra`). */
export async function startApiserver(t: Test, binary: string, pki: Pki, etcd: Etcd, extra: string[] = []): Promise<Apiserver> {
  const port = await freePort();
  const running = start(t, binary, [...minimalApiserverFlags(pki, etcd, port), ...extra]);
  const url = `https://127.0.0.1:${port}`;
  await waitUntil(running, () => curl(`${url}/readyz`, pki.ca).body === 'ok', 'kube-apiserver');
  return { url, running };
}
