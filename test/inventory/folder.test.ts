// A folder inventory (fixtures/cluster): YAML + INI files merged, non-inventory files skipped, group_vars/host_vars
// files and folders beside it, and a playbook folder whose group_vars/host_vars win.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../engine/inventory/inventory.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const cluster = `${fixtures}cluster`;

t.test('loads every inventory file of a folder and skips the rest', async (t) => {
  const inv = loadInventory([cluster]);
  // README.md, hosts.retry and the hidden file are not read (the hidden one is not even valid YAML).
  t.same([...inv.hosts.keys()], ['bastion', 'ctrl1', 'ctrl2', 'ctrl3', 'nodea', 'nodeb', 'node-c', 'gw1']);
  t.same(inv.groupsMap(), {
    all: ['bastion', 'ctrl1', 'ctrl2', 'ctrl3', 'nodea', 'nodeb', 'node-c', 'gw1'],
    ungrouped: ['bastion'],
    k8s: ['ctrl1', 'ctrl2', 'ctrl3', 'nodea', 'nodeb', 'node-c'],
    controllers: ['ctrl1', 'ctrl2', 'ctrl3'],
    workers: ['nodea', 'nodeb', 'node-c'],
    edge: ['gw1'],
  });
  t.same(inv.groups.get('k8s')?.children, ['controllers', 'workers']);
  t.same(inv.groups.get('all')?.children, ['k8s', 'ungrouped', 'edge'], 'written children first, then top-level groups');
  t.same(inv.groupNames('node-c'), ['k8s', 'workers']);
  t.same(inv.groupNames('bastion'), ['ungrouped']);
  t.same(inv.sources, [cluster]);
});

t.test('vars from the files, group_vars (file, no extension, folder) and host_vars', async (t) => {
  const inv = loadInventory([cluster]);
  t.same(inv.hostVars('ctrl1'), {
    cluster_name: 'lab',
    level: 'k8s-file',
    etcd: true,
    ntp: 'pool.ntp.org',
    from_all_dir: 'inventory',
    kube_version: '1.31.0',
    order: 'second', // group_vars/k8s/20-override.yaml is read after 10-main.yml
    apiserver_port: 6443,
    ansible_user: 'root', // host_vars/ctrl1.yml beats the inventory file's host vars
    node_ip: '10.0.0.1',
  });
  t.same(inv.hostVars('node-c'), {
    cluster_name: 'lab',
    level: 'k8s-file',
    runtime: 'containerd',
    ntp: 'pool.ntp.org',
    from_all_dir: 'inventory',
    kube_version: '1.31.0',
    order: 'second',
    ansible_host: '192.0.2.30',
    pods: 110,
  });
});

t.test('group_vars and host_vars beside the playbook override the inventory ones', async (t) => {
  const inv = loadInventory([cluster], { playbookDir: `${fixtures}playbook` });
  const vars = inv.hostVars('ctrl1');
  t.equal(vars.kube_version, '1.32.1');
  t.equal(vars.node_ip, '10.9.9.9');
  t.equal(vars.from_all_dir, 'playbook');
  t.equal(vars.order, 'second', 'keys the playbook files do not set stay');
  t.equal(inv.hostVars('gw1').from_all_dir, 'playbook');
  t.equal(inv.hostVars('gw1').kube_version, undefined, 'k8s vars only reach k8s hosts');
});

t.test('a single file source reads group_vars beside the file', async (t) => {
  const inv = loadInventory([`${cluster}/20-extra.ini`]);
  t.same([...inv.hosts.keys()], ['node-c']);
  t.same(inv.hostVars('node-c'), {
    runtime: 'containerd',
    ntp: 'pool.ntp.org',
    from_all_dir: 'inventory',
    ansible_host: '192.0.2.30',
    pods: 110,
  });
});

t.test('several sources merge; a comma list is a source too', async (t) => {
  const inv = loadInventory([`${cluster}/20-extra.ini`, `${cluster}/sub/edge`, 'extra1,extra2,']);
  t.same([...inv.hosts.keys()], ['node-c', 'gw1', 'extra1', 'extra2']);
  t.same(inv.select('ungrouped'), ['extra1', 'extra2']);
  t.same(inv.sources, [`${cluster}/20-extra.ini`, `${cluster}/sub/edge`, 'extra1,extra2,']);
});
