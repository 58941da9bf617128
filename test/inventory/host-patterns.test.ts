// Every host pattern form, --limit (with @file), and the implicit localhost.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { loadInventory, type Inventory } from '../../engine/inventory/inventory.ts';
import { selectHosts, selectWithLimit, splitHostPattern } from '../../engine/inventory/patterns.ts';

const INI = `bastion
10.0.0.5
[web]
web1
web2
web3
[db]
db1
db2
[staging]
web3
db2
[app:children]
web
db
`;

function inventory(t: Test, text = INI): Inventory {
  const dir = t.testdir({ hosts: text });
  return loadInventory([`${dir}/hosts`]);
}

t.test('names, groups, all and *', async (t) => {
  const inv = inventory(t);
  t.same(inv.select('all'), ['bastion', '10.0.0.5', 'web1', 'web2', 'web3', 'db1', 'db2']);
  t.same(inv.select('*'), inv.select('all'));
  t.same(inv.select('web2'), ['web2']);
  t.same(inv.select('10.0.0.5'), ['10.0.0.5']);
  t.same(inv.select('db'), ['db1', 'db2']);
  t.same(inv.select('app'), ['web1', 'web2', 'web3', 'db1', 'db2'], 'a group means every host below it');
  t.same(inv.select('ungrouped'), ['bastion', '10.0.0.5']);
  t.same(selectHosts(inv, 'web'), inv.select('web'));
});

t.test('union, exclusion, intersection; result in inventory order', async (t) => {
  const inv = inventory(t);
  t.same(inv.select('db:web'), ['web1', 'web2', 'web3', 'db1', 'db2'], 'inventory order, not pattern order');
  t.same(inv.select('db1,bastion'), ['bastion', 'db1']);
  t.same(inv.select(' web , db1 '), ['web1', 'web2', 'web3', 'db1']);
  t.same(inv.select('app:!staging'), ['web1', 'web2', 'db1']);
  t.same(inv.select('app:&staging'), ['web3', 'db2']);
  t.same(inv.select('!staging:web'), ['web1', 'web2'], 'exclusions apply after every union, wherever they are written');
  t.same(inv.select('!staging'), ['bastion', '10.0.0.5', 'web1', 'web2', 'db1'], 'only exclusions: from all');
  t.same(inv.select('&staging'), ['web3', 'db2']);
  t.same(inv.select('web:db:&staging:!db2'), ['web3']);
  t.same(inv.select('web,db,&staging,!web3'), ['db2']);
});

t.test('wildcards and regexes match groups and hosts', async (t) => {
  const inv = inventory(t);
  t.same(inv.select('web*'), ['web1', 'web2', 'web3']);
  t.same(inv.select('*2'), ['web2', 'db2']);
  t.same(inv.select('web?'), ['web1', 'web2', 'web3']);
  t.same(inv.select('db[!1]'), ['db2'], 'an fnmatch character class');
  t.same(inv.select('10.0.0.*'), ['10.0.0.5']);
  t.same(inv.select('st*'), ['web3', 'db2'], 'a wildcard matching a group name takes its hosts');
  t.same(inv.select('~(web|db)[12]'), ['web1', 'web2', 'db1', 'db2']);
  t.same(inv.select('~web'), ['web1', 'web2', 'web3'], 'a regex is anchored at the start only');
  t.same(inv.select('~eb'), []);
});

t.test('subscripts pick hosts by position (ranges inclusive)', async (t) => {
  const inv = inventory(t);
  t.same(inv.select('app[0]'), ['web1']);
  t.same(inv.select('app[-1]'), ['db2']);
  t.same(inv.select('app[1:3]'), ['web2', 'web3', 'db1']);
  t.same(inv.select('app[3:]'), ['db1', 'db2']);
  t.same(inv.select('app[9]'), [], 'past the end matches nothing');
  t.same(inv.select('web[0]:db[-1]'), ['web1', 'db2']);
  t.same(inv.select('app:!app[0:3]'), ['db2']);
});

t.test('unknown names match nothing', async (t) => {
  const inv = inventory(t);
  t.same(inv.select('nope'), []);
  t.same(inv.select('nope:web1'), ['web1']);
  t.same(inv.select(''), inv.select('all'), 'an empty pattern has no regular part: all');
});

t.test('splitting keeps ranges and IPv6 addresses whole', async (t) => {
  t.same(splitHostPattern('web[0:2]:db'), ['web[0:2]', 'db']);
  t.same(splitHostPattern('fe80::1'), ['fe80::1']);
  t.same(splitHostPattern('a:!b:&c'), ['a', '!b', '&c']);
  t.same(splitHostPattern('a,b:c'), ['a', 'b', 'c']);
});

t.test('--limit, also from a file of host names (@file)', async (t) => {
  const inv = inventory(t);
  const dir = t.testdir({});
  writeFileSync(`${dir}/failed`, 'web2\n\ndb1\n');
  t.same(selectWithLimit(inv, 'app', 'staging'), ['web3', 'db2']);
  t.same(selectWithLimit(inv, 'app', `@${dir}/failed`), ['web2', 'db1']);
  t.same(selectWithLimit(inv, 'web', `bastion,@${dir}/failed`), ['web2']);
  t.same(selectWithLimit(inv, 'app'), inv.select('app'));
  t.throws(() => inv.select(`@${dir}/missing`), { name: 'InputError', message: new RegExp(`^cannot read host list ${dir}/missing: `) });
});

t.test('implicit localhost: usable by name, local connection, never in all', async (t) => {
  const dir = t.testdir({ hosts: 'web1\n[web]\nweb2\n', group_vars: { 'all.yml': 'ntp: pool\n', 'web.yml': 'role: web\n' }, host_vars: { localhost: 'extra: 1\n' } });
  const inv = loadInventory([`${dir}/hosts`]);
  t.same(inv.select('localhost'), ['localhost']);
  t.same(inv.select('127.0.0.1'), ['127.0.0.1']);
  t.same(inv.select('web:localhost'), ['web2', 'localhost'], 'implicit localhost comes after listed hosts');
  t.same(inv.select('all'), ['web1', 'web2']);
  t.same(inv.select('local*'), [], 'only the exact name reaches the implicit localhost');
  t.ok(inv.has('localhost'));
  t.notOk(inv.has('web9'));
  t.notOk(inv.hosts.has('localhost'));
  t.same(inv.hostVars('localhost'), { ntp: 'pool', ansible_connection: 'local', extra: 1 });
  t.same(inv.groupNames('localhost'), []);
  t.notOk(inv.groupsMap().all.includes('localhost'));
});

t.test('a localhost the inventory lists is an ordinary host', async (t) => {
  const inv = inventory(t, '[ctl]\nlocalhost ansible_connection=ssh\n');
  t.same(inv.select('all'), ['localhost']);
  t.same(inv.hostVars('localhost'), { ansible_connection: 'ssh' });
  t.same(inv.groupNames('localhost'), ['ctl']);
});
