// Load-time checks: a syntax error, JavaScript that is not Jinja, an unknown filter, test or lookup is an InputError
// at the real file:line:col inside the YAML scalar (or the template's own line and column), before any host is
// touched; run-time errors name the undefined variable or attribute as Ansible does.

import t from 'tap';
import { InputError } from '../../engine/core/source.ts';
import { Jinja, TemplateError } from '../../engine/jinja/index.ts';

const jinja = new Jinja();
const at = { pos: { file: 'play.yml', line: 3, col: 11 } };

function loadError(fn: () => void): string {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error.message;
  }
  return 'no error';
}

t.test('JavaScript that is not Jinja is refused with the Jinja way to write it', async (t) => {
  const cases: [string, RegExp][] = [
    ['x === 1', /^play\.yml:3:13: '===' is JavaScript; Jinja compares with '=='/],
    ['x !== 1', /^play\.yml:3:13: '!==' is JavaScript; Jinja compares with '!='/],
    ['a && b', /^play\.yml:3:13: '&&' is JavaScript; write 'and'/],
    ['a || b', /^play\.yml:3:13: '\|\|' is JavaScript; write 'or'/],
    ['!x', /^play\.yml:3:11: '!' is JavaScript; write 'not x'/],
    ['l.map(x => x)', /^play\.yml:3:19: '=>' \(arrow function\) is JavaScript/],
    ['a ?? b', /^play\.yml:3:13: '\?\?' is JavaScript; write `x \| default\(y\)`/],
    ['l.includes(1)', /^play\.yml:3:12: '\.includes\(' is JavaScript; write `item in list`/],
    ["a = 'b'", /^play\.yml:3:13: '=' assigns; compare with '=='/],
    ['x\n  and y || z', /^play\.yml:4:9: '\|\|' is JavaScript/],
  ];
  for (const [expr, re] of cases) t.match(loadError(() => jinja.checkExpression(expr, at)), re, expr);
  t.match(loadError(() => jinja.checkValue('{{ a && b }}', { pos: { file: 'play.yml', line: 5, col: 9 }, quote: 1 })), /^play\.yml:5:15: '&&'/);
  t.match(loadError(() => jinja.checkTemplate('{% for x in y %}\n{{ x === 1 }}\n{% endfor %}\n', 't.j2')), /^t\.j2:2:6: '==='/);
});

t.test('Jinja that only looks like JavaScript is accepted', async (t) => {
  for (const expr of ["x == 1 and y != 2", "f(a=1) and x | default(1)", "'a && b' in x", 'x is not none', 'x != y', "d['k'] >= 1", 'not x']) {
    t.equal(loadError(() => jinja.checkExpression(expr, at)), 'no error', expr);
  }
  t.equal(loadError(() => jinja.checkValue('{% set y = 1 %}{{ y }} {{ l.length }}', at)), 'no error', '.length is legal Jinja (fails when run)');
});

t.test('syntax errors and unknown names at file:line:col', async (t) => {
  t.match(loadError(() => jinja.checkExpression('x |', at)), /^play\.yml:3:15: Jinja syntax error/);
  t.match(loadError(() => jinja.checkExpression('x | nosuch', at)), /^play\.yml:3:15: no filter named 'nosuch'/);
  t.match(loadError(() => jinja.checkExpression('x is nosuch', at)), /^play\.yml:3:16: no test named 'nosuch'/);
  t.match(loadError(() => jinja.checkExpression("lookup('nosuch', 'a')", at)), /^play\.yml:3:18: no lookup named 'nosuch'/);
  t.match(loadError(() => jinja.checkValue('hello {{ x | nosuch }}', { pos: { file: 'play.yml', line: 5, col: 9 }, quote: 1 })), /^play\.yml:5:23: no filter named 'nosuch'/);
  t.match(loadError(() => jinja.checkValue('{{ x }', at)), /^play\.yml:3:\d+: Jinja syntax error/);
  t.match(loadError(() => jinja.checkTemplate('line1\nline2 {{ x | nosuch }}\n', 'roles/r/templates/t.j2')), /^roles\/r\/templates\/t\.j2:2:14: no filter named 'nosuch'/);
  t.match(loadError(() => jinja.checkTemplate('a\nb\n{% if x %}\nno end\n', 't.j2')), /^t\.j2:4:\d+: Jinja syntax error: expected elif, else, or endif/);
  t.match(loadError(() => jinja.checkTemplate('{{ x is nosuchtest }}', 't.j2')), /^t\.j2:1:9: no test named 'nosuchtest'/);
  t.equal(loadError(() => jinja.checkTemplate('{% macro m(a, b=1) %}{{ a }}{% endmacro %}{{ m(1) | upper }}{% for k, v in d.items() %}{{ loop.index }}{% endfor %}', 't.j2')), 'no error');
});

t.test('run-time errors name the variable or attribute, as Ansible does', async (t) => {
  const scope = jinja.createScope({ a: '{{ b }}', b: '{{ a }}', d: { x: 1 }, l: [1] });
  const runError = (text: string): string => {
    try {
      jinja.renderValue(text, scope);
    } catch (error) {
      t.ok(error instanceof TemplateError, 'a TemplateError for the runner to place');
      return (error as Error).message;
    }
    return 'no error';
  };
  t.equal(runError('{{ zz }}'), "'zz' is undefined");
  t.equal(runError('{{ zz.yy }}'), "'zz' is undefined");
  t.equal(runError('{{ d.y }}'), "'dict object' has no attribute 'y'");
  t.equal(runError('{{ d.y.z }}'), "'dict object' has no attribute 'y'");
  t.equal(runError('{{ l[3] }}'), 'list object has no element 3');
  t.match(runError('{{ l.length }}'), /'list object' has no attribute 'length' \(Jinja: use the filter '\| length'\)/);
  t.match(runError('{{ a }}'), /recursive loop detected .* variable '.' refers to itself/);
  t.equal(runError('{{ zz | default(d.y | default(1)) }}'), 'no error');
});
