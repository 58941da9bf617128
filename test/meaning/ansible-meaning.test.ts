// Where kplay used to give a different result from Ansible without an error, checked against ansible-playbook 2.14
// (test/files-modules/oracle.ts): copy and template to a link that points at a directory write inside the directory;
// a Latin-1 (not UTF-8) template is written with its own bytes; a link to a file is replaced by the file.

import t from 'tap';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareWithAnsible } from '../files-modules/oracle.ts';

const LATIN1 = Buffer.from('café {{ word }} naïve\n', 'latin1');

t.test('links to directories and Latin-1 templates, as Ansible', async (t) => {
  const { roots } = await compareWithAnsible(t, {
    setup: (root) => {
      mkdirSync(join(root, 'real'));
      symlinkSync('real', join(root, 'to-dir'));
      writeFileSync(join(root, 'target.txt'), 'old\n');
      symlinkSync('target.txt', join(root, 'to-file'));
    },
    project: { 'files/data.txt': 'data\n', 'templates/page.j2': 'page {{ 1 + 1 }}\n' },
    projectSetup: (project) => writeFileSync(join(project, 'templates/latin.j2'), LATIN1),
    tasks: `
    - copy: { src: data.txt, dest: "{{ root }}/to-dir" }
    - template: { src: page.j2, dest: "{{ root }}/to-dir" }
    - template: { src: latin.j2, dest: "{{ root }}/latin.txt" }
      vars: { word: "été" }
    - copy: { content: "new\\n", dest: "{{ root }}/to-file" }
`,
  });
  // What the oracle compared, said plainly: inside the directory, and the template's bytes kept.
  t.equal(readFileSync(join(roots.kplay, 'real/data.txt'), 'utf8'), 'data\n');
  t.equal(readFileSync(join(roots.kplay, 'real/page.j2'), 'utf8'), 'page 2\n');
  t.same(readFileSync(join(roots.kplay, 'latin.txt')), Buffer.concat([Buffer.from('caf\xe9 ', 'latin1'), Buffer.from('été'), Buffer.from(' na\xefve\n', 'latin1')]));
});
