// copy of a folder on the host (remote_src) against Ansible 2.14: a new target, an existing one with a changed file
// and one with the same content but another mode (left alone, as Ansible does) (oracle.ts).

import t from 'tap';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareWithAnsible } from './oracle.ts';

t.test('copy of a folder with remote_src agrees with Ansible', async (t) => {
  await compareWithAnsible(t, {
    setup: (root) => {
      mkdirSync(join(root, 'src/sub/deep'), { recursive: true });
      writeFileSync(join(root, 'src/a'), 'a\n');
      writeFileSync(join(root, 'src/run'), '#!/bin/sh\n');
      chmodSync(join(root, 'src/run'), 0o750);
      writeFileSync(join(root, 'src/sub/b'), 'b\n');
      writeFileSync(join(root, 'src/sub/deep/c'), 'c\n');
      chmodSync(join(root, 'src/sub'), 0o700);
      chmodSync(join(root, 'src'), 0o750);
      mkdirSync(join(root, 'existing/src/sub'), { recursive: true });
      writeFileSync(join(root, 'existing/src/a'), 'old\n');
      writeFileSync(join(root, 'existing/src/run'), '#!/bin/sh\n');
      chmodSync(join(root, 'existing/src/run'), 0o700);
      writeFileSync(join(root, 'existing/src/extra'), 'stays\n');
    },
    tasks: `
    - name: the folder itself into a new place
      copy: { src: "{{ root }}/src", dest: "{{ root }}/new", remote_src: true }
    - name: its content
      copy: { src: "{{ root }}/src/", dest: "{{ root }}/content", remote_src: true }
    - name: into an existing tree
      copy: { src: "{{ root }}/src", dest: "{{ root }}/existing", remote_src: true }
`,
    attrOnly: -1,
  });
});
