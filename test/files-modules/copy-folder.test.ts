// copy of a folder against Ansible 2.14: `src: dir` and `src: dir/`, modes, directory_mode, an existing target with
// one changed file; trees compared byte for byte (oracle.ts).

import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareWithAnsible } from './oracle.ts';

t.test('copy of a folder agrees with Ansible', async (t) => {
  const { roots } = await compareWithAnsible(t, {
    projectSetup: (project) => {
      const conf = join(project, 'files/conf');
      mkdirSync(join(conf, 'sub/deep'), { recursive: true });
      mkdirSync(join(conf, 'empty'));
      writeFileSync(join(conf, 'a.conf'), 'a=1\n');
      writeFileSync(join(conf, 'run.sh'), '#!/bin/sh\n');
      chmodSync(join(conf, 'run.sh'), 0o755);
      writeFileSync(join(conf, 'sub/b.conf'), 'b=2\n');
      writeFileSync(join(conf, 'sub/deep/c.conf'), 'c=3\n');
      // Larger than the streaming threshold: hashed and sent as a stream, never read whole.
      writeFileSync(join(conf, 'sub/big.bin'), Buffer.alloc(3 * 1024 * 1024 + 7, 'kplay '));
      symlinkSync('a.conf', join(conf, 'link.conf'));
    },
    setup: (root) => {
      mkdirSync(join(root, 'existing/conf/sub'), { recursive: true });
      writeFileSync(join(root, 'existing/conf/a.conf'), 'old\n');
      writeFileSync(join(root, 'existing/conf/sub/b.conf'), 'b=2\n');
      chmodSync(join(root, 'existing/conf/sub/b.conf'), 0o600);
      writeFileSync(join(root, 'existing/conf/extra'), 'stays\n');
      writeFileSync(join(root, 'existing/conf/sub/big.bin'), Buffer.alloc(3 * 1024 * 1024 + 7, 'other '));
    },
    tasks: `
    - name: the folder itself
      copy: { src: conf, dest: "{{ root }}/itself" }
    - name: its content, trailing slash, modes
      copy: { src: conf/, dest: "{{ root }}/content/", mode: 'u=rw,go=r', directory_mode: '0750' }
    - name: into an existing tree
      copy: { src: conf, dest: "{{ root }}/existing" }
    - name: symbolic mode on files
      copy: { src: conf/, dest: "{{ root }}/sym", mode: 'u+rwX,g+rX,o-rwx' }
`,
    // Ansible shows no diff for a folder copy; kplay shows each file: counted, not compared.
    attrOnly: -1,
  });
  const mode = (p: string): string => (statSync(join(roots.kplay, p)).mode & 0o7777).toString(8);
  t.equal(readFileSync(join(roots.kplay, 'itself/conf/sub/deep/c.conf'), 'utf8'), 'c=3\n');
  t.equal(readFileSync(join(roots.kplay, 'itself/conf/link.conf'), 'utf8'), 'a=1\n', 'a link is copied as the file it points to');
  t.ok(statSync(join(roots.kplay, 'content/empty')).isDirectory(), 'empty folders are made');
  t.same([mode('content/sub'), mode('content/a.conf'), mode('sym/run.sh'), mode('sym/a.conf')], ['750', '644', '640', '640'], 'a new file starts from 0644, the mode of the source is not kept, as in Ansible');
  t.equal(readFileSync(join(roots.kplay, 'existing/conf/extra'), 'utf8'), 'stays\n');
  t.same(readFileSync(join(roots.kplay, 'existing/conf/sub/big.bin')), Buffer.alloc(3 * 1024 * 1024 + 7, 'kplay '), 'a large file that differed is replaced whole');
});
