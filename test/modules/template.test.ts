import t from 'tap';
import { readFileSync } from 'node:fs';
import template from '../../engine/modules/template.ts';
import { InputError } from '../../engine/core/source.ts';
import { checkTemplate, renderTemplate, renderTemplateFile } from '../../engine/vars/template.ts';
import { makeContext, runModule, snapshot } from './context.ts';

const vars = { port: 6443, peers: ['10.0.0.1', '10.0.0.2'], cluster: { name: 'lab' } };

t.test('template renders with the host variables and is placed like copy', async (t) => {
  const dir = t.testdir({
    role: { templates: { 'api.conf.ejs': 'name=<%= cluster.name %>\nport=<%= port %>\n# <%= template_host %>\n<% for (const p of peers) { -%>\npeer=<%= p %>\n<% } -%>\n' } },
  });
  const expected = 'name=lab\nport=6443\n# localhost\npeer=10.0.0.1\npeer=10.0.0.2\n';
  const ctx = makeContext({ root: `${dir}/role`, vars });
  const check = await runModule(template, { src: 'api.conf.ejs', dest: `${dir}/api.conf`, mode: '0600' }, makeContext({ root: `${dir}/role`, vars, check: true }));
  t.equal(check.changed, true);
  t.same(check.plan.diff, [{ path: `${dir}/api.conf`, before: '', after: expected }]);
  t.notOk(snapshot(dir).includes('api.conf '), 'check mode wrote nothing');
  const first = await runModule(template, { src: 'api.conf.ejs', dest: `${dir}/api.conf`, mode: '0600' }, ctx);
  t.equal(first.changed, true);
  t.equal(readFileSync(`${dir}/api.conf`, 'utf8'), expected);
  t.equal(first.result.mode, '0600');
  const second = await runModule(template, { src: 'api.conf.ejs', dest: `${dir}/api.conf`, mode: '0600' }, ctx);
  t.equal(second.changed, false);
  const changedVars = makeContext({ root: `${dir}/role`, vars: { ...vars, port: 7443 } });
  const third = await runModule(template, { src: 'api.conf.ejs', dest: `${dir}/api.conf`, mode: '0600' }, changedVars);
  t.equal(third.changed, true);
  t.match(third.plan.diff?.[0], { before: expected, after: /port=7443/ });
});

t.test('an undefined variable is an error at file:line:col', async (t) => {
  const dir = t.testdir({ templates: { 'a.conf.ejs': 'one\ntwo\nx = <%= missing %>\n' } });
  const ctx = makeContext({ root: dir, vars });
  const err = await runModule(template, { src: 'a.conf.ejs', dest: `${dir}/a.conf` }, ctx).catch((e: unknown) => e);
  t.type(err, InputError);
  t.match((err as InputError).message, /a\.conf\.ejs:3:9: undefined variable "?missing"?$/);
  t.same((err as InputError).pos?.line, 3);
});

t.test('a missing key, a runtime error and syntax errors name their line', async (t) => {
  t.throws(() => renderTemplate('a\n<%= cluster.nope %>\n', 'x.ejs', vars), { message: 'x.ejs:2:1: printed value is undefined' });
  t.throws(() => renderTemplate('a\nb\n  <%= cluster.nope.deeper %>', 'x.ejs', vars), { message: /^x\.ejs:3:3: Cannot read properties of undefined/ });
  t.throws(() => checkTemplate('a\n<% if (port { %>\nb\n<% } %>\n', 'y.ejs'), { name: 'InputError', message: /^y\.ejs:2:1: / });
  t.throws(() => checkTemplate('a\nb <% x\n', 'z.ejs'), { message: 'z.ejs:2:3: Could not find matching close tag for "<%".' });
  t.doesNotThrow(() => checkTemplate('<%= anything.at.all %>', 'ok.ejs'), 'compiling does not need the variables');
});

t.test('values print as config text: no HTML escaping, objects as JSON, helpers and vars available', async (t) => {
  const out = renderTemplate('<%= "a<b&\\"c" %> <%= peers %> <%= cluster %> <%= vars.absent === undefined %> <%= defined("port") %>', 'v.ejs', vars);
  t.equal(out, 'a<b&"c ["10.0.0.1","10.0.0.2"] {"name":"lab"} true true');
});

t.test('renderTemplateFile reads the file; a missing file is an InputError', async (t) => {
  const dir = t.testdir({ 'f.ejs': 'p=<%= port %>' });
  t.equal(renderTemplateFile(`${dir}/f.ejs`, vars), 'p=6443');
  t.throws(() => renderTemplateFile(`${dir}/none.ejs`, vars), InputError);
});

t.test('a .j2 template is Jinja with Ansible settings: trim_blocks, the trailing newline kept, template_* variables', async (t) => {
  const dir = t.testdir({
    role: {
      templates: {
        'api.conf.j2': 'name={{ cluster.name }}\nport={{ port }}\n# {{ template_destpath | basename }}\n{% for p in peers %}\npeer={{ p }}\n{% endfor %}\n{{ peers | length }} peers\n',
        'bad.j2': 'one\nx = {{ missing }}\n',
      },
    },
  });
  const expected = 'name=lab\nport=6443\n# api.conf\npeer=10.0.0.1\npeer=10.0.0.2\n2 peers\n';
  const ctx = makeContext({ root: `${dir}/role`, vars });
  const first = await runModule(template, { src: 'api.conf.j2', dest: `${dir}/api.conf` }, ctx);
  t.equal(first.changed, true);
  t.equal(readFileSync(`${dir}/api.conf`, 'utf8'), expected);
  t.equal((await runModule(template, { src: 'api.conf.j2', dest: `${dir}/api.conf` }, ctx)).changed, false, 'the second run changes nothing');
  const err = await runModule(template, { src: 'bad.j2', dest: `${dir}/bad.conf` }, ctx).catch((e: unknown) => e);
  t.match((err as Error).message, /bad\.j2:2:8: 'missing' is undefined$/, 'an undefined variable at the template line:col');
  t.notOk(snapshot(dir).includes('bad.conf'), 'nothing written');
});
