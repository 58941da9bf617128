// Issue 13: an exception inside a user's module (a bug, not a ModuleError) names the module file and line, mapped
// back to the TypeScript source; with -vv the failure shows the stack too.

import t from 'tap';
import { kplay } from '../helpers/kplay.ts';

const MODULE = `// crashes on purpose
export default {
  spec: { args: { path: { type: 'str', required: true } } },
  async plan(args: { path: string }) {
    const parts: string[] = args.path.split('/');
    const missing = (parts as unknown as { nope: { deeper: string } }).nope;
    return { changed: missing.deeper.length > 0 };
  },
};
`;

t.test('a module that throws: its file:line:col, and the stack with -vv', async (t) => {
  const cwd = t.testdir({
    'package.json': '{"type":"module"}\n',
    modules: { 'boom.ts': MODULE },
    'site.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - boom: path=/x\n',
  });
  const r = await kplay(['run', 'site.yml', '--output', 'json'], { cwd });
  t.equal(r.code, 2);
  const failed = r.events.find((e) => e.type === 'result' && e.status === 'failed');
  t.equal(
    failed?.type === 'result' ? failed.msg : undefined,
    "Cannot read properties of undefined (reading 'deeper') (at modules/boom.ts:7:31)",
    'the message, the module file and the line and column in the .ts source',
  );
  const verbose = await kplay(['run', 'site.yml', '-vv'], { cwd });
  t.match(verbose.stdout, /TypeError: Cannot read properties of undefined \(reading 'deeper'\)\n\s+at Object\.plan \(.*modules\/boom\.ts:7:31\)/, '-vv: the stack');
  const quiet = await kplay(['run', 'site.yml'], { cwd });
  t.notMatch(quiet.stdout, 'at Object.plan', 'no stack without -vv');
});

t.test('a module whose apply() throws: the same, at the line in apply', async (t) => {
  const cwd = t.testdir({
    'package.json': '{"type":"module"}\n',
    modules: {
      'late.ts': [
        '// fails when it writes',
        'export default {',
        '  spec: { args: {} },',
        '  async plan() {',
        '    return {',
        '      changed: true,',
        '      apply: async () => {',
        "        JSON.parse('{not json');",
        '      },',
        '    };',
        '  },',
        '};',
        '',
      ].join('\n'),
    },
    'site.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - late: {}\n',
  });
  const r = await kplay(['run', 'site.yml', '--output', 'json'], { cwd });
  t.equal(r.code, 2);
  const failed = r.events.find((e) => e.type === 'result' && e.status === 'failed');
  t.match(failed?.type === 'result' ? failed.msg : undefined, /JSON.*\(at modules\/late\.ts:8:\d+\)$/, 'names the file and the line in apply');
  const verbose = await kplay(['run', 'site.yml', '-vv'], { cwd });
  t.match(verbose.stdout, /SyntaxError: .* in JSON at position 1\n\s+at JSON\.parse \(<anonymous>\)\n\s+at Object\.apply \(.*modules\/late\.ts:8:\d+\)/, '-vv: the stack');
});
