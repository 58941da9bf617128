import t from 'tap';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { LocalConnection } from '../../engine/connection/local.ts';
import type { Connection } from '../../engine/connection/connection.ts';
import getUrl from '../../engine/modules/get_url.ts';
import { ModuleError } from '../../engine/modules/contract.ts';
import { CountingConnection, makeContext, runModule, snapshot } from '../modules/context.ts';
import { serve, startServer } from './http-server.ts';

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const mode = (p: string): number => statSync(p).mode & 0o7777;
const BINARY = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0xff, 0xfe]);

const server = await startServer({
  '/etcd.tar.gz': serve(BINARY),
  '/tool': serve('#!/bin/sh\necho tool v2\n'),
  '/SHA256SUMS': serve(`${sha('other')}  other.tar.gz\n${sha(BINARY)} *etcd.tar.gz\n`),
  '/tool.sha256': serve(`${sha('#!/bin/sh\necho tool v2\n')}\n`),
  '/broken': serve('half of it'),
  // Basic auth: 401 with a challenge until the right credentials come.
  '/private': (req) => {
    const wanted = `Basic ${Buffer.from('fetcher:s3cr"et\\pw').toString('base64')}`;
    return req.headers.authorization === wanted ? { status: 200, body: 'private\n' } : { status: 401, body: 'who are you\n' };
  },
});
t.teardown(() => server.close());

t.test('downloads once with mode; the second run is one exec and no download', async (t) => {
  const dir = t.testdir({});
  const dest = `${dir}/etcd.tar.gz`;
  const args = { url: `${server.url}/etcd.tar.gz`, dest, checksum: `sha256:${sha(BINARY)}`, mode: '0600' };
  const first = await runModule(getUrl, args, makeContext());
  t.equal(first.changed, true);
  t.same(readFileSync(dest), BINARY);
  t.equal(mode(dest), 0o600);
  t.equal(first.result.checksum, sha(BINARY));
  t.equal(first.result.checksum_dest, sha(BINARY));
  t.equal(first.result.dest, dest);
  t.same(readdirSync(dir), ['etcd.tar.gz'], 'no temp file left');
  const hits = server.hits.get('/etcd.tar.gz');
  const warm = new CountingConnection();
  const second = await runModule(getUrl, args, makeContext({ conn: warm }));
  t.equal(second.changed, false);
  t.same(warm.calls, ['exec']);
  t.equal(server.hits.get('/etcd.tar.gz'), hits, 'not downloaded again');
});

t.test('a mismatching download fails and leaves dest and its folder as they were', async (t) => {
  const dir = t.testdir({ tool: 'old tool\n' });
  const before = snapshot(dir);
  const args = { url: `${server.url}/broken`, dest: `${dir}/tool`, checksum: `sha256:${sha('the real thing')}` };
  const error = await runModule(getUrl, args, makeContext()).catch((e: unknown) => e);
  t.type(error, ModuleError);
  t.match((error as Error).message, new RegExp(`sha256 of .*/broken is ${sha('half of it')}, expected ${sha('the real thing')}`));
  t.equal(snapshot(dir), before);
});

t.test('an HTTP error fails, naming the URL; nothing is left behind', async (t) => {
  const dir = t.testdir({});
  const args = { url: `${server.url}/missing`, dest: `${dir}/x`, checksum: `sha256:${sha('x')}` };
  await t.rejects(runModule(getUrl, args, makeContext()), { name: 'ModuleError', message: /cannot download .*\/missing .*404/ });
  t.same(readdirSync(dir), []);
});

t.test('different content is replaced, keeping the mode the file had', async (t) => {
  const dir = t.testdir({ tool: 'tool v1\n' });
  const dest = `${dir}/tool`;
  chmodSync(dest, 0o755);
  const out = await runModule(getUrl, { url: `${server.url}/tool`, dest, checksum: `sha256:${sha('#!/bin/sh\necho tool v2\n')}` }, makeContext());
  t.equal(out.changed, true);
  t.match(out.plan.msg, /replace/);
  t.equal(readFileSync(dest, 'utf8'), '#!/bin/sh\necho tool v2\n');
  t.equal(mode(dest), 0o755);
});

t.test('only the mode or owner differs: changed without downloading', async (t) => {
  const body = '#!/bin/sh\necho tool v2\n';
  const dir = t.testdir({ tool: body });
  const hits = server.hits.get('/tool') ?? 0;
  const args = { url: `${server.url}/tool`, dest: `${dir}/tool`, checksum: `sha256:${sha(body)}`, mode: '0750', owner: 'nobody' };
  const out = await runModule(getUrl, args, makeContext());
  t.equal(out.changed, true);
  t.match(out.plan.msg, /mode 0644→0750, owner root→nobody/);
  t.equal(mode(`${dir}/tool`), 0o750);
  t.equal(statSync(`${dir}/tool`).uid, 65534);
  t.equal(server.hits.get('/tool') ?? 0, hits);
  t.equal((await runModule(getUrl, args, makeContext())).changed, false);
});

t.test('checksum from a sums file: the line naming the file, or a lone digest', async (t) => {
  const dir = t.testdir({});
  const named = { url: `${server.url}/etcd.tar.gz`, dest: `${dir}/etcd.tar.gz`, checksum: `sha256:${server.url}/SHA256SUMS` };
  const out = await runModule(getUrl, named, makeContext());
  t.equal(out.changed, true);
  t.equal(out.result.checksum, sha(BINARY));
  t.same(readFileSync(`${dir}/etcd.tar.gz`), BINARY);
  const warm = new CountingConnection();
  t.equal((await runModule(getUrl, named, makeContext({ conn: warm }))).changed, false);
  t.same(warm.calls, ['exec'], 'sums file read in the same exec');
  const lone = { url: `${server.url}/tool`, dest: `${dir}/tool`, checksum: `sha256:${server.url}/tool.sha256` };
  t.equal((await runModule(getUrl, lone, makeContext())).changed, true);
  const absent = { url: `${server.url}/tool`, dest: `${dir}/tool2`, checksum: `sha256:${server.url}/SHA256SUMS` };
  await t.rejects(runModule(getUrl, absent, makeContext()), { message: /no sha256 for tool in .*SHA256SUMS/ });
  const gone = { url: `${server.url}/tool`, dest: `${dir}/tool3`, checksum: `sha256:${server.url}/nosums` };
  await t.rejects(runModule(getUrl, gone, makeContext()), { message: /cannot download .*nosums/ });
});

t.test('dest a directory: the file takes the last part of the URL path', async (t) => {
  const dir = t.testdir({ bin: {} });
  const out = await runModule(getUrl, { url: `${server.url}/tool?v=2`, dest: `${dir}/bin`, checksum: `sha256:${sha('#!/bin/sh\necho tool v2\n')}` }, makeContext());
  t.equal(out.result.dest, `${dir}/bin/tool`);
  t.equal(readFileSync(`${dir}/bin/tool`, 'utf8'), '#!/bin/sh\necho tool v2\n');
});

t.test("odd names: quotes and spaces in dest; a URL naming no file needs a file dest", async (t) => {
  const dir = t.testdir({ sub: {} });
  const dest = `${dir}/it's a tool`;
  server.routes.set('/', serve('root\n'));
  const out = await runModule(getUrl, { url: `${server.url}/tool`, dest, checksum: `sha256:${sha('#!/bin/sh\necho tool v2\n')}` }, makeContext());
  t.equal(out.changed, true);
  t.equal(readFileSync(dest, 'utf8'), '#!/bin/sh\necho tool v2\n');
  t.same(readdirSync(dir).sort(), ["it's a tool", 'sub']);
  t.equal((await runModule(getUrl, { url: `${server.url}/`, dest: `${dir}/index`, checksum: `sha256:${sha('root\n')}` }, makeContext())).changed, true);
  await t.rejects(runModule(getUrl, { url: `${server.url}/`, dest: `${dir}/sub`, checksum: `sha256:${sha('root\n')}` }, makeContext()), {
    message: /sub is a directory and .* names no file/,
  });
});

t.test('--check: a missing file would change (content unknown), a matching one would not; nothing written', async (t) => {
  const dir = t.testdir({ 'etcd.tar.gz': BINARY });
  const before = snapshot(dir);
  const hits = server.hits.get('/tool') ?? 0;
  const missing = await runModule(getUrl, { url: `${server.url}/tool`, dest: `${dir}/tool`, checksum: `sha256:${sha('x')}`, mode: '0755' }, makeContext({ check: true }));
  t.equal(missing.changed, true);
  t.same(missing.plan.effects, [{ path: `${dir}/tool`, state: 'file', content: undefined, mode: 0o755, owner: undefined, group: undefined }]);
  const present = await runModule(getUrl, { url: `${server.url}/etcd.tar.gz`, dest: `${dir}/etcd.tar.gz`, checksum: `sha256:${sha(BINARY)}` }, makeContext({ check: true }));
  t.equal(present.changed, false);
  t.equal(snapshot(dir), before);
  t.equal(server.hits.get('/tool') ?? 0, hits, 'nothing downloaded');
});

t.test('a checksum that is not sha256 is refused before anything runs', async (t) => {
  const dir = t.testdir({});
  for (const checksum of ['md5:abc', 'deadbeef', 'sha256:xyz']) {
    await t.rejects(runModule(getUrl, { url: `${server.url}/tool`, dest: `${dir}/t`, checksum }, makeContext()), { name: 'ModuleError', message: /checksum/ });
  }
  await t.rejects(runModule(getUrl, { url: `${server.url}/tool`, dest: `${dir}/t` }, makeContext()), /checksum/);
});

/** The local host without curl on its PATH: get_url must fall back to wget. */
function withoutCurl(dir: string): Connection {
  const bin = `${dir}/bin`;
  mkdirSync(bin);
  for (const folder of ['/usr/bin', '/usr/sbin']) {
    for (const name of readdirSync(folder)) {
      if (name !== 'curl' && !existsSync(`${bin}/${name}`)) symlinkSync(`${folder}/${name}`, `${bin}/${name}`);
    }
  }
  const local = new LocalConnection();
  return Object.assign(Object.create(local) as Connection, {
    exec: (command: string, options: Parameters<Connection['exec']>[1] = {}) => local.exec(command, { ...options, env: { ...options.env, PATH: bin } }),
  });
}

t.test('without curl, wget downloads', async (t) => {
  const dir = t.testdir({ out: {} });
  const conn = withoutCurl(dir);
  const r = await conn.exec('command -v curl || echo none');
  t.equal(r.stdout.trim(), 'none');
  const out = await runModule(getUrl, { url: `${server.url}/etcd.tar.gz`, dest: `${dir}/out/e`, checksum: `sha256:${sha(BINARY)}` }, makeContext({ conn }));
  t.equal(out.changed, true);
  t.same(readFileSync(`${dir}/out/e`), BINARY);
  await t.rejects(runModule(getUrl, { url: `${server.url}/broken`, dest: `${dir}/out/b`, checksum: `sha256:${sha('x')}` }, makeContext({ conn })), /sha256 of/);
  t.same(readdirSync(`${dir}/out`), ['e']);
});

t.test('url_username and url_password: given to curl on its stdin (never on a command line), refused when wrong', async (t) => {
  const dir = t.testdir({});
  const dest = `${dir}/private`;
  const base = { url: `${server.url}/private`, dest, checksum: `sha256:${sha('private\n')}`, url_username: 'fetcher', force_basic_auth: true };
  const commands: string[] = [];
  const local = new LocalConnection();
  const seen = new Proxy(local, {
    get(target, key, receiver) {
      if (key === 'exec') return (command: string, options?: Parameters<Connection['exec']>[1]) => (commands.push(command), target.exec(command, options));
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const wrong = runModule(getUrl, { ...base, url_password: 'nope' }, makeContext({ conn: seen }));
  await t.rejects(wrong, ModuleError);
  t.notOk(existsSync(dest));
  const right = await runModule(getUrl, { ...base, url_password: 's3cr"et\\pw' }, makeContext({ conn: seen }));
  t.equal(right.changed, true);
  t.equal(readFileSync(dest, 'utf8'), 'private\n');
  t.notMatch(commands.join('\n'), /s3cr|nope/, 'the password is in no command kplay sent');
  t.equal(getUrl.spec.args.url_password.noLog, true, 'and it is a secret for every output');
});
