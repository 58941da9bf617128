// kplay.yml: where it is found, how its paths resolve, and the errors for unknown keys and wrong types.
import t from 'tap';
import { homedir } from 'node:os';
import { loadConfig } from '../../engine/load/config.ts';
import { InputError } from '../../engine/core/source.ts';
import { displayPath } from '../../engine/core/yaml.ts';

const FULL = `inventory: inventory/
forks: 12
roles_path: roles:../shared/roles
known_hosts: ~/.ssh/kplay_known_hosts
accept_new_host_keys: yes
become_password_file: secrets/become
strategy: free
timeout: 2.5
`;

t.test('every setting, paths resolved against the file folder', async (t) => {
  const dir = t.testdir({ project: { 'kplay.yml': FULL } });
  const config = loadConfig({ playbookDir: `${dir}/project`, cwd: dir });
  t.same(config, {
    file: `${dir}/project/kplay.yml`,
    inventory: [`${dir}/project/inventory`],
    forks: 12,
    roles_path: [`${dir}/project/roles`, `${dir}/shared/roles`],
    known_hosts: `${homedir()}/.ssh/kplay_known_hosts`,
    accept_new_host_keys: true,
    become_password_file: `${dir}/project/secrets/become`,
    strategy: 'free',
    timeout: 2.5,
  });
});

t.test('beside the playbook first, then the working folder, else none', async (t) => {
  const dir = t.testdir({ 'kplay.yml': 'forks: 3\n', play: { 'kplay.yml': 'forks: 7\n' }, bare: {} });
  t.equal(loadConfig({ playbookDir: `${dir}/play`, cwd: dir }).forks, 7);
  t.same(loadConfig({ playbookDir: `${dir}/bare`, cwd: dir }), { file: `${dir}/kplay.yml`, forks: 3 });
  t.same(loadConfig({ playbookDir: `${dir}/bare`, cwd: `${dir}/bare` }), { file: null });
  t.same(loadConfig({ cwd: `${dir}/play` }).forks, 7);
});

t.test('lists of paths, and an empty file', async (t) => {
  const dir = t.testdir({ a: { 'kplay.yml': 'inventory: [hosts.ini, /etc/kplay/extra.yml]\nroles_path: [r1]\n' }, b: { 'kplay.yml': '' } });
  t.same(loadConfig({ playbookDir: `${dir}/a` }).inventory, [`${dir}/a/hosts.ini`, '/etc/kplay/extra.yml']);
  t.same(loadConfig({ playbookDir: `${dir}/a` }).roles_path, [`${dir}/a/r1`]);
  t.same(loadConfig({ playbookDir: `${dir}/b` }), { file: `${dir}/b/kplay.yml` });
});

t.test('unknown keys and wrong types are errors at file:line:col', async (t) => {
  const cases: [string, string][] = [
    ['forks: 10\nfork: 5\n', '2:1: unknown setting "fork" (known: inventory, forks, roles_path, known_hosts, accept_new_host_keys, become_password_file, strategy, timeout)'],
    ['forks: ten\n', '1:8: expected a positive integer, got a string'],
    ['forks: 0\n', '1:8: expected a positive integer, got 0'],
    ['timeout: -1\n', '1:10: expected a positive number, got -1'],
    ['strategy: random\n', '1:11: expected one of linear, free, got "random"'],
    ['accept_new_host_keys: "true"\n', '1:23: expected true or false, got a string'],
    ['inventory:\n  - hosts.ini\n  - 42\n', '3:5: expected a path, got a number'],
    ['inventory: {a: 1}\n', '1:12: expected a path or a list of paths, got a map'],
    ['- forks: 1\n', '1:1: kplay.yml must be a map of settings, got a list'],
    ['forks: a: b\n', '1:8: YAML syntax error: Nested mappings are not allowed in compact mappings'],
  ];
  for (const [text, expected] of cases) {
    const dir = t.testdir({ 'kplay.yml': text });
    let error: unknown;
    try {
      loadConfig({ cwd: dir });
    } catch (e) {
      error = e;
    }
    t.type(error, InputError, text);
    t.equal((error as Error).message, `${displayPath(`${dir}/kplay.yml`)}:${expected}`, text);
  }
});
