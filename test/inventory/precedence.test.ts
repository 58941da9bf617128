// Which value a host gets when several inventory layers set the same variable (Ansible's default order).
import t from 'tap';
import { loadInventory } from '../../engine/inventory/inventory.ts';

// top > mid > leaf are nested groups; h1 is in leaf and in side (a top-level group, depth 1).
const tree = (vars: { top?: string; mid?: string; leaf?: string; side?: string; all?: string; host?: string }): string => {
  const v = (value?: string): string => (value ? `\n      vars: {x: ${value}}` : '');
  return `all:${vars.all ? `\n  vars: {x: ${vars.all}}` : ''}
  children:
    top:${v(vars.top)}
      children:
        mid:${v(vars.mid).replace(/\n/g, '\n    ')}
          children:
            leaf:${v(vars.leaf).replace(/\n/g, '\n        ')}
              hosts:
                h1:${vars.host ? ` {x: ${vars.host}}` : ''}
    side:${v(vars.side)}
      hosts:
        h1:
`;
};

t.test('deeper groups win over their parents, whatever the file order', async (t) => {
  const dir = t.testdir({ 'hosts.yml': tree({ all: 'all', top: 'top', mid: 'mid', side: 'side' }) });
  t.equal(loadInventory([`${dir}/hosts.yml`]).hostVars('h1').x, 'mid', 'mid (depth 2) beats top and side (depth 1)');
  const dir2 = t.testdir({ 'hosts.yml': tree({ all: 'all', top: 'top', mid: 'mid', leaf: 'leaf', side: 'side', host: 'host' }) });
  t.equal(loadInventory([`${dir2}/hosts.yml`]).hostVars('h1').x, 'host');
});

t.test('at the same depth: by ansible_group_priority, then by name', async (t) => {
  const byName = t.testdir({ 'hosts.yml': tree({ top: 'top', side: 'side' }) });
  t.equal(loadInventory([`${byName}/hosts.yml`]).hostVars('h1').x, 'top', '"top" sorts after "side"');
  const ini = t.testdir({ 'hosts.ini': '[top]\nh1\n[side]\nh1\n[top:vars]\nx=top\n[side:vars]\nx=side\nansible_group_priority=10\n' });
  t.equal(loadInventory([`${ini}/hosts.ini`]).hostVars('h1').x, 'side', 'priority 10 beats the default 1');
});

t.test('file layers: group_vars/all beats inventory-file group vars; host layers beat every group layer', async (t) => {
  const dir = t.testdir({
    inventory: {
      'hosts.yml': tree({ all: 'all-file', top: 'top-file', mid: 'mid-file' }),
      group_vars: { 'all.yml': 'x: all-dir\ny: all-dir\nz: all-dir\n', 'top.yml': 'y: top-dir\nz: top-dir\n', mid: { 'a.yml': 'z: mid-dir\n' } },
      host_vars: { h1: 'h: inventory-dir\n' },
    },
    playbook: {
      group_vars: { 'top.yaml': 'z: top-playbook\n' },
      host_vars: { 'h1.yml': 'h: playbook-dir\n' },
    },
  });
  const vars = loadInventory([`${dir}/inventory/hosts.yml`]).hostVars('h1');
  t.equal(vars.x, 'all-dir', 'group_vars/all beats even a child group written in the inventory file (Ansible)');
  t.equal(vars.y, 'top-dir');
  t.equal(vars.z, 'mid-dir', 'deeper group_vars win');
  t.equal(vars.h, 'inventory-dir');

  const withPlaybook = loadInventory([`${dir}/inventory/hosts.yml`], { playbookDir: `${dir}/playbook` }).hostVars('h1');
  t.equal(withPlaybook.z, 'top-playbook', 'playbook group_vars (all groups) come after inventory group_vars');
  t.equal(withPlaybook.h, 'playbook-dir');
});

t.test('host vars written in the inventory beat group_vars files, host_vars files beat them', async (t) => {
  const dir = t.testdir({
    'hosts.ini': 'h1 x=host-file y=host-file\n',
    group_vars: { all: 'x: all-dir\ny: all-dir\n' },
    host_vars: { 'h1.yml': 'y: host-dir\n' },
  });
  const vars = loadInventory([`${dir}/hosts.ini`]).hostVars('h1');
  t.same(vars, { x: 'host-file', y: 'host-dir' });
});
