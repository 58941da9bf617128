// Symbolic modes (u+rwX,g-w,o=) against Ansible 2.14: file (one path, new paths, recurse with X), copy, lineinfile;
// each computed against the path's current mode as Ansible and chmod do (oracle.ts).

import t from 'tap';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareWithAnsible } from './oracle.ts';
import { symbolicToOctal } from '../../engine/modules/file-attrs.ts';

t.test('symbolic modes agree with Ansible', async (t) => {
  await compareWithAnsible(t, {
    setup: (root) => {
      writeFileSync(join(root, 'plain'), 'p\n');
      chmodSync(join(root, 'plain'), 0o640);
      writeFileSync(join(root, 'script'), 's\n');
      chmodSync(join(root, 'script'), 0o744);
      mkdirSync(join(root, 'tree/sub'), { recursive: true });
      writeFileSync(join(root, 'tree/f'), 'f\n');
      writeFileSync(join(root, 'tree/sub/x'), 'x\n');
      chmodSync(join(root, 'tree/sub/x'), 0o700);
      chmodSync(join(root, 'tree/sub'), 0o700);
      writeFileSync(join(root, 'edit'), 'a\n');
    },
    tasks: `
    - name: add and remove
      file: { path: "{{ root }}/plain", mode: 'u+x,g-r,o+r' }
    - name: X on a file with an execute bit
      file: { path: "{{ root }}/script", mode: 'go+rX' }
    - name: equals and empty
      file: { path: "{{ root }}/plain", mode: 'u=rw,g=,o=' }
    - name: a new folder
      file: { path: "{{ root }}/newdir", state: directory, mode: 'u=rwx,g=rx,o=' }
    - name: a new file by touch
      file: { path: "{{ root }}/touched", state: touch, mode: 'a+w' }
    - name: recurse with X
      file: { path: "{{ root }}/tree", state: directory, recurse: true, mode: 'u+rwX,g+rX,o-rwx' }
    - name: copy content
      copy: { content: "c\\n", dest: "{{ root }}/copied", mode: 'u=rw,g=r' }
    - name: lineinfile
      lineinfile: { path: "{{ root }}/edit", line: b, mode: 'g+w' }
    - name: setgid and sticky
      file: { path: "{{ root }}/newdir", mode: 'g+s,o+t' }
`,
    attrOnly: -1,
  });
});

t.test('symbolicToOctal follows chmod on the usual forms', async (t) => {
  t.equal(symbolicToOctal('u+rwX,g-w,o=', 0o664, false), 0o640);
  t.equal(symbolicToOctal('u+rwX,g-w,o=', 0o664, true), 0o740);
  t.equal(symbolicToOctal('a+X', 0o644, false), 0o644);
  t.equal(symbolicToOctal('a+X', 0o744, false), 0o755);
  t.equal(symbolicToOctal('g=u', 0o750, false), 0o770);
  t.equal(symbolicToOctal('+x', 0o644, false), 0o755);
  t.equal(symbolicToOctal('u=rw-x+X', 0o755, true), 0o755);
});
