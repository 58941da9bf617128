// Unquoted YAML scalars resolve as PyYAML (Ansible's loader) resolves them: a table of plain scalars is read by
// python3's yaml.safe_load and by kplay's YAML reader (engine/core/yaml.ts) and from_yaml, and every type and value
// must agree. Then a project that uses such scalars in every place kplay reads YAML runs through ansible-playbook
// and kplay and must print the same.

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { parseYaml } from '../../engine/core/yaml.ts';
import { Jinja } from '../../engine/jinja/index.ts';
import { project, sameAsAnsible } from '../jinja/playbook-oracle.ts';

const SCALARS = [
  // floats need a dot; an exponent needs a sign
  '1e3', '1E3', '1e+3', '5e10', 'e1', 'e5', 'E1', '+e1', '-e1', '.', '-.', '+.', '1.0e+3', '1.0e3', '1.5E-2', '.5', '-.5',
  '+.5', '1.', '-1.5', '0.1', '3.14_15', '.5e+1', '1.0', '2.50',
  // specials
  '.inf', '-.inf', '+.inf', '.Inf', '.INF', '.nan', '.NaN', '.NAN', 'inf', 'nan', 'NaN', 'Infinity',
  // booleans: PyYAML's exact list
  'yes', 'Yes', 'YES', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF', 'true', 'True', 'TRUE', 'false',
  'False', 'FALSE', 'y', 'Y', 'n', 'N', 'yEs', 'tRUE',
  // ints
  '0', '-0', '+0', '7', '-7', '+7', '1_000', '0755', '0o755', '0644', '08', '09', '010', '0_7', '0x1F', '0X1F',
  '0x_ff', '-0x10', '0b101', '-0b11', '0b12', '123456789012', '1:30', '-1:30', '1:30:15', '0:30', '1:70', '1:30.5',
  '190:20:30', ':30',
  // null
  '~', 'null', 'Null', 'NULL', 'nUll', '',
  // text that looks numeric to other readers
  '1.2.3', '10.0.0.1', '2001-12-14', 'v1', '1a', '0.0.0.0/0', '22/tcp', '1,000', '$1',
];

const PY = `
import json, math, sys, yaml
def canon(v):
    if v is None: return ['null']
    if isinstance(v, bool): return ['bool', v]
    if isinstance(v, (int, float)):
        if isinstance(v, float) and math.isnan(v): return ['num', 'nan']
        if isinstance(v, float) and math.isinf(v): return ['num', 'inf' if v > 0 else '-inf']
        return ['num', repr(int(v)) if v == int(v) else repr(v)]
    return ['str', str(v)]
print(json.dumps([canon(v) for v in yaml.safe_load(sys.stdin.read())]))
`;

function canon(v: unknown): unknown[] {
  if (v === null) return ['null'];
  if (typeof v === 'boolean') return ['bool', v];
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return ['num', 'nan'];
    if (!Number.isFinite(v)) return ['num', v > 0 ? 'inf' : '-inf'];
    return ['num', String(v)];
  }
  return ['str', String(v)];
}

// A list of the scalars, each plain (unquoted) in flow-free block style.
const DOC = SCALARS.map((s) => `- ${s}`).join('\n') + '\n';

t.test('kplay reads every plain scalar as PyYAML does', async (t) => {
  t.ok(SCALARS.length >= 60, `${SCALARS.length} scalars`);
  const expected = JSON.parse(execFileSync('python3', ['-c', PY], { input: DOC, encoding: 'utf8' })) as unknown[][];
  const files = (parseYaml(DOC, 'table.yml')[0] as unknown[]).map(canon);
  const jinja = new Jinja();
  const fromYaml = (jinja.evaluate('doc | from_yaml', jinja.createScope({ doc: DOC })) as unknown[]).map(canon);
  SCALARS.forEach((s, i) => {
    t.same(files[i], expected[i], `${JSON.stringify(s)} in a file`);
    t.same(fromYaml[i], expected[i], `${JSON.stringify(s)} through from_yaml`);
  });
  // No value becomes NaN unless it is written .nan.
  SCALARS.forEach((s, i) => {
    if (!/^\.nan$/i.test(s)) t.notSame(files[i], ['num', 'nan'], `${s} is not NaN`);
  });
});

const PLAY = `
- hosts: all
  gather_facts: false
  vars_files: [vars.yml]
  vars: {pv: 1e3, pb: on, pc: 1:30, po: 0o755}
  tasks:
    - name: e1
      debug: {msg: "{{ [fv, fb, fy, fo, fs, fn, fi, fe] }}"}
    - name: 1e3
      debug: {msg: "{{ [pv, pb, pc, po] }}"}
    - name: e5
      debug: {msg: "{{ [iv, ib, gv, hv, ev, eb] }}"}
    - name: .
      debug: {msg: "{{ ('f: 1e3\\\\ng: 1.0e+3\\\\nh: no\\\\ni: 0755' | from_yaml) }}"}
    - debug: {msg: "{{ fv ~ '|' ~ pv }}"}
    - debug:
        msg: [1e3, 5e10, e1, 1.5e+2, yes, y, 0755, 1:30, ~]
`;

t.test('the same scalars in a playbook, vars files, inventory, group_vars, host_vars and -e @file, as ansible-playbook', async (t) => {
  const dir = project(t, {
    'play.yml': PLAY,
    'vars.yml': 'fv: 1e3\nfb: off\nfy: y\nfo: 0644\nfs: 1:30\nfn: ~\nfi: .inf\nfe: E1\n',
    'inv.yml': 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: /usr/bin/python3\n      iv: 2e2\n  vars:\n    ib: Yes\n',
    'group_vars/all.yml': 'gv: 0x10\n',
    'host_vars/localhost.yml': 'hv: 1.5e-1\n',
    'extra.yml': 'ev: 12e1\neb: NO\n',
  });
  const steps = await sameAsAnsible(t, dir, 'play.yml', ['-i', 'inv.yml', '-e', '@extra.yml']);
  t.equal(steps[0].msg, `"['1e3', False, 'y', 420, 90, None, inf, 'E1']"`, 'the values Ansible printed');
});
