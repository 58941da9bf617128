// Issue 14, acceptance 3: every control-plane flag of the five guides in the seeds (fixtures/guide-flags.yml), given
// as a user flag for 1.21, 1.24, 1.30 and 1.36, is either rendered and accepted by that release's stand-in (its flag
// and value checks, STANDIN_FLAGS_ONLY), or refused with the reason and what to do instead: by the render alone, and
// by master.yml on a real host before that host is changed (its writable layers stay empty, no PKI is made).

import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { kplay, REPO } from '../helpers/kplay.ts';
import { startFleet, type Fleet } from '../lab/fleet.ts';
import { buildStandins } from '../lab/standins/build.ts';

type Entry = [seeds: string, component: string, flag: string, value: string];
const GUIDE: Entry[] = parse(readFileSync(join(REPO, 'test/k8s/fixtures/guide-flags.yml'), 'utf8')) as Entry[];
const FIXTURES = join(REPO, 'test/k8s/fixtures');
const VERSIONS = ['1.21.14', '1.24.17', '1.30.2', '1.36.0'];
const EXTRA_VAR: Record<string, string> = {
  'kube-apiserver': 'kube_apiserver_extra_flags',
  'kube-controller-manager': 'kube_controller_manager_extra_flags',
  'kube-scheduler': 'kube_scheduler_extra_flags',
};

/** Batches in which each (component, flag) appears once: a guide flag with several values goes in several. */
function batches(entries: Entry[]): Entry[][] {
  const out: Entry[][] = [];
  for (const entry of entries) {
    const batch = out.find((b) => !b.some((e) => e[1] === entry[1] && e[2] === entry[2]));
    if (batch) batch.push(entry);
    else out.push([entry]);
  }
  return out;
}

function extraVars(entries: Entry[]): Record<string, Record<string, string>> {
  const vars: Record<string, Record<string, string>> = {};
  for (const [, component, flag, value] of entries) (vars[EXTRA_VAR[component]] ??= {})[flag] = value;
  return vars;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The problem lines of a refused run that are about this entry (the user's flag named in them). */
function linesAbout(output: string, [, component, flag]: Entry): string[] {
  return output
    .split('\n')
    .filter((line) => line.includes(component))
    // What to use instead names other flags: only the part before it says which flag is refused.
    .map((line) => line.split(/: use |; instead: /)[0])
    .filter((line) => {
      const named = new RegExp(`${escape(flag)}(?![a-z-])`).test(line);
      if (!named) return false;
      // A combination names the role's flags too: the entry is refused where its flag is marked as the user's.
      return !/\((yours|the role's)\)/.test(line) || new RegExp(`${escape(flag)}(=\\S*)? \\(yours\\)`).test(line);
    });
}

interface Rendered {
  code: number;
  output: string;
  lines?: Record<string, string[]>;
}

async function render(t: Test, version: string, entries: Entry[]): Promise<Rendered> {
  const dir = t.testdir({});
  const out = join(dir, 'flags.json');
  const r = await kplay(['run', join(FIXTURES, 'flags.yml'), '-i', join(FIXTURES, 'local-controller.yml'), '-e', `out=${out}`, '-e', `kube_version=${version}`, '-e', JSON.stringify(extraVars(entries))], { cwd: REPO });
  return { code: r.code, output: r.stdout + r.stderr, lines: existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, string[]>) : undefined };
}

/** Every file below a host's writable layers (what it wrote since it started). */
function written(fleet: Fleet): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(join(fleet.hosts[0].layers, 'upper'));
  return files.sort();
}

t.test('every guide flag of the seeds, as a user flag, for four releases', async (t) => {
  const fleet = await startFleet({ count: 1, name: 'gflags' });
  t.teardown(() => fleet.stop());
  const host = fleet.hosts[0];
  const base = t.testdir({});
  const inventory = join(base, 'inventory.yml');
  const labInventory = parse(readFileSync(fleet.inventoryFile, 'utf8')) as { all: { children: { fleet: { hosts: Record<string, object>; vars: object } } } };
  await writeFile(inventory, stringify({ all: { children: { controllers: { hosts: { [host.name]: { ...labInventory.all.children.fleet.hosts[host.name], internal_ip: host.address } }, vars: labInventory.all.children.fleet.vars } } } }));
  const pki = join(base, 'pki');
  const before = written(fleet);

  for (const version of VERSIONS) {
    await t.test(`Kubernetes ${version}`, async (t) => {
      // Not t.testdir: render() below makes that folder afresh on every run.
      const bin = mkdtempSync(join(tmpdir(), 'kplay-guide-flags-'));
      t.teardown(() => rmSync(bin, { recursive: true, force: true }));
      await buildStandins(bin, version);
      const accepted: Entry[] = [];
      const refused: Entry[] = [];
      for (const batch of batches(GUIDE)) {
        const r = await render(t, version, batch);
        t.notMatch(r.output, /not in kplay's flag table/, 'every guide flag is one the table knows');
        for (const entry of batch) (r.code === 0 || linesAbout(r.output, entry).length === 0 ? accepted : refused).push(entry);
        if (r.code !== 0) {
          t.equal(r.code, 2, 'a refusal fails the run');
          for (const entry of batch.filter((e) => refused.includes(e))) {
            for (const line of r.output.split('\n').filter((l) => linesAbout(l, entry).length > 0)) {
              t.match(line, /(instead: |: use |leave it out)/, `${version} ${entry[1]} ${entry[2]}=${entry[3]}: the reason and what to do instead (${line.trim()})`);
            }
          }
        }
      }
      // What was not refused renders, and that release's stand-in accepts the command line.
      for (const batch of batches(accepted)) {
        const r = await render(t, version, batch);
        t.equal(r.code, 0, `${version}: the accepted guide flags render together\n${r.output.slice(-1500)}`);
        if (!r.lines) continue;
        for (const component of Object.keys(EXTRA_VAR)) {
          const lines = r.lines[component];
          for (const [, c, flag, value] of batch.filter((e) => e[1] === component)) {
            t.ok(lines.some((l) => l === `${flag}=${value}` || l === `${flag}="${value}"`), `${version} ${c}: ${flag}=${value} is rendered as given`);
          }
          const standin = spawnSync(join(bin, component), lines, { env: { ...process.env, STANDIN_FLAGS_ONLY: '1' }, encoding: 'utf8' });
          t.equal(standin.status, 0, `${version} ${component}: the stand-in accepts the flags\n${String(standin.error ?? '')}${(standin.stderr ?? '').slice(-800)}`);
        }
      }
      // The refused ones are refused by master.yml on a real host, before that host is changed.
      if (refused.length > 0) {
        const r = await kplay(['run', join(REPO, 'playbooks/master.yml'), '-i', inventory, '-e', `kube_version=${version}`, '-e', `pki_dir=${pki}`, '-e', `kube_binaries_dir=${bin}`, '-e', JSON.stringify(extraVars(refused))], { cwd: base });
        t.equal(r.code, 2, `${version}: master.yml fails`);
        for (const entry of refused) t.ok(linesAbout(r.stdout + r.stderr, entry).length > 0, `${version}: master.yml refuses ${entry[1]} ${entry[2]}=${entry[3]}`);
        t.same(written(fleet), before, `${version}: no file changed on the host`);
        t.notOk(existsSync(pki), `${version}: no certificate was made`);
      }
      for (const [, component, flag, value] of refused) refusedSets[version].add(`${component} ${flag}=${value}`);
      t.equal(accepted.length + refused.length, GUIDE.length);
      t.comment(`${version}: ${accepted.length} accepted, ${refused.length} refused: ${refused.map((e) => `${e[2]}=${e[3]}`).join(' ')}`);
    });
  }

  // What the facts say, seen through the whole list.
  const was = (version: string, component: string, flag: string, value: string): boolean => refusedSets[version].has(`${component} ${flag}=${value}`);
  const expect: [string, string, string, boolean[]][] = [
    // [component, flag, value, refused in 1.21, 1.24, 1.30, 1.36]
    ['kube-apiserver', '--runtime-config', 'rbac.authorization.k8s.io/v1alpha1', [false, true, true, true]],
    ['kube-apiserver', '--runtime-config', 'api/all', [true, true, true, true]],
    ['kube-apiserver', '--runtime-config', 'api/all=true', [false, false, false, false]],
    ['kube-apiserver', '--insecure-port', '0', [false, true, true, true]],
    ['kube-apiserver', '--insecure-port', '8080', [true, true, true, true]],
    ['kube-apiserver', '--kubelet-https', 'true', [false, true, true, true]],
    ['kube-apiserver', '--admission-control', 'NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,ResourceQuota', [true, true, true, true]],
    ['kube-apiserver', '--enable-swagger-ui', 'true', [false, true, true, true]],
    ['kube-apiserver', '--logtostderr', 'true', [false, false, true, true]],
    ['kube-apiserver', '--experimental-encryption-provider-config', '/var/lib/kubernetes/encryption-config.yaml', [false, true, true, true]],
    ['kube-controller-manager', '--master', 'http://127.0.0.1:8080', [true, true, true, true]],
    ['kube-controller-manager', '--address', '127.0.0.1', [false, true, true, true]],
    ['kube-scheduler', '--address', '127.0.0.1', [false, true, true, true]],
    ['kube-apiserver', '--apiserver-count', '3', [false, false, false, false]],
  ];
  for (const [component, flag, value, refused] of expect) {
    t.same(VERSIONS.map((v) => was(v, component, flag, value)), refused, `${component} ${flag}=${value}: refused in ${VERSIONS.filter((_, i) => refused[i]).join(', ') || 'none'}`);
  }
});

const refusedSets: Record<string, Set<string>> = Object.fromEntries(VERSIONS.map((v) => [v, new Set<string>()]));
