import t from 'tap';
import assertModule from '../../engine/modules/assert.ts';
import debug from '../../engine/modules/debug.ts';
import fail from '../../engine/modules/fail.ts';
import setFact from '../../engine/modules/set_fact.ts';
import { builtinModules } from '../../engine/modules/builtin.ts';
import { ModuleError } from '../../engine/modules/contract.ts';
import { makeContext, runModule } from './context.ts';

const vars = { port: 6443, nodes: ['a', 'b'], tls: { enabled: true } };

t.test('debug shows a message or a variable', async (t) => {
  t.same((await runModule(debug, { msg: 'port is 6443' }, makeContext({ vars }))).result, { msg: 'port is 6443' });
  t.same((await runModule(debug, {}, makeContext({ vars }))).result, { msg: 'Hello world!' });
  t.same((await runModule(debug, { msg: { a: [1] } }, makeContext({ vars }))).result, { msg: { a: [1] } });
  t.same((await runModule(debug, { var: 'nodes' }, makeContext({ vars }))).result, { nodes: ['a', 'b'] });
  t.same((await runModule(debug, { var: 'nodes | length + 1' }, makeContext({ vars }))).result, { 'nodes | length + 1': 3 });
  t.same((await runModule(debug, { var: 'nope' }, makeContext({ vars }))).result, { nope: 'VARIABLE IS NOT DEFINED!' });
  const quiet = await runModule(debug, { msg: 'x', verbosity: 2 }, makeContext({ vars: { ...vars, ansible_verbosity: 1 } }));
  t.same(quiet.result, { skipped_reason: 'Verbosity threshold not met.' });
  t.equal(debug.controllerOnly, true);
});

t.test('assert passes when every expression holds, and names the first that does not', async (t) => {
  const ok = await runModule(assertModule, { that: ['port > 1024', 'tls.enabled', '{{ nodes | length == 2 }}'] }, makeContext({ vars }));
  t.equal(ok.changed, false);
  t.equal(ok.result.msg, 'All assertions passed');
  t.equal((await runModule(assertModule, { that: '"a" in nodes and port in [6443, 443]' }, makeContext({ vars }))).changed, false, 'one string with commas stays one expression');
  const err = await runModule(assertModule, { that: ['port > 1024', 'nodes | length > 2', 'false'] }, makeContext({ vars })).catch((e: unknown) => e);
  t.type(err, ModuleError);
  t.equal((err as ModuleError).message, 'Assertion failed: nodes | length > 2');
  t.match((err as ModuleError).result, { assertion: 'nodes | length > 2', evaluated_to: false });
  await t.rejects(runModule(assertModule, { that: 'port < 10', msg: 'port too high' }, makeContext({ vars })), { message: 'port too high' });
  await t.rejects(runModule(assertModule, { that: 'missing > 1' }, makeContext({ vars })), { name: 'TemplateError', message: "'missing' is undefined" });
});

t.test('set_fact returns facts with their types; cacheable is accepted', async (t) => {
  const out = await runModule(setFact, { api_port: 6443, peers: ['x'], enabled: true, cacheable: true }, makeContext());
  t.equal(out.changed, false);
  t.same(out.plan.facts, { api_port: 6443, peers: ['x'], enabled: true });
});

t.test('fail fails with its message', async (t) => {
  await t.rejects(runModule(fail, {}, makeContext()), { name: 'ModuleError', message: 'Failed as requested from task' });
  await t.rejects(runModule(fail, { msg: 'no good' }, makeContext()), { message: 'no good' });
});

t.test('builtinModules has every module by its short name', async (t) => {
  for (const name of ['assert', 'command', 'copy', 'debug', 'fail', 'file', 'set_fact', 'setup', 'shell', 'stat', 'template']) {
    t.equal(builtinModules[name]?.name, name);
  }
});
