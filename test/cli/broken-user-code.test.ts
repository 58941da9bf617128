// Issue 13: one broken file among a user's modules or filter plugins fails only the playbooks that use it, reported
// at its own file:line:col with the source line and a caret, before any host is touched; the others run.

import t from 'tap';
import { existsSync } from 'node:fs';
import { kplay } from '../helpers/kplay.ts';

const GOOD = `export default {
  spec: { args: { path: { type: 'str', required: true } } },
  async plan() {
    return { changed: false, msg: 'fine' };
  },
};
`;
// A syntax error on line 4 (no `async plan() {`): esbuild stops at the '{' (column 12).
const SYNTAX = `// a typo
export default {
  spec: { args: {} },
    return { changed: false ;
};
`;
// Its top level throws on line 2.
const THROWS = `import { readFileSync } from 'node:fs';
const config = JSON.parse(readFileSync('/nonexistent/kplay-config.json', 'utf8')) as { x: number };
export default { spec: { args: {} }, async plan() { return { changed: config.x > 0 }; } };
`;

const play = (task: string): string => `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - file: { path: "{{ playbook_dir }}/touched", state: touch }\n    - ${task}\n`;

t.test('a broken module file fails only the playbooks that use it, at its file:line:col', async (t) => {
  const cwd = t.testdir({
    'package.json': '{"type":"module"}\n',
    modules: { 'good.ts': GOOD, 'typo.ts': SYNTAX, 'throws.ts': THROWS },
    'fine.yml': play('good: path=/x'),
    'typo.yml': play('typo: {}'),
    'throws.yml': play('throws: {}'),
  });
  const fine = await kplay(['run', 'fine.yml'], { cwd });
  t.equal(fine.code, 0, `a playbook that does not use the broken files runs: ${fine.stderr}`);
  t.ok(existsSync(`${cwd}/touched`));

  const typo = await kplay(['run', 'typo.yml'], { cwd: `${cwd}` });
  t.equal(typo.code, 1);
  t.equal(
    typo.stderr,
    [
      'modules/typo.ts:4:12: cannot load module: Expected ":" but found "{" (used by the task at typo.yml:5:7)',
      '4 |     return { changed: false ;',
      '  |            ^',
      '',
    ].join('\n'),
  );

  const throws = await kplay(['run', 'throws.yml', '--output', 'json'], { cwd });
  t.equal(throws.code, 1);
  const error = throws.events.find((e) => e.type === 'error');
  t.match(error, { file: 'modules/throws.ts', line: 2, message: /^modules\/throws\.ts:2:\d+: cannot load module: ENOENT: no such file or directory.*\(used by the task at throws\.yml:5:7\)$/ });
});

t.test('nothing is touched when a used module is broken', async (t) => {
  const cwd = t.testdir({ 'package.json': '{"type":"module"}\n', modules: { 'typo.ts': SYNTAX }, 'typo.yml': play('typo: {}') });
  t.equal((await kplay(['run', 'typo.yml'], { cwd })).code, 1);
  t.notOk(existsSync(`${cwd}/touched`), 'the first task did not run');
});

t.test('a broken filter plugin: reported only when an expression needs a filter no loaded file has', async (t) => {
  const cwd = t.testdir({
    'package.json': '{"type":"module"}\n',
    filter_plugins: {
      'good.ts': 'export const filters = { twice: (v: string) => v + v };\n',
      'bad.ts': '// shout\nexport const filters = {\n  shout: (v: string) => v.toUpperCase() +,\n};\n',
    },
    'fine.yml': play(`debug: msg="{{ 'a' | twice }}"`),
    'uses.yml': play(`debug: msg="{{ 'a' | shout }}"`),
  });
  const fine = await kplay(['run', 'fine.yml', '--output', 'json'], { cwd });
  t.equal(fine.code, 0, fine.stderr);
  t.ok(fine.events.some((e) => e.type === 'result' && e.msg === 'aa'), 'the good filter works');
  const uses = await kplay(['run', 'uses.yml'], { cwd });
  t.equal(uses.code, 1);
  t.match(uses.stderr, /^filter_plugins\/bad\.ts:3:42: cannot load plugin: Unexpected "," \(the filter 'shout' used at uses\.yml:5:\d+ may be defined there\)\n3 \| {3}shout/);
});
