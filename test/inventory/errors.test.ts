// Bad inventories: each is one InputError whose message starts with the file:line:col of the mistake.
import t, { type Test } from 'tap';
import { loadInventory } from '../../engine/inventory/inventory.ts';
import { InputError } from '../../engine/core/source.ts';
import { displayPath } from '../../engine/core/yaml.ts';

type Files = Record<string, string | Record<string, string>>;

/**
 * Load `files` (the inventory source is the first file unless `source` is given) and check the one error it gives:
 * `<failing file>:<line>:<col>: <message>`, the failing file being the source unless `failing` names another.
 */
function rejects(t: Test, files: Files, line: number, col: number, message: string, paths: { source?: string; failing?: string } = {}): void {
  const dir = t.testdir(files);
  const source = paths.source ?? Object.keys(files)[0];
  const error = captureError(() => loadInventory([`${dir}/${source}`]));
  t.type(error, InputError);
  t.equal(error?.message, `${displayPath(`${dir}/${paths.failing ?? source}`)}:${line}:${col}: ${message}`);
}

function captureError(fn: () => unknown): Error | undefined {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

t.test('YAML: syntax error', async (t) => {
  rejects(t, { 'hosts.yml': 'all:\n  hosts:\n    web1: a: b\n' }, 3, 11, 'YAML syntax error: Nested mappings are not allowed in compact mappings');
});

t.test('YAML: hosts written as a list', async (t) => {
  rejects(
    t,
    { 'hosts.yml': 'all:\n  children:\n    web:\n      hosts:\n        - web1\n        - web2\n' },
    5,
    9,
    'hosts of group "web" must be a map of host names (each "name:" on its own line, vars under it), got a list',
  );
});

t.test('YAML: unknown key in a group', async (t) => {
  rejects(t, { 'hosts.yml': 'all:\n  children:\n    web:\n      host:\n        web1:\n' }, 4, 7, 'unknown key "host" in group "web" (a group has only hosts, children and vars)');
});

t.test('YAML: host vars that are not a map, group vars that are a list', async (t) => {
  rejects(t, { 'hosts.yml': 'all:\n  hosts:\n    web1: 5\n' }, 3, 11, 'vars of host "web1" must be a map, got a number');
  rejects(t, { 'hosts.yml': 'all:\n  hosts:\n    h1:\n  vars: [a, b]\n' }, 4, 9, 'vars of group "all" must be a map, got a list');
});

t.test('YAML: a group that is its own ancestor', async (t) => {
  rejects(
    t,
    { 'hosts.yml': 'all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n' },
    7,
    13,
    'group "a" cannot be a child of "b": "b" is already below "a", which makes a cycle',
  );
});

t.test('YAML: a bad range, an inventory plugin config', async (t) => {
  rejects(t, { 'hosts.yml': 'all:\n  hosts:\n    node[c:a]:\n' }, 3, 5, 'bad host range in "node[c:a]": "c" comes after "a"');
  rejects(t, { 'aws.yml': 'plugin: aws_ec2\n' }, 1, 1, 'inventory plugin configurations are not supported: list hosts and groups instead');
});

t.test('a file without extension that starts like YAML gets its YAML error', async (t) => {
  rejects(t, { hosts: '# cluster\nall:\n  hosts:\n    web1: a: b\n' }, 4, 11, 'YAML syntax error: Nested mappings are not allowed in compact mappings');
});

t.test('INI: a host variable without =, at the bad token', async (t) => {
  rejects(t, { 'hosts.ini': '[web]\nweb1 ansible_user=ops  oops\n' }, 2, 24, 'expected key=value host variable, got "oops"');
});

t.test('INI: bad sections', async (t) => {
  rejects(t, { 'hosts.ini': '[web servers]\nh1\n' }, 1, 1, 'invalid section "[web servers]": expected [group], [group:vars] or [group:children], with no spaces');
  rejects(t, { 'hosts.ini': '[web:child]\nh1\n' }, 1, 6, 'section [web:child] has an unknown type "child" (expected vars or children)');
});

t.test('INI: children and vars of undeclared groups', async (t) => {
  rejects(t, { 'hosts.ini': '[k8s:children]\nweb\n  db\n[web]\nh1\n' }, 3, 3, '[k8s:children] names group "db", which is not declared in this file (add a [db] section)');
  rejects(t, { 'hosts.ini': '[web]\nh1\n[dbs:vars]\nx=1\n' }, 3, 1, '[dbs:vars] is for group "dbs", which is not declared in this file (add a [dbs] section)');
});

t.test('INI: a cycle through three groups', async (t) => {
  rejects(t, { 'hosts.ini': '[a:children]\nb\n[b:children]\nc\n[c:children]\na\n' }, 6, 1, 'group "a" cannot be a child of "c": "c" is already below "a", which makes a cycle');
});

t.test('INI: ranges that do not parse, an unclosed quote, a missing port', async (t) => {
  rejects(t, { 'hosts.ini': '[web]\n  web[1:x] a=1\n' }, 2, 3, 'bad host range in "web[1:x]": "1:x" is neither a number range nor a letter range');
  rejects(t, { 'hosts.ini': '[web]\nweb[01:5]\n' }, 2, 1, 'bad host range in "web[01:5]": a zero-padded range needs begin and end of the same width');
  rejects(t, { 'hosts.ini': 'web[1:3:0]\n' }, 1, 1, 'bad host range in "web[1:3:0]": step "0" is not a positive integer');
  rejects(t, { 'hosts.ini': '[web]\nh1 motd="unterminated\n' }, 2, 9, 'no closing quotation for the " opened here');
  rejects(t, { 'hosts.ini': '[web]\n\nh1:\n' }, 3, 1, 'host "h1:" ends in ":" with no port');
});

t.test('group_vars/host_vars files: not a map, bad YAML', async (t) => {
  const gv = { hosts: 'h1\n', group_vars: { 'all.yml': '- a\n- b\n' } };
  rejects(t, gv, 1, 1, 'a vars file must be a map of variable names to values, got a list', { failing: 'group_vars/all.yml' });
  const hv = { hosts: 'h1\n', host_vars: { h1: 'a: 1\nb: c: d\n' } };
  rejects(t, hv, 2, 4, 'YAML syntax error: Nested mappings are not allowed in compact mappings', { failing: 'host_vars/h1' });
});

t.test('a missing inventory path is named', async (t) => {
  const error = captureError(() => loadInventory(['/nonexistent/inventory.yml']));
  t.type(error, InputError);
  t.equal(error?.message, 'inventory not found: /nonexistent/inventory.yml');
});
