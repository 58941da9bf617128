import t from 'tap';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { LocalConnection } from '../../engine/connection/local.ts';
import type { Connection } from '../../engine/connection/connection.ts';
import getUrl from '../../engine/modules/get_url.ts';
import { ModuleError } from '../../engine/modules/contract.ts';
import { CountingConnection, makeContext, runModule, snapshot } from '../modules/context.ts';
import { serve, startServer } from './http-server.ts';
import { kplay } from '../helpers/kplay.ts';

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const sha1 = (s: string | Buffer): string => createHash('sha1').update(s).digest('hex');
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
  t.equal(first.result.checksum_src, sha1(BINARY), 'sha1 of what was downloaded, as Ansible returns it');
  t.equal(first.result.checksum_dest, null, 'there was no file before');
  t.equal(first.result.size, BINARY.length);
  t.equal(first.result.status_code, 200);
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
  t.equal(out.result.checksum_src, sha1(BINARY));
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

t.test('a checksum kplay cannot check is refused before anything is fetched; a wrong md5 fails as sha256 does', async (t) => {
  const dir = t.testdir({});
  const hits = server.hits.get('/tool') ?? 0;
  for (const [checksum, message] of [
    ['whirlpool:abc', /unknown algorithm "whirlpool" \(kplay checks md5, sha1, sha224, sha256, sha384, sha512\)/],
    ['deadbeef', /"<algorithm>:<hex>"/],
    ['sha256:xyz', /not a sha256 hex digest/],
    ['md5:' + 'a'.repeat(40), /not a md5 hex digest/],
  ] as const) {
    // An argument error (file:line:col at load time for a literal value; this is its run-time check).
    await t.rejects(runModule(getUrl, { url: `${server.url}/tool`, dest: `${dir}/t`, checksum }, makeContext()), { name: 'InputError', message }, checksum);
  }
  t.equal(server.hits.get('/tool') ?? 0, hits, 'nothing fetched');
  const md5 = createHash('md5').update('the real thing').digest('hex');
  await t.rejects(runModule(getUrl, { url: `${server.url}/broken`, dest: `${dir}/t`, checksum: `md5:${md5}` }, makeContext()), {
    message: new RegExp(`md5 of .*/broken is ${createHash('md5').update('half of it').digest('hex')}, expected ${md5}`),
  });
  t.same(readdirSync(dir), []);
});

t.test('without a checksum: a warning says the download is not verified; a warm run compares without writing', async (t) => {
  const dir = t.testdir({});
  const args = { url: `${server.url}/tool`, dest: `${dir}/tool` };
  const first = await runModule(getUrl, args, makeContext());
  t.equal(first.changed, true);
  t.match(first.plan.warnings, [/no checksum given, the download to .*\/tool is not verified/]);
  const before = snapshot(dir);
  const second = await runModule(getUrl, args, makeContext());
  t.equal(second.changed, false);
  t.equal(second.plan.warnings, undefined, 'nothing downloaded to dest: no warning');
  t.equal(second.result.checksum_src, sha1('#!/bin/sh\necho tool v2\n'));
  t.equal(snapshot(dir), before);
});

t.test('timeout: a download that stalls fails after it, leaving nothing', async (t) => {
  const dir = t.testdir({});
  server.routes.set('/stall', () => ({ status: 200, body: Buffer.alloc(100_000, 1), drip: 60_000 }));
  const start = Date.now();
  await t.rejects(runModule(getUrl, { url: `${server.url}/stall`, dest: `${dir}/s`, timeout: 1 }, makeContext()), { message: /cannot download .*\/stall/ });
  t.ok(Date.now() - start < 8000, `gave up after ${Date.now() - start} ms`);
  t.same(readdirSync(dir), []);
});

t.test('headers and credentials reach the server through curl\'s stdin, never a command line', async (t) => {
  const dir = t.testdir({});
  let seen: { auth?: string; token?: string; agent?: string } = {};
  server.routes.set('/auth', (req) => {
    seen = { auth: req.headers.authorization, token: String(req.headers['x-token']), agent: req.headers['user-agent'] };
    return { status: 200, body: 'secret content\n' };
  });
  const commands: string[] = [];
  const local = new LocalConnection();
  const conn = Object.assign(Object.create(local) as Connection, {
    exec: (command: string, options?: Parameters<Connection['exec']>[1]) => (commands.push(command), local.exec(command, options)),
  });
  const args = { url: `${server.url}/auth`, dest: `${dir}/a`, checksum: `sha256:${sha('secret content\n')}`, headers: { 'X-Token': 'tok "q"' }, url_username: 'me', url_password: 'pa"ss' };
  t.equal((await runModule(getUrl, args, makeContext({ conn }))).changed, true);
  t.same(seen, { auth: `Basic ${Buffer.from('me:pa"ss').toString('base64')}`, token: 'tok "q"', agent: 'ansible-httpget' });
  t.notOk(commands.some((c) => c.includes('pa"ss') || c.includes('tok')), 'neither is in a command');
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
  // No checksum: the warm comparison hashes what wget fetches; headers need curl.
  const plain = { url: `${server.url}/tool`, dest: `${dir}/out/t` };
  t.equal((await runModule(getUrl, plain, makeContext({ conn }))).changed, true);
  t.equal((await runModule(getUrl, plain, makeContext({ conn }))).changed, false);
  await t.rejects(runModule(getUrl, { ...plain, dest: `${dir}/out/h`, headers: { A: 'b' } }, makeContext({ conn })), { message: /headers and url_username\/url_password need curl on the host/ });
});

t.test('through the CLI: the unverified download warns in text and in JSON; the password is printed nowhere', async (t) => {
  const dir = t.testdir({
    'play.yml': [
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      `    - get_url: { url: "${server.url}/tool", dest: "{{ root }}/tool", url_username: me, url_password: "hunter22" }`,
      '      register: got',
      '    - debug: var=got',
    ].join('\n'),
    'inventory.yml': 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n',
  });
  const text = await kplay(['run', 'play.yml', '-i', 'inventory.yml', '-e', `root=${dir}`, '-v'], { cwd: dir });
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout + text.stderr, /WARNING.*no checksum given, the download to .*\/tool is not verified/);
  t.notOk((text.stdout + text.stderr).includes('hunter22'), 'text output does not show the password');
  const json = await kplay(['run', 'play.yml', '-i', 'inventory.yml', '-e', `root=${dir}/again`, '--output', 'json'], { cwd: dir });
  t.equal(json.code, 2, 'the folder does not exist: the download fails');
  mkdirSync(`${dir}/again`);
  const ok = await kplay(['run', 'play.yml', '-i', 'inventory.yml', '-e', `root=${dir}/again`, '--output', 'json'], { cwd: dir });
  t.equal(ok.code, 0, ok.stderr);
  t.ok(ok.events.some((e) => e.type === 'warning' && e.host === 'localhost' && /not verified/.test(String(e.message))), 'a JSON warning event');
  t.notOk((ok.stdout + ok.stderr + json.stdout + json.stderr).includes('hunter22'), 'JSON output does not show the password');
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
