// Lookups that touch the controller (password files, url, search paths), sha512-crypt against openssl, and users'
// filter_plugins/test_plugins.

import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Jinja, loadPlugins, toPlain } from '../../engine/jinja/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kplay-lookups-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('password: generated once, kept in a 0600 file, length and chars honoured', async (t) => {
  const render = (text: string): unknown => {
    const jinja = new Jinja();
    return toPlain(jinja.renderValue(text, jinja.createScope({}, { basedir: dir })));
  };
  const first = String(render("{{ lookup('password', 'creds/db length=12 chars=digits') }}"));
  t.match(first, /^\d{12}$/);
  const file = join(dir, 'creds/db');
  t.equal(statSync(file).mode & 0o777, 0o600, 'password file is 0600');
  t.equal(readFileSync(file, 'utf8'), `${first}\n`);
  t.equal(render("{{ lookup('password', 'creds/db length=12 chars=digits') }}"), first, 'same password on the next run');
  t.match(String(render("{{ lookup('password', 'creds/other') }}")), /^[A-Za-z0-9.,:_-]{20}$/, 'Ansible defaults: 20 characters');
  const hashed = String(render("{{ lookup('password', 'creds/db encrypt=sha512_crypt') }}"));
  const salt = readFileSync(file, 'utf8').match(/ salt=(\S+)/)?.[1] ?? '';
  t.equal(hashed, execFileSync('openssl', ['passwd', '-6', '-salt', salt, first], { encoding: 'utf8' }).trim(), 'encrypt= hashes the kept password');
});

t.test('password_hash is sha512-crypt as openssl computes it', async (t) => {
  const jinja = new Jinja();
  const scope = jinja.createScope({ pw: 'correct horse' });
  for (const salt of ['saltsalt', 'Ab3./xyz', 'short']) {
    const ours = jinja.renderValue(`{{ pw | password_hash('sha512', '${salt}') }}`, scope);
    const openssl = execFileSync('openssl', ['passwd', '-6', '-salt', salt, 'correct horse'], { encoding: 'utf8' }).trim();
    t.equal(ours, openssl, `salt ${salt}`);
  }
  const random = String(jinja.renderValue("{{ pw | password_hash('sha512') }}", scope));
  const [, , salt] = random.split('$');
  t.equal(random, execFileSync('openssl', ['passwd', '-6', '-salt', salt, 'correct horse'], { encoding: 'utf8' }).trim(), 'random salt');
});

t.test('url: a real fetch, and a clear error when unreachable', async (t) => {
  // The server runs in its own process: the lookup blocks this one while it fetches (expressions are synchronous).
  const server = spawn(process.execPath, ['-e', `
    const http = require('node:http');
    const s = http.createServer((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
      res.end('line one\\nline two\\n');
    });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => server.kill());
  const port = await new Promise<string>((resolve) => server.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const jinja = new Jinja();
  const scope = jinja.createScope({ base: `http://127.0.0.1:${port}` });
  t.equal(toPlain(jinja.renderValue("{{ lookup('url', base ~ '/x') }}", scope)), 'line one,line two');
  t.same(toPlain(jinja.renderValue("{{ query('url', base ~ '/x') }}", scope)), ['line one', 'line two']);
  t.throws(() => jinja.renderValue("{{ lookup('url', base ~ '/missing') }}", scope), /Failed lookup url .*HTTP Error 404/);
  t.throws(() => jinja.renderValue("{{ lookup('url', 'http://127.0.0.1:9/') }}", scope), /Failed lookup url for http:\/\/127\.0\.0\.1:9\/ : .+/);
});

t.test('file, first_found and template lookups search the runner\'s path', async (t) => {
  const role = join(dir, 'roles/r');
  mkdirSync(join(role, 'files'), { recursive: true });
  mkdirSync(join(role, 'templates'), { recursive: true });
  writeFileSync(join(role, 'files/a.txt'), 'from role\n');
  writeFileSync(join(dir, 'a.txt'), 'from playbook\n');
  writeFileSync(join(dir, 'b.txt'), 'only playbook\n');
  writeFileSync(join(role, 'templates/t.j2'), '{{ x }} via template\n');
  const jinja = new Jinja();
  const scope = jinja.createScope({ x: 7 }, { searchPath: (kind) => [join(role, kind), dir], basedir: dir });
  t.equal(toPlain(jinja.renderValue("{{ lookup('file', 'a.txt') }}", scope)), 'from role');
  t.equal(toPlain(jinja.renderValue("{{ lookup('file', 'b.txt') }}", scope)), 'only playbook');
  t.equal(toPlain(jinja.renderValue("{{ lookup('first_found', ['none.txt', 'b.txt']) }}", scope)), join(dir, 'b.txt'));
  t.equal(toPlain(jinja.renderValue("{{ lookup('template', 't.j2') }}", scope)), '7 via template\n');
  t.throws(() => jinja.renderValue("{{ lookup('file', 'none.txt') }}", scope), /could not|file not found/);
});

t.test("users' filter_plugins and test_plugins, in kplay's and Ansible's shapes", async (t) => {
  const plugdir = join(dir, 'plugs');
  mkdirSync(join(plugdir, 'filter_plugins'), { recursive: true });
  mkdirSync(join(plugdir, 'test_plugins'), { recursive: true });
  writeFileSync(join(plugdir, 'filter_plugins/mine.ts'), 'export const filters = { double: (x: number) => x * 2, wrap: (s: string, l = "[", r = "]") => l + s + r };\n');
  writeFileSync(join(plugdir, 'test_plugins/ansible_shape.mjs'), 'export default class TestModule { tests() { return { even_length: (s) => s.length % 2 === 0 }; } }\n');
  const jinja = new Jinja();
  t.throws(() => jinja.checkExpression('n | double'), /no filter named 'double'/, 'unknown before loading');
  jinja.addPlugins(await loadPlugins(plugdir));
  jinja.checkExpression('n | double');
  jinja.checkExpression("'ab' is even_length");
  const scope = jinja.createScope({ n: 21 });
  t.equal(jinja.renderValue('{{ n | double }}', scope), '42');
  t.equal(jinja.renderValue("{{ 'x' | wrap('<', '>') }}", scope), '<x>');
  t.equal(jinja.renderValue("{{ 'ab' is even_length }}", scope), true);
  t.equal(jinja.condition("'abc' is even_length", scope), false);
});

t.test('varnames: the names of variables a regular expression finds, as ansible.builtin.varnames', async (t) => {
  const jinja = new Jinja();
  const scope = jinja.createScope({ kube_apiserver_flags: {}, kube_scheduler_flags: {}, etcd_flags: {}, other: 1 });
  const render = (text: string): unknown => toPlain(jinja.renderValue(text, scope));
  t.same(render("{{ query('varnames', '^kube_.+_flags$') }}"), ['kube_apiserver_flags', 'kube_scheduler_flags']);
  t.same(render("{{ query('varnames', 'flags$', '^oth') }}"), ['kube_apiserver_flags', 'kube_scheduler_flags', 'etcd_flags', 'other']);
  t.equal(render("{{ lookup('varnames', 'etcd') }}"), 'etcd_flags', 'lookup joins with commas');
  t.same(render("{{ query('varnames', '^none') }}"), []);
});
