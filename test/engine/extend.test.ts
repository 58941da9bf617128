// Issue 2, acceptance 4: a user's own role and module, created in a temp folder, run without any change to engine/.

import t from 'tap';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { kplay, REPO } from '../helpers/kplay.ts';

/** A fingerprint of every file under engine/, to prove the extension needed no change there. */
function engineFingerprint(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(path).update(readFileSync(path));
    }
  };
  walk(join(REPO, 'engine'));
  return hash.digest('hex');
}

const MODULE = `
// A user's module: the same contract as the built-in ones (engine/modules/contract.ts).
import { createHash } from 'node:crypto';

interface Args { path: string; text: string; times: number }

export default {
  spec: {
    args: {
      path: { type: 'path', required: true },
      text: { type: 'str', required: true },
      times: { type: 'int', default: 1 },
    },
  },
  async plan(args: Args, ctx: { conn: { stat(p: string, o: object): Promise<{ exists: boolean; sha256?: string }>; put(p: string, c: string, o: object): Promise<void> } }) {
    const content = args.text.repeat(args.times) + '\\n';
    const want = createHash('sha256').update(content).digest('hex');
    const now = await ctx.conn.stat(args.path, { checksum: true });
    const changed = now.sha256 !== want;
    return {
      changed,
      msg: changed ? 'would write ' + args.path : 'already right',
      diff: [{ path: args.path, before: '', after: content }],
      effects: [{ path: args.path, state: 'file', content: Buffer.from(content) }],
      apply: () => ctx.conn.put(args.path, content, { mode: 0o600 }),
    };
  },
};
`;

t.test('a custom role with a custom module, a template and a handler', async (t) => {
  const before = engineFingerprint();
  const dir = t.testdir({
    'site.yml': `
- hosts: localhost
  gather_facts: false
  roles:
    - greeter
`,
    modules: { 'repeat_line.ts': MODULE },
    roles: {
      greeter: {
        defaults: { 'main.yml': 'greeter_name: world\ngreeter_dir: out\n' },
        templates: { 'greeting.txt.ejs': 'Hello, <%= greeter_name %>!\n' },
        tasks: {
          'main.yml': `
- name: Folder
  file: path={{ playbook_dir }}/{{ greeter_dir }} state=directory
- name: Greeting from a template
  template: src=greeting.txt.ejs dest={{ playbook_dir }}/{{ greeter_dir }}/greeting.txt
  notify: greeted
- name: A line from the user's module
  repeat_line:
    path: "{{ playbook_dir }}/{{ greeter_dir }}/line.txt"
    text: ab
    times: 3
- name: The role's own module
  role_stamp: path={{ playbook_dir }}/{{ greeter_dir }}/stamp
`,
        },
        handlers: { 'main.yml': `- name: greeted\n  copy: content=handled dest={{ playbook_dir }}/{{ greeter_dir }}/handled\n` },
        modules: {
          'role_stamp.js': `export default { spec: { args: { path: { type: 'path', required: true } } },
  async plan(args, ctx) {
    const st = await ctx.conn.stat(args.path, {});
    return { changed: !st.exists, effects: [{ path: args.path, state: 'file', content: Buffer.from('stamp') }],
      apply: () => ctx.conn.put(args.path, 'stamp', {}) };
  } };`,
        },
      },
    },
  });
  const first = await kplay(['run', 'site.yml', '--output', 'json'], { cwd: dir });
  t.equal(first.code, 0, first.stderr);
  t.equal(first.recap?.localhost.changed, 5, 'folder, template, module, role module, handler');
  t.equal(readFileSync(join(dir, 'out/greeting.txt'), 'utf8'), 'Hello, world!\n');
  t.equal(readFileSync(join(dir, 'out/line.txt'), 'utf8'), 'ababab\n');
  t.equal(statSync(join(dir, 'out/line.txt')).mode & 0o777, 0o600);
  t.equal(readFileSync(join(dir, 'out/stamp'), 'utf8'), 'stamp');
  t.equal(readFileSync(join(dir, 'out/handled'), 'utf8'), 'handled');

  const second = await kplay(['run', 'site.yml', '--output', 'json', '-e', 'greeter_name=kplay'], { cwd: dir });
  t.equal(second.code, 0, second.stderr);
  t.equal(second.recap?.localhost.changed, 1, 'only the template changed (the handler\'s file is already right)');
  t.equal(readFileSync(join(dir, 'out/greeting.txt'), 'utf8'), 'Hello, kplay!\n');
  const handler = second.events.filter((e) => e.type === 'result' && e.task.handler);
  t.equal(handler.length, 1, 'the changed template notified its handler, which ran once');

  const third = await kplay(['run', 'site.yml', '--output', 'json', '-e', 'greeter_name=kplay'], { cwd: dir });
  t.equal(third.recap?.localhost.changed, 0);
  t.equal(third.events.filter((e) => e.type === 'result' && e.task.handler).length, 0, 'unchanged: no handler');
  t.equal(engineFingerprint(), before, 'engine/ is untouched');
});

// Issue 9: a user's module imports its API from the package, `kplay/module`, not from an engine path; it resolves
// from a folder with no node_modules, from the bundle and from the sources, for .ts and .js modules alike.
const TYPED_MODULE = `
import { defineModule, ModuleError, type ModuleContext } from 'kplay/module';

interface Args { path: string; text: string }

export default defineModule<Args>({
  name: 'note',
  spec: { args: { path: { type: 'path', required: true }, text: { type: 'str', required: true } } },
  async plan(args: Args, ctx: ModuleContext) {
    if (args.text === 'boom') throw new ModuleError('the note says boom', { said: args.text });
    const now = await ctx.conn.get(args.path);
    const changed = now?.toString() !== args.text;
    return { changed, msg: 'note ' + args.path, apply: () => ctx.conn.put(args.path, args.text, { mode: 0o644 }) };
  },
});
`;

const JS_MODULE = `
import { defineModule, shellQuote } from 'kplay/module';
export default defineModule({
  spec: { args: { word: { type: 'str', required: true } } },
  async plan(args) {
    return { changed: false, result: { quoted: shellQuote(args.word) } };
  },
});
`;

t.test("a user's module imports defineModule and ModuleError from 'kplay/module'", async (t) => {
  const dir = t.testdir({
    'site.yml': `
- hosts: localhost
  gather_facts: false
  tasks:
    - note: path={{ playbook_dir }}/note.txt text=hello
    - quote: word="it's"
      register: q
    - debug: msg="{{ q.quoted }}"
    - note: path={{ playbook_dir }}/other.txt text=boom
      register: boom
      ignore_errors: true
    - debug: msg="{{ boom.said }} {{ boom.failed }}"
`,
    modules: { 'note.ts': TYPED_MODULE, 'quote.js': JS_MODULE },
  });
  const envs: Record<string, string>[] = [{}, { KPLAY_FROM_SOURCE: '1' }];
  for (const env of envs) {
    const how = env.KPLAY_FROM_SOURCE ? 'from the sources' : 'from the bundle';
    rmSync(join(dir, 'note.txt'), { force: true });
    const run = await kplay(['run', 'site.yml', '--output', 'json'], { cwd: dir, env });
    t.equal(run.code, 0, `${how}: ${run.stderr}`);
    t.equal(readFileSync(join(dir, 'note.txt'), 'utf8'), 'hello', `${how}: the .ts module ran`);
    const messages = run.events.filter((e) => e.type === 'result' && e.task.module === 'debug').map((e) => (e.type === 'result' ? e.msg : ''));
    t.same(messages.map(String), ["'it'\\''s'", 'boom True'] /* Jinja prints Python's True */, `${how}: the .js module used shellQuote; a ModuleError is the task's failure with its result`);
    t.equal(run.recap?.localhost.ignored, 1, `${how}: the ModuleError counted as a failure (ignored)`);
  }
});
