// unarchive against Ansible 2.14, with archives made by real tar and zip: the same playbook through both, trees
// compared byte for byte, second run unchanged, --check predicting the first run (oracle.ts).

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareWithAnsible, kplayRun } from './oracle.ts';

/** A release-like tree packed as tar.gz, tar.xz, plain tar and zip (made once, so every run gets the same bytes). */
function archives(dir: string): void {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'app-1.0/bin'), { recursive: true });
  mkdirSync(join(tree, 'app-1.0/share/doc'), { recursive: true });
  writeFileSync(join(tree, 'app-1.0/bin/app'), '#!/bin/sh\necho app\n');
  chmodSync(join(tree, 'app-1.0/bin/app'), 0o755);
  writeFileSync(join(tree, 'app-1.0/README'), 'read me\n');
  writeFileSync(join(tree, 'app-1.0/share/doc/notes.txt'), 'notes\n');
  writeFileSync(join(tree, 'app-1.0/secret.key'), 'k\n');
  chmodSync(join(tree, 'app-1.0/secret.key'), 0o600);
  symlinkSync('bin/app', join(tree, 'app-1.0/run'));
  execFileSync('tar', ['-czf', join(dir, 'app.tar.gz'), '-C', tree, 'app-1.0']);
  execFileSync('tar', ['-cJf', join(dir, 'app.tar.xz'), '-C', tree, 'app-1.0']);
  execFileSync('tar', ['-cf', join(dir, 'app.tar'), '-C', tree, 'app-1.0']);
  execFileSync('zip', ['-qry', join(dir, 'app.zip'), 'app-1.0'], { cwd: tree });
}

t.test('unarchive agrees with Ansible', async (t) => {
  const made = mkdtempSync(join(tmpdir(), 'kplay-archives-'));
  t.teardown(() => rmSync(made, { recursive: true, force: true }));
  archives(made);
  const { statuses, kplay: results, roots, project } = await compareWithAnsible(t, {
    setup: (root) => {
      for (const d of ['gz', 'zip', 'xz', 'tar', 'strip', 'mode', 'created']) mkdirSync(join(root, d));
      mkdirSync(join(root, 'remote'));
      for (const f of ['app.zip', 'app.tar.xz', 'app.tar']) copyFileSync(join(made, f), join(root, 'remote', f));
      writeFileSync(join(root, 'created/marker'), 'x\n');
    },
    tasks: `
    - name: tar.gz from the controller
      unarchive: { src: "${made}/app.tar.gz", dest: "{{ root }}/gz", list_files: true }
    - name: zip on the host
      unarchive: { src: "{{ root }}/remote/app.zip", dest: "{{ root }}/zip", remote_src: true }
    - name: tar.xz on the host, include
      unarchive: { src: "{{ root }}/remote/app.tar.xz", dest: "{{ root }}/xz", remote_src: true, include: [app-1.0/README] }
    - name: plain tar, strip-components, exclude
      unarchive: { src: "{{ root }}/remote/app.tar", dest: "{{ root }}/strip", remote_src: true, extra_opts: [--strip-components=1], exclude: ['*.txt'] }
    - name: symbolic mode on every entry
      unarchive: { src: "${made}/app.tar.gz", dest: "{{ root }}/mode", mode: 'u+rwX,go-rwx' }
    - name: creates
      unarchive: { src: "${made}/app.tar.gz", dest: "{{ root }}/created", creates: "{{ root }}/created/marker" }
    - name: dest missing
      unarchive: { src: "${made}/app.zip", dest: "{{ root }}/nowhere" }
      ignore_errors: true
`,
    attrOnly: -1,
  });
  t.same(statuses, ['changed', 'changed', 'changed', 'changed', 'changed', 'skipped', 'failed']);
  // A file changed on disk, one whose mode changed, one removed: each makes its task unpack again.
  writeFileSync(join(roots.kplay, 'zip/app-1.0/README'), 'edited by hand\n');
  chmodSync(join(roots.kplay, 'gz/app-1.0/bin/app'), 0o700);
  rmSync(join(roots.kplay, 'strip/README'));
  const again = await kplayRun(project, roots.kplay);
  t.same(again.statuses.slice(0, 4), ['changed', 'changed', 'ok', 'changed'], 'drift is found and repaired');
  t.equal(readFileSync(join(roots.kplay, 'zip/app-1.0/README'), 'utf8'), 'read me\n');
  t.equal(statSync(join(roots.kplay, 'gz/app-1.0/bin/app')).mode & 0o7777, 0o755);
  t.same(
    (results[0].files as string[]).sort(),
    ['app-1.0/', 'app-1.0/README', 'app-1.0/bin/', 'app-1.0/bin/app', 'app-1.0/run', 'app-1.0/secret.key', 'app-1.0/share/', 'app-1.0/share/doc/', 'app-1.0/share/doc/notes.txt'],
    'list_files',
  );
});
