import t from 'tap';
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import waitFor from '../../engine/modules/wait_for.ts';
import { ModuleError } from '../../engine/modules/contract.ts';
import { CountingConnection, makeContext, runModule } from '../modules/context.ts';
import { freePort, startServer } from './http-server.ts';

const later = (ms: number, act: () => void): void => void setTimeout(act, ms);

t.test('a port that opens after a delay: waited for, in one exec', async (t) => {
  const port = await freePort();
  const listener = createServer();
  t.teardown(() => listener.close());
  later(1200, () => listener.listen(port, '127.0.0.1'));
  const conn = new CountingConnection();
  const out = await runModule(waitFor, { port, timeout: 20, sleep: 0.2 }, makeContext({ conn }));
  t.equal(out.changed, false);
  t.ok((out.result.elapsed as number) >= 1, `elapsed ${String(out.result.elapsed)}`);
  t.same(conn.calls, ['exec']);
});

t.test('a port that never opens: fails after the timeout, naming host and port', async (t) => {
  const port = await freePort();
  const start = Date.now();
  const error = await runModule(waitFor, { host: '127.0.0.1', port, timeout: 1.5, sleep: 0.2 }, makeContext()).catch((e: unknown) => e);
  t.type(error, ModuleError);
  t.equal((error as Error).message, `Timeout when waiting for 127.0.0.1:${port}`);
  const took = Date.now() - start;
  t.ok(took >= 1500 && took < 6000, `took ${took} ms`);
  await t.rejects(runModule(waitFor, { port, timeout: 0.5, msg: 'the API server did not start' }, makeContext()), { message: 'the API server did not start' });
});

t.test('state stopped: waits until the port closes', async (t) => {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as { port: number }).port;
  later(1000, () => listener.close());
  const out = await runModule(waitFor, { port, state: 'stopped', timeout: 20, sleep: 0.2 }, makeContext());
  t.ok((out.result.elapsed as number) >= 1);
  const open = await startServer();
  t.teardown(() => open.close());
  await t.rejects(runModule(waitFor, { port: open.port, state: 'stopped', timeout: 0.5, sleep: 0.1 }, makeContext()), {
    message: `Timeout when waiting for absence of 127.0.0.1:${open.port}`,
  });
});

t.test('a file that appears, then a line in it; absent waits for removal', async (t) => {
  const dir = t.testdir({});
  const log = `${dir}/etcd.log`;
  later(800, () => writeFileSync(log, 'starting\n'));
  later(1600, () => appendFileSync(log, 'ready to serve client requests\n'));
  const out = await runModule(waitFor, { path: log, search_regex: 'ready to serve', timeout: 20, sleep: 0.2 }, makeContext());
  t.ok((out.result.elapsed as number) >= 1);
  t.match(readFileSync(log, 'utf8'), /ready/);
  t.equal((await runModule(waitFor, { path: log, timeout: 1 }, makeContext())).changed, false);
  await t.rejects(runModule(waitFor, { path: log, search_regex: '^fatal', timeout: 0.5, sleep: 0.1 }, makeContext()), {
    message: `Timeout when waiting for search string "^fatal" in ${log}`,
  });
  later(700, () => rmSync(log));
  const gone = await runModule(waitFor, { path: log, state: 'absent', timeout: 20, sleep: 0.2 }, makeContext());
  t.equal(gone.changed, false);
  await t.rejects(runModule(waitFor, { path: `${dir}/never`, timeout: 0.5, sleep: 0.1 }, makeContext()), { message: `Timeout when waiting for file ${dir}/never` });
});

t.test('url: waits for an expected status; headers are sent; the last status is in the failure', async (t) => {
  let ready = false;
  const server = await startServer({
    '/readyz': () => ({ status: ready ? 200 : 503 }),
    '/vhost': (req) => ({ status: req.headers.host === 'kubernetes.default' ? 204 : 421 }),
  });
  t.teardown(() => server.close());
  later(1000, () => (ready = true));
  const out = await runModule(waitFor, { url: `${server.url}/readyz`, timeout: 20, sleep: 0.2 }, makeContext());
  t.ok((out.result.elapsed as number) >= 1);
  t.ok((server.hits.get('/readyz') ?? 0) >= 3, 'polled');
  const vhost = { url: `${server.url}/vhost`, status_code: [200, 204], headers: { Host: 'kubernetes.default' }, timeout: 5 };
  t.equal((await runModule(waitFor, vhost, makeContext())).changed, false);
  await t.rejects(runModule(waitFor, { url: `${server.url}/vhost`, timeout: 0.5, sleep: 0.1 }, makeContext()), {
    message: `Timeout when waiting for ${server.url}/vhost to answer with status 200 (last status: 421)`,
  });
  await t.rejects(runModule(waitFor, { url: `http://127.0.0.1:${await freePort()}/`, timeout: 0.5, sleep: 0.1 }, makeContext()), {
    message: /\(last status: no answer\)$/,
  });
});

t.test('url over TLS: CA and client certificate, as an API server asks', async (t) => {
  const dir = t.testdir({});
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=test-ca', '-days', '1');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1'], ['client', 'extendedKeyUsage=clientAuth']]) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(`${dir}/${name}.ext`, `${ext}\n`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  }
  const read = (f: string): Buffer => readFileSync(`${dir}/${f}`);
  const server = await startServer(
    { '/healthz': (req) => ({ status: (req.socket as import('node:tls').TLSSocket).authorized ? 200 : 401, body: 'ok' }) },
    { key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: false },
  );
  t.teardown(() => server.close());
  const url = `${server.url}/healthz`;
  const tls = { url, ca_path: `${dir}/ca.crt`, client_cert: `${dir}/client.crt`, client_key: `${dir}/client.key`, timeout: 5 };
  t.equal((await runModule(waitFor, tls, makeContext())).changed, false);
  await t.rejects(runModule(waitFor, { url, ca_path: `${dir}/ca.crt`, timeout: 0.5, sleep: 0.1 }, makeContext()), { message: /last status: 401/ });
  await t.rejects(runModule(waitFor, { url, timeout: 0.5, sleep: 0.1 }, makeContext()), { message: /last status: no answer/ }, 'unknown CA');
  const insecure = { url, validate_certs: false, status_code: 401, timeout: 5 };
  t.equal((await runModule(waitFor, insecure, makeContext())).changed, false);
});

t.test('--check: does not wait, changed false', async (t) => {
  const port = await freePort();
  const start = Date.now();
  const conn = new CountingConnection();
  const out = await runModule(waitFor, { port, timeout: 30 }, makeContext({ check: true, conn }));
  t.equal(out.changed, false);
  t.match(out.plan.msg, /not waited for 127\.0\.0\.1:\d+ in check mode/);
  t.ok(Date.now() - start < 1000);
  t.same(conn.calls, []);
});

t.test('no port, path or url: sleeps timeout seconds; bad combinations are refused', async (t) => {
  const start = Date.now();
  const out = await runModule(waitFor, { timeout: 1 }, makeContext());
  t.ok(Date.now() - start >= 1000);
  t.equal(out.plan.msg, 'slept 1s');
  await t.rejects(runModule(waitFor, { port: 1, path: '/x' }, makeContext()), /mutually exclusive|port.*path/);
  await t.rejects(runModule(waitFor, { port: 1, search_regex: 'x' }, makeContext()), { message: /search_regex needs path/ });
  await t.rejects(runModule(waitFor, { host: 'x; touch /tmp/pwned', port: 1 }, makeContext()), { message: /host must be a host name or an address/ });
});
