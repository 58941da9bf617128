// find and assemble against Ansible 2.14: find's matches (paths relative to each run's folder, sorted) and assemble's
// files must be the same as Ansible's (oracle.ts).

import t from 'tap';
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { compareWithAnsible, type Registered } from './oracle.ts';

function tree(root: string): void {
  mkdirSync(`${root}/d/sub/deeper`, { recursive: true });
  mkdirSync(`${root}/d/.hidden`);
  writeFileSync(`${root}/d/a.conf`, 'listen 80\nserver x\n');
  writeFileSync(`${root}/d/b.conf`, '# listen 80\n');
  writeFileSync(`${root}/d/c.log`, 'x'.repeat(3000));
  writeFileSync(`${root}/d/.dot.conf`, 'hidden\n');
  writeFileSync(`${root}/d/.hidden/in.conf`, 'listen 1\n');
  writeFileSync(`${root}/d/sub/s.conf`, 'listen 2\n');
  writeFileSync(`${root}/d/sub/deeper/z.conf`, 'zz\n');
  writeFileSync(`${root}/d/old.conf`, 'old\n');
  utimesSync(`${root}/d/old.conf`, new Date('2020-01-01'), new Date('2020-01-01'));
  symlinkSync('a.conf', `${root}/d/link.conf`);
}

t.test('find agrees with Ansible', async (t) => {
  const cases: [string, string][] = [
    ['globs', 'patterns: "*.conf"'],
    ['recurse', 'patterns: ["*.conf", "*.log"], recurse: true'],
    ['hidden', 'patterns: "*.conf", hidden: true, recurse: true'],
    ['excludes', 'patterns: "*", excludes: "b*", recurse: true'],
    ['contains', 'contains: "listen", recurse: true, hidden: true'],
    ['whole file', 'contains: "server", read_whole_file: true'],
    ['directories', 'file_type: directory, recurse: true, hidden: true'],
    ['links', 'file_type: link'],
    ['any', 'file_type: any, size: "-1k"'],
    ['size', 'size: 2k'],
    ['age', 'age: 1w'],
    ['young', 'age: -1d, recurse: true'],
    ['regex', "patterns: '^[ab]\\.conf$', use_regex: true"],
    ['depth', 'recurse: true, depth: 2'],
  ];
  const tasks = cases
    .map(([name, args]) => `    - name: ${name}\n      find: { paths: "{{ root }}/d", ${args} }\n`)
    .join('') + '    - name: a missing path\n      find: { paths: ["{{ root }}/nope", "{{ root }}/d/sub"] }\n';
  const run = await compareWithAnsible(t, { setup: tree, tasks, attrOnly: -1 });
  const found = (r: Registered, root: string): unknown => ({
    matched: r.matched,
    paths: (r.files as { path: string }[]).map((f) => f.path.replace(root, 'ROOT')).sort(),
    skipped: Object.keys(r.skipped_paths as object).map((p) => p.replace(root, 'ROOT')),
  });
  for (const [i, [name]] of [...cases, ['a missing path']].entries()) {
    t.same(found(run.kplay[i], run.roots.kplay), found(run.ansible[i], run.roots.ansible), `find ${name}: the same matches`);
  }
  const file = (run.kplay[0].files as Registered[]).find((f) => String(f.path).endsWith('/a.conf'));
  const ansibleFile = (run.ansible[0].files as Registered[]).find((f) => String(f.path).endsWith('/a.conf'));
  for (const key of ['mode', 'isreg', 'isdir', 'islnk', 'size', 'uid', 'gid', 'pw_name', 'gr_name', 'nlink', 'rusr', 'woth', 'xusr']) {
    t.equal(file?.[key], ansibleFile?.[key], `find result field ${key}`);
  }
});

t.test('assemble agrees with Ansible', async (t) => {
  await compareWithAnsible(t, {
    setup: (root) => {
      mkdirSync(`${root}/frags`);
      writeFileSync(`${root}/frags/10-a`, 'alpha\n');
      writeFileSync(`${root}/frags/20-b`, 'beta without newline');
      writeFileSync(`${root}/frags/30-c`, 'gamma\n');
      writeFileSync(`${root}/frags/.hidden`, 'secret\n');
      writeFileSync(`${root}/frags/99-skip.bak`, 'nope\n');
    },
    tasks: `
    - name: plain
      assemble: { src: "{{ root }}/frags", dest: "{{ root }}/plain" }
    - name: delimiter, regexp, ignore_hidden, mode
      assemble: { src: "{{ root }}/frags", dest: "{{ root }}/delim", delimiter: "### part", regexp: '^\\d+-[a-z]$', ignore_hidden: true, mode: 'u=rw,go=r' }
    - name: escaped delimiter
      assemble: { src: "{{ root }}/frags", dest: "{{ root }}/esc", delimiter: '\\n--\\n' }
    - name: a file as src fails
      assemble: { src: "{{ root }}/frags/10-a", dest: "{{ root }}/bad" }
      ignore_errors: true
`,
  });
});
