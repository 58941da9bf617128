// blockinfile, replace and ini_file against Ansible 2.14: the same playbook through both, trees compared (oracle.ts).

import t from 'tap';
import { writeFileSync } from 'node:fs';
import { compareWithAnsible } from './oracle.ts';

t.test('blockinfile agrees with Ansible', async (t) => {
  const { statuses } = await compareWithAnsible(t, {
    setup: (root) => {
      writeFileSync(`${root}/hosts`, '127.0.0.1 localhost\n');
      writeFileSync(`${root}/update`, 'a\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\nb\n');
      writeFileSync(`${root}/dupmarkers`, '# BEGIN ANSIBLE MANAGED BLOCK\none\n# END ANSIBLE MANAGED BLOCK\nmid\n# BEGIN ANSIBLE MANAGED BLOCK\ntwo\n# END ANSIBLE MANAGED BLOCK\n');
      writeFileSync(`${root}/nonl`, 'no newline');
      writeFileSync(`${root}/after`, '[main]\nx=1\n[other]\ny=2\n');
      writeFileSync(`${root}/remove`, 'keep\n<!-- BEGIN web -->\nzap\n<!-- END web -->\n');
      writeFileSync(`${root}/empty`, '');
    },
    tasks: `
    - name: insert at EOF
      blockinfile: { path: "{{ root }}/hosts", block: "10.0.0.1 a\\n10.0.0.2 b" }
    - name: update between markers
      blockinfile: { path: "{{ root }}/update", block: "new1\\nnew2\\n" }
    - name: duplicate markers
      blockinfile: { path: "{{ root }}/dupmarkers", block: "three" }
    - name: missing trailing newline
      blockinfile: { path: "{{ root }}/nonl", block: "blk" }
    - name: insertafter a pattern, custom marker
      blockinfile: { path: "{{ root }}/after", block: "z=9", insertafter: '^\\[main\\]', marker: "; {mark} kplay", marker_begin: start, marker_end: stop }
    - name: insertbefore BOF
      blockinfile: { path: "{{ root }}/after", block: "top", insertbefore: BOF, marker: "# {mark} top" }
    - name: remove with state absent
      blockinfile: { path: "{{ root }}/remove", marker: "<!-- {mark} web -->", state: absent }
    - name: empty block removes
      blockinfile: { path: "{{ root }}/update", block: "" }
    - name: empty file
      blockinfile: { path: "{{ root }}/empty", block: "e" }
    - name: create false on a missing file
      blockinfile: { path: "{{ root }}/missing", block: "x" }
      ignore_errors: true
    - name: create with mode
      blockinfile: { path: "{{ root }}/sub/created", block: "c", create: true, mode: '0640' }
    - name: backup
      blockinfile: { path: "{{ root }}/hosts", block: "changed", backup: true }
`,
  });
  t.equal(statuses[9], 'failed');
});

t.test('replace agrees with Ansible', async (t) => {
  await compareWithAnsible(t, {
    setup: (root) => {
      writeFileSync(`${root}/conf`, 'host = old.example\nport = 80\n# host = old.example\n');
      writeFileSync(`${root}/section`, 'a=1\n<start>\na=1\na=1\n<end>\na=1\n');
      writeFileSync(`${root}/groups`, 'user alice 1000\nuser bob 1001\n');
      writeFileSync(`${root}/nomatch`, 'nothing here\n');
      writeFileSync(`${root}/crlf`, 'x=1\r\ny=2\r\n');
    },
    tasks: `
    - name: every match
      replace: { path: "{{ root }}/conf", regexp: 'old\\.example', replace: 'new.example' }
    - name: anchored multiline
      replace: { path: "{{ root }}/conf", regexp: '^port = \\d+$', replace: 'port = 8080' }
    - name: between after and before
      replace: { path: "{{ root }}/section", after: '<start>', before: '<end>', regexp: 'a=1', replace: 'a=2' }
    - name: groups and named groups
      replace: { path: "{{ root }}/groups", regexp: '^user (?P<name>\\w+) (\\d+)$', replace: '\\g<name>:\\2' }
    - name: no match
      replace: { path: "{{ root }}/nomatch", regexp: 'zzz', replace: 'y' }
    - name: CRLF
      replace: { path: "{{ root }}/crlf", regexp: '=(\\d)\\r$', replace: '=\\1 \\r', backup: true }
    - name: missing file fails
      replace: { path: "{{ root }}/missing", regexp: 'x' }
      ignore_errors: true
    - name: mode only
      replace: { path: "{{ root }}/nomatch", regexp: 'zzz', mode: 'a-r,u+r' }
`,
    attrOnly: 1,
  });
});

t.test('ini_file agrees with Ansible', async (t) => {
  await compareWithAnsible(t, {
    setup: (root) => {
      writeFileSync(`${root}/app.ini`, '; comment\n[main]\nname = old\n#port = 1\n\n[other]\nx=1\n');
      writeFileSync(`${root}/nonl.ini`, '[s]\na = 1');
      writeFileSync(`${root}/multi.ini`, '[repo]\nurl = a\nurl = b\nurl = c\n');
      writeFileSync(`${root}/global.ini`, 'top = 1\n[s]\nk = v\n');
    },
    tasks: `
    - name: change a value
      ini_file: { path: "{{ root }}/app.ini", section: main, option: name, value: new }
    - name: uncomment an option
      ini_file: { path: "{{ root }}/app.ini", section: main, option: port, value: "8080" }
    - name: new section
      ini_file: { path: "{{ root }}/app.ini", section: added, option: k, value: v, no_extra_spaces: true }
    - name: remove an option
      ini_file: { path: "{{ root }}/app.ini", section: other, option: x, state: absent }
    - name: remove a section
      ini_file: { path: "{{ root }}/app.ini", section: added, state: absent }
    - name: missing trailing newline, same value
      ini_file: { path: "{{ root }}/nonl.ini", section: s, option: a, value: "1" }
    - name: values, exclusive
      ini_file: { path: "{{ root }}/multi.ini", section: repo, option: url, values: [b, d] }
    - name: no section
      ini_file: { path: "{{ root }}/global.ini", section: "", option: top, value: "2" }
    - name: allow_no_value
      ini_file: { path: "{{ root }}/global.ini", section: s, option: flag, allow_no_value: true }
    - name: new file
      ini_file: { path: "{{ root }}/new.ini", section: s, option: o, value: v, mode: '0600' }
    - name: create false
      ini_file: { path: "{{ root }}/none.ini", section: s, option: o, value: v, create: false }
      ignore_errors: true
`,
  });
});
