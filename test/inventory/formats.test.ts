// Ansible's two inventory formats, YAML and INI: hosts, ranges, ports, children, vars and INI value parsing.
import t from 'tap';
import { loadInventory } from '../../engine/inventory/inventory.ts';

t.test('YAML: hosts, nested children, vars, top-level groups, string shortcuts', async (t) => {
  const dir = t.testdir({
    'hosts.yml': `
all:
  hosts:
    jump: {ansible_host: 198.51.100.1}
  children:
    k8s:
      children:
        etcd:
          hosts:
            etcd[1:3]:
        workers:
          hosts:
            w[01:02]:2201:
              ansible_user: ops
          vars:
            pods: 110
databases:
  hosts: pg1
  children: replicas
replicas:
  hosts:
    pg2:
    "[2001:db8::5]:2222":
empty_group:
`,
  });
  const inv = loadInventory([`${dir}/hosts.yml`]);
  t.same([...inv.hosts.keys()], ['jump', 'etcd1', 'etcd2', 'etcd3', 'w01', 'w02', 'pg1', 'pg2', '2001:db8::5']);
  t.same(inv.hostVars('w02'), { pods: 110, ansible_port: 2201, ansible_user: 'ops' });
  t.same(inv.hostVars('2001:db8::5'), { ansible_port: 2222 });
  t.same(inv.groupsMap().k8s, ['etcd1', 'etcd2', 'etcd3', 'w01', 'w02']);
  t.same(inv.groupsMap().databases, ['pg1', 'pg2', '2001:db8::5']);
  t.same(inv.groupsMap().empty_group, []);
  t.same(inv.groupsMap().ungrouped, ['jump']);
  t.same(inv.groupNames('pg2'), ['databases', 'replicas']);
  t.same(inv.groupNames('etcd2'), ['etcd', 'k8s']);
});

t.test('INI: sections, ranges, ports, comments, children declared later', async (t) => {
  const dir = t.testdir({
    'hosts.ini': `# leading comment
solo ansible_host=203.0.113.9

[k8s:children]
controllers
workers   # comment after a child

[controllers]
ctl[a:c] ansible_user=root
; a semicolon comment

[workers]
node[08:10] ansible_port=2222
node[1:5:2]:2200
[k8s:vars]
cluster = lab
`,
  });
  const inv = loadInventory([`${dir}/hosts.ini`]);
  t.same([...inv.hosts.keys()], ['solo', 'ctla', 'ctlb', 'ctlc', 'node08', 'node09', 'node10', 'node1', 'node3', 'node5']);
  t.same(inv.groupsMap().ungrouped, ['solo']);
  t.same(inv.groupsMap().k8s, ['ctla', 'ctlb', 'ctlc', 'node08', 'node09', 'node10', 'node1', 'node3', 'node5']);
  t.same(inv.hostVars('ctlb'), { cluster: 'lab', ansible_user: 'root' });
  t.same(inv.hostVars('node3'), { cluster: 'lab', ansible_port: 2200 });
  t.same(inv.hostVars('node09'), { cluster: 'lab', ansible_port: 2222 });
});

t.test('INI values follow Python literal rules (as Ansible), quotes follow the shell', async (t) => {
  const dir = t.testdir({
    hosts: `[web]
h1 int=42 neg=-7 hex=0x1F float=1.5 exp=1e3 t=True f=False none=None yes_word=yes mode=0644 ip=10.0.0.1 list=[1,2] tuple=80,443 empty=
h2 spaced="hello world" single='it is' escaped=a\\ b joined=pre"fix"post dq="say \\"hi\\"" hash=a#b dropped=1
[web:vars]
s1 = 'quoted in vars'
s2 = "42"
d = {'a': [1, 2.5, None], "b": {"c": True}}
raw = some text # not a Python literal: kept, comment and all
py_comment = 12 # a Python comment after a literal
set = {1, 2}
no_comma = {'a': 1 'b': 2}
`,
  });
  const inv = loadInventory([`${dir}/hosts`]);
  t.same(inv.hostVars('h1'), {
    s1: 'quoted in vars',
    s2: '42',
    d: { a: [1, 2.5, null], b: { c: true } },
    raw: 'some text # not a Python literal: kept, comment and all',
    py_comment: 12,
    set: [1, 2],
    no_comma: "{'a': 1 'b': 2}",
    int: 42,
    neg: -7,
    hex: 31,
    float: 1.5,
    exp: 1000,
    t: true,
    f: false,
    none: null,
    yes_word: 'yes',
    mode: '0644',
    ip: '10.0.0.1',
    list: [1, 2],
    tuple: [80, 443],
    empty: '',
  });
  const h2 = inv.hostVars('h2');
  t.equal(h2.spaced, 'hello world');
  t.equal(h2.single, 'it is');
  t.equal(h2.escaped, 'a b');
  t.equal(h2.joined, 'prefixpost');
  t.equal(h2.hash, 'a', '# starts a comment even inside a word, as shlex does');
  t.equal(h2.dq, 'say "hi"');
  t.equal(h2.dropped, undefined, 'what follows the # is a comment');
});

t.test('a file without extension is YAML when it reads as a map, else INI', async (t) => {
  const dir = t.testdir({ inv: { 'a-yaml': 'all:\n  hosts:\n    y1:\n', 'b-ini': 'i1\ni2 x=1\n' } });
  const inv = loadInventory([`${dir}/inv`]);
  t.same([...inv.hosts.keys()], ['y1', 'i1', 'i2']);
  t.same(inv.hostVars('i2'), { x: 1 });
});

t.test('a host in several groups and sources: vars merge key by key, later wins', async (t) => {
  const dir = t.testdir({
    'a.yml': 'all:\n  children:\n    web:\n      hosts:\n        h1: {a: 1, b: {deep: 1}}\n',
    'b.ini': '[db]\nh1 b="{\'other\': 2}" c=3\n',
  });
  const inv = loadInventory([`${dir}/a.yml`, `${dir}/b.ini`]);
  t.same(inv.hostVars('h1'), { a: 1, b: { other: 2 }, c: 3 }, 'dicts are replaced, not merged');
  t.same(inv.groupNames('h1'), ['db', 'web']);
});

t.test('an empty inventory still has all and ungrouped', async (t) => {
  const dir = t.testdir({ 'empty.yml': '', 'comments.ini': '# nothing\n' });
  const inv = loadInventory([`${dir}/empty.yml`, `${dir}/comments.ini`]);
  t.same(inv.groupsMap(), { all: [], ungrouped: [] });
  t.same(loadInventory([]).groupsMap(), { all: [], ungrouped: [] });
});
