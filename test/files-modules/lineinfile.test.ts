// lineinfile against Ansible 2.14: the same playbook through both, trees compared byte for byte (oracle.ts).

import t from 'tap';
import { writeFileSync } from 'node:fs';
import { compareWithAnsible } from './oracle.ts';

t.test('lineinfile agrees with Ansible on the tricky cases', async (t) => {
  const { statuses } = await compareWithAnsible(t, {
    setup: (root) => {
      writeFileSync(`${root}/sshd`, '# sshd\nPort 22\n#PermitRootLogin yes\nUsePAM yes\n');
      writeFileSync(`${root}/nomatch`, 'a\nb\nc\n');
      writeFileSync(`${root}/backref`, 'listen 127.0.0.1:80\nother\n');
      writeFileSync(`${root}/present`, 'x=1\ny=2\n');
      writeFileSync(`${root}/nonl`, 'first\nlast');
      writeFileSync(`${root}/crlf`, 'one\r\ntwo\r\n');
      writeFileSync(`${root}/empty`, '');
      writeFileSync(`${root}/dups`, 'k=1\nk=2\nk=3\n');
      writeFileSync(`${root}/absent`, 'keep\ndrop me\nkeep too\ndrop me\n');
      writeFileSync(`${root}/before`, '[a]\nx\n[b]\ny\n');
      writeFileSync(`${root}/search`, 'option foo = old\nbar\n');
      writeFileSync(`${root}/modes`, 'm\n');
    },
    tasks: `
    - name: replace by regexp
      lineinfile: { path: "{{ root }}/sshd", regexp: '^#?PermitRootLogin', line: 'PermitRootLogin no' }
    - name: regexp with no match and insertafter
      lineinfile: { path: "{{ root }}/nomatch", regexp: '^zzz', line: 'inserted', insertafter: '^b' }
    - name: backrefs
      lineinfile: { path: "{{ root }}/backref", regexp: '^listen (\\S+):80$', line: 'listen \\1:8080', backrefs: true }
    - name: backrefs without a match leaves the file
      lineinfile: { path: "{{ root }}/backref", regexp: '^nothing (.*)$', line: 'x \\1', backrefs: true }
    - name: line already present
      lineinfile: { path: "{{ root }}/present", line: 'y=2' }
    - name: missing trailing newline
      lineinfile: { path: "{{ root }}/nonl", line: 'added' }
    - name: CRLF line already there (normalised)
      lineinfile: { path: "{{ root }}/crlf", line: 'two' }
    - name: empty file
      lineinfile: { path: "{{ root }}/empty", line: 'only', insertbefore: BOF }
    - name: create false on a missing file fails
      lineinfile: { path: "{{ root }}/missing", line: 'x' }
      ignore_errors: true
    - name: create true makes folders
      lineinfile: { path: "{{ root }}/new/dir/file", line: 'x', create: true, mode: 'u=rw,g=r,o=' }
    - name: firstmatch
      lineinfile: { path: "{{ root }}/dups", regexp: '^k=', line: 'k=first', firstmatch: true }
    - name: last match by default
      lineinfile: { path: "{{ root }}/dups", regexp: '^k=', line: 'k=last' }
    - name: absent by line
      lineinfile: { path: "{{ root }}/absent", line: 'drop me', state: absent }
    - name: absent on a missing file
      lineinfile: { path: "{{ root }}/nowhere", line: 'x', state: absent }
    - name: insertbefore a pattern
      lineinfile: { path: "{{ root }}/before", line: 'z', insertbefore: '^\\[b\\]' }
    - name: insertafter BOF
      lineinfile: { path: "{{ root }}/before", line: '# top', insertafter: BOF }
    - name: search_string
      lineinfile: { path: "{{ root }}/search", search_string: 'foo =', line: 'option foo = new' }
    - name: insertafter at the last line
      lineinfile: { path: "{{ root }}/search", line: 'after bar', insertafter: '^bar' }
    - name: only the mode changes (symbolic)
      lineinfile: { path: "{{ root }}/modes", line: 'm', mode: 'g+w,o-r' }
    - name: backup and validate
      lineinfile: { path: "{{ root }}/present", line: 'z=3', backup: true, validate: 'grep -q z=3 %s' }
`,
    attrOnly: 1,
  });
  t.equal(statuses[8], 'failed', 'create false on a missing file failed');
});
