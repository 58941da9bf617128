// Follows README.md's tutorial "write your own role" as written: each ```yaml file=PATH block becomes that
// file, each ```sh line is run (kplay from this checkout) in a temporary folder; then what the text promises holds.
// Also: the README names every variable of the roles' defaults.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { KPLAY, REPO } from '../helpers/kplay.ts';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const fromTutorial = README.slice(README.indexOf('### Tutorial: write your own role'));
// The tutorial runs up to the next section of the README.
const nextSection = fromTutorial.search(/\n##? /);
const tutorial = nextSection === -1 ? fromTutorial : fromTutorial.slice(0, nextSection);
/** Code blocks in order (indented under list items, as the steps are). */
const blocks = [...tutorial.matchAll(/^( *)```(\w+)(?: file=(\S+))?\n([\s\S]*?)^\1```$/gm)].map((m) => ({
  lang: m[2],
  file: m[3],
  text: m[4].split('\n').map((line) => line.slice(m[1].length)).join('\n'),
}));
const changedIn = (output: string): number => Number(/localhost\s+: ok=\d+\s+changed=(\d+)/.exec(output)?.[1] ?? NaN);

t.test('the tutorial, step by step', async (t) => {
  t.ok(blocks.filter((b) => b.file).length >= 5, 'it writes the role and the playbook');
  let cwd = t.testdir({});
  const runs: string[] = [];
  for (const block of blocks) {
    if (block.file) {
      const path = resolve(cwd, block.file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, block.text);
      continue;
    }
    t.equal(block.lang, 'sh', 'every other block is commands');
    for (const line of block.text.split('\n').filter((l) => l.trim() !== '')) {
      if (line.startsWith('cd ')) {
        cwd = resolve(cwd, line.slice(3).trim());
        continue;
      }
      const command = line.replace(/^npx kplay /, `${process.execPath} ${KPLAY} `);
      const r = spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
      t.equal(r.status, 0, `${line}\n${r.stdout}${r.stderr}`);
      if (line.startsWith('npx kplay')) runs.push(r.stdout);
    }
  }
  t.equal(runs.length, 4, 'four runs of kplay');
  const [check, first, again, level] = runs.map(changedIn);
  const promised = Number(/The run reports `changed=(\d+)`/.exec(tutorial)?.[1]);
  t.equal(first, promised, `the first run reports changed=${promised}, as the text says`);
  t.equal(check, first, '--check predicted it');
  t.equal(again, 0, 'a second run changes nothing');
  t.equal(level, 1, 'a new level changes only the file (and the handler runs)');
  t.match(runs[3], /the audit policy of localhost is now at level Request/);
  t.equal(readFileSync(join(cwd, 'out/audit-policy.yaml'), 'utf8'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Request\n');
});

t.test("README.md names every variable of the control-plane roles' defaults", async (t) => {
  const roles = ['kube-common', 'etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'nginx-health-proxy', 'flannel', 'kubelet-rbac'];
  for (const role of roles) {
    const defaults = readFileSync(join(REPO, 'roles', role, 'defaults/main.yml'), 'utf8');
    for (const [, name] of defaults.matchAll(/^([a-z_]+):/gm)) t.ok(README.includes(`\`${name}\``), `${role}: ${name}`);
  }
});
