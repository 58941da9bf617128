// Ansible as the oracle: every probe expression, `when:` condition and template under test/jinja/oracle/ is run
// through ansible-playbook (one run for the whole suite) and through kplay's Jinja; value and type (or error vs no
// error) must agree, except the deliberate differences listed in oracle/differences.yml.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ORACLE_DIR, cleanup, loadProbes, runAnsible, runKplay, workdir } from './oracle-run.ts';

interface Difference {
  kind: string;
  text: string;
  reason: string;
}

const probes = loadProbes();
const differences = parse(readFileSync(join(ORACLE_DIR, 'differences.yml'), 'utf8')) as Difference[];
const differs = (kind: string, text: string): Difference | undefined => differences.find((d) => d.kind === kind && d.text === text);

t.test('the probe set is big enough', async (t) => {
  t.ok(probes.filter((p) => p.kind !== 'template').length >= 400, 'at least 400 expressions and conditions');
  t.ok(probes.filter((p) => p.kind === 'template').length >= 40, 'at least 40 templates');
  for (const d of differences) t.ok(probes.some((p) => p.kind === d.kind && p.text === d.text), `difference "${d.text}" is a probe`);
});

t.test('kplay evaluates every probe as ansible-playbook does', async (t) => {
  const dir = workdir();
  t.teardown(() => cleanup(dir));
  const ansible = runAnsible(probes, dir);
  const kplay = runKplay(probes, dir);
  let agree = 0;
  probes.forEach((p, i) => {
    const a = ansible[i];
    const k = kplay[i];
    const same = a.error === k.error && (a.error || a.value === k.value);
    const label = `[${p.kind}] ${p.text}`;
    const d = differs(p.kind, p.text);
    if (d) {
      t.notOk(same, `${label} still differs (${d.reason.slice(0, 60)}...)`);
      return;
    }
    if (same) agree++;
    else {
      t.fail(label, {
        ansible: a.error ? `error: ${a.message ?? ''}` : a.value,
        kplay: k.error ? `error: ${k.message ?? ''}` : k.value,
      });
    }
  });
  t.equal(agree, probes.length - differences.length, `${agree} of ${probes.length} probes agree; ${differences.length} documented differences`);
});
