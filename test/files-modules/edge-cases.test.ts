// More edge cases of the editing modules against Ansible 2.14 (oracle.ts): Python named groups in backrefs, a
// whole-file (?m) anchor for blockinfile, a byte order mark and an empty file for ini_file, non-UTF-8 bytes.

import t from 'tap';
import { writeFileSync } from 'node:fs';
import { compareWithAnsible } from './oracle.ts';

t.test('edge cases agree with Ansible', async (t) => {
  await compareWithAnsible(t, {
    setup: (root) => {
      writeFileSync(`${root}/named`, 'key: value\nname: old\n');
      writeFileSync(`${root}/multi`, 'a\nstart\nb\nend\n');
      writeFileSync(`${root}/bom.ini`, '\uFEFF[s]\nk = 1\n');
      writeFileSync(`${root}/empty.ini`, '');
      writeFileSync(`${root}/latin1`, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x78, 0x0a]));
      writeFileSync(`${root}/spaces.ini`, '[s]\n  k\t=  1\n;k = 2\n');
    },
    tasks: `
    - name: named group backrefs
      lineinfile: { path: "{{ root }}/named", regexp: '^name: (?P<v>\\w+)$', line: 'name: \\g<v>-new', backrefs: true }
    - name: blockinfile with a multiline pattern
      blockinfile: { path: "{{ root }}/multi", block: "inside", insertafter: '(?m)^start$' }
    - name: ini_file with a byte order mark
      ini_file: { path: "{{ root }}/bom.ini", section: s, option: k, value: "2" }
    - name: ini_file on an empty file
      ini_file: { path: "{{ root }}/empty.ini", section: s, option: k, value: "1" }
    - name: non-UTF-8 bytes pass through
      lineinfile: { path: "{{ root }}/latin1", regexp: '^x$', line: 'y' }
    - name: ini_file spacing and a commented duplicate
      ini_file: { path: "{{ root }}/spaces.ini", section: s, option: k, value: "1" }
    - name: replace with nothing
      replace: { path: "{{ root }}/multi", regexp: '^b\\n' }
`,
  });
});
