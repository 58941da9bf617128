// Host data is never code: values marked unsafe (registered results, facts, command output, slurped files) holding
// `{{ }}`/`{% %}` with Jinja, JavaScript or Python payloads are printed literally however they are combined, and
// nothing runs on the controller.

import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Jinja, markUnsafe, containsUnsafe, toPlain } from '../../engine/jinja/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kplay-unsafe-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const marker = (name: string): string => join(dir, name);

const payloads = {
  jinja: `{{ lookup('pipe', 'touch ${marker('jinja')}') }}`,
  statement: `{% set x = lookup('pipe', 'touch ${marker('statement')}') %}done`,
  js: `{{ ''.constructor.constructor("return process")().mainModule.require('fs').writeFileSync('${marker('js')}', 'x') }}`,
  python: `{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch ${marker('python')}') }}`,
};
const allText = Object.values(payloads);

function hostData(): Record<string, unknown> {
  // What the runner stores: a registered command result, a fact, and a slurped file's decoded content.
  return {
    reg: markUnsafe({ stdout: payloads.jinja, stdout_lines: [payloads.statement, payloads.js], rc: 0, changed: true }),
    fact: markUnsafe(payloads.python),
    slurped: markUnsafe({ content: Buffer.from(payloads.js).toString('base64'), encoding: 'base64' }),
  };
}

function noMarkers(t: { notOk(v: unknown, m: string): void }): void {
  for (const name of Object.keys(payloads)) t.notOk(existsSync(marker(name)), `no ${name} side effect on the controller`);
}

t.test('host data combined in every way is printed literally and runs nothing', async (t) => {
  const jinja = new Jinja();
  const vars: Record<string, unknown> = {
    ...hostData(),
    // Task values that copy host data through filters, concatenation, lists and dicts.
    copy_of: '{{ reg.stdout }}',
    concat: 'pre {{ reg.stdout }} post',
    listed: '{{ [reg.stdout, fact] + reg.stdout_lines }}',
    combined: "{{ {'a': reg} | combine({'b': fact}) }}",
    as_json: '{{ reg | to_json }}',
    roundtrip: '{{ (reg | to_json | from_json).stdout }}',
    decoded: '{{ slurped.content | b64decode }}',
    joined: "{{ reg.stdout_lines | join(' ') }}",
    mapped: "{{ reg.stdout_lines | map('upper') | map('lower') | list }}",
    dict_built: "{{ dict(k=fact) }}",
    items: '{{ reg | dict2items }}',
    fact_upper: '{{ fact | upper | lower }}',
  };
  const scope = jinja.createScope(vars);
  // set_fact: the runner stores each rendered value and a later task reads it again (lazy rendering).
  const stored: Record<string, unknown> = { ...hostData() };
  for (const k of Object.keys(vars)) if (!(k in stored)) stored[k] = jinja.renderValue(vars[k], scope);
  for (const k of Object.keys(stored)) t.ok(containsUnsafe(stored[k]), `${k} stays unsafe after rendering`);
  const later = jinja.createScope({ ...stored, again: '{{ copy_of }}|{{ listed }}|{{ combined }}|{{ decoded }}' });
  const printed = String(toPlain(jinja.renderValue('{{ again }} {{ fact }} {{ roundtrip }} {{ joined }} {{ as_json }}', later)));
  for (const p of [payloads.jinja, payloads.python, payloads.js]) t.ok(printed.includes(p), `printed literally: ${p.slice(0, 40)}`);
  t.equal(toPlain(jinja.renderValue('{{ copy_of }}', later)), payloads.jinja);
  t.equal(toPlain(jinja.renderValue('{{ decoded }}', later)), payloads.js);
  t.same(toPlain(jinja.renderValue('{{ mapped }}', later)), [payloads.statement.toLowerCase(), payloads.js.toLowerCase()]);
  t.same(toPlain(jinja.renderValue('{{ items | map(attribute="key") | list }}', later)), ['stdout', 'stdout_lines', 'rc', 'changed']);
  // A template file rendering host data prints it as text.
  const out = jinja.renderTemplate('{{ reg.stdout }}\n{% for l in reg.stdout_lines %}{{ l }}\n{% endfor %}{{ fact }}\n', join(dir, 'x.j2'), later);
  for (const p of [payloads.jinja, payloads.statement, payloads.js, payloads.python]) t.ok(out.includes(p), 'template prints host data literally');
  noMarkers(t);
  t.same(allText.length, 4);
});

t.test('an unsafe conditional is refused, as Ansible does', async (t) => {
  const jinja = new Jinja();
  const scope = jinja.createScope({ ...hostData(), cond: '{{ reg.stdout }}' });
  t.throws(() => jinja.condition('{{ reg.stdout }}', scope), /Conditional is marked as unsafe/);
  t.throws(() => jinja.condition('{{ cond }}', scope), /Conditional is marked as unsafe/);
  t.equal(jinja.condition("reg.stdout is search('pipe')", scope), true, 'testing host data in a condition is fine');
  noMarkers(t);
});

t.test('no JavaScript is reachable from a trusted template either', async (t) => {
  const jinja = new Jinja();
  const scope = jinja.createScope({ s: 'x', l: [1] });
  for (const expr of [
    `{{ ''.constructor.constructor('return process')() }}`,
    `{{ s.constructor }}`,
    `{{ l.__proto__ }}`,
    `{{ range.constructor('return 1')() }}`,
    `{{ lookup.constructor }}`,
  ]) {
    let value: unknown;
    try {
      value = jinja.renderValue(expr, scope);
    } catch (error) {
      value = `error: ${(error as Error).message}`;
    }
    t.match(String(value), /error: .*(undefined|no attribute|not callable)/, `${expr} reaches nothing`);
  }
  noMarkers(t);
});

t.test('control: the same payload in a trusted value does run (so the checks above can fail)', async (t) => {
  const jinja = new Jinja();
  const control = join(dir, 'control');
  const scope = jinja.createScope({ trusted: `{{ lookup('pipe', 'touch ${control}') }}` });
  jinja.renderValue('{{ trusted }}', scope);
  t.ok(existsSync(control), 'a safe template with the payload runs the lookup');
});
