// Issue 2, acceptance 4: a user's own role and module, created in a temp folder, run without any change to engine/.

import t from 'tap';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
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
