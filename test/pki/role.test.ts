// roles/certificates through the CLI, on this machine (every host a local connection with its own folder): what a
// first run makes and places, that a second changes nothing, that a new controller reissues only what names it,
// that no key material is ever printed, and that bad input fails before anything is written.

import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tool } from './helpers.ts';

const KPLAY = resolve(import.meta.dirname, '../../bin/kplay.js');
const ROLES = resolve(import.meta.dirname, '../../roles');

interface Counts {
  ok: number;
  changed: number;
  failed: number;
}
interface Outcome {
  rc: number;
  stdout: string;
  stderr: string;
  events: { type: string; host?: string; status?: string; task?: { name: string }; item?: unknown; msg?: string }[];
  recap: Record<string, Counts>;
}

/** A lab: hosts in groups (name → address), a playbook on every host, each host's "root" its own folder. */
function lab(dir: string, groups: Record<string, Record<string, string>>, vars: Record<string, unknown> = {}): void {
  const hosts = Object.fromEntries(
    Object.entries(groups).map(([group, members]) => [
      group,
      { hosts: Object.fromEntries(Object.entries(members).map(([name, ip]) => [name, { internal_ip: ip }])) },
    ]),
  );
  const inventory = {
    all: {
      vars: { ansible_connection: 'local', certificates_dest_dir: `${dir}/hosts/{{ inventory_hostname }}/pki`, ...vars },
      children: hosts,
    },
  };
  writeFileSync(join(dir, 'inventory.yml'), JSON.stringify(inventory, null, 2));
  writeFileSync(join(dir, 'site.yml'), `- hosts: all\n  gather_facts: false\n  roles: [certificates]\n`);
}

function kplay(dir: string, ...args: string[]): Outcome {
  const r = spawnSync('node', [KPLAY, 'run', 'site.yml', '-i', 'inventory.yml', '--output', 'json', '--diff', '-v', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_ROLES_PATH: ROLES },
  });
  const events = r.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Outcome['events'][number] & { hosts?: unknown });
  const recap = (events.at(-1)?.type === 'recap' ? events.at(-1)?.hosts : {}) as Record<string, Counts>;
  return { rc: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, events, recap };
}

const changedTasks = (o: Outcome): string[] =>
  o.events
    .filter((e) => e.type === 'result' && e.status === 'changed')
    .map((e) => `${e.host} ${e.task?.name}${e.item === undefined ? '' : ` ${typeof e.item === 'string' ? e.item : JSON.stringify(e.item)}`}`);

/** Every file of a folder with its content, to compare runs byte for byte. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'latin1')]));
}

/** No key, no kubeconfig key, no encryption key anywhere in what a run printed. */
function assertNoSecrets(t: Test, output: string, pki: string): void {
  t.notMatch(output, /PRIVATE KEY|client-key-data|secret:/, 'no key material in the output');
  const secrets = readdirSync(pki)
    .filter((f) => f.endsWith('-key.pem'))
    .map((f) => readFileSync(join(pki, f), 'utf8').split('\n')[1]);
  secrets.push(/secret: (\S+)/.exec(readFileSync(join(pki, 'encryption-config.yaml'), 'utf8'))?.[1] ?? 'none');
  t.notOk(secrets.some((s) => output.includes(s) || output.includes(Buffer.from(s).toString('base64').slice(0, 40))), 'no piece of a key');
}

t.test('the role makes the PKI, places it, and keeps it', async (t) => {
  const dir = t.testdir({});
  // The playbook finds roles beside it.
  writeFileSync(join(dir, 'kplay.yml'), '');
  spawnSync('ln', ['-s', ROLES, join(dir, 'roles')]);
  const controllers = { c1: '10.0.0.10', c2: '10.0.0.11' };
  lab(dir, { controllers, workers: { w1: '10.0.0.20' } }, { kubernetes_public_address: '192.0.2.10' });
  const pki = join(dir, 'pki/kubernetes');

  const dry = kplay(dir, '--check');
  t.equal(dry.rc, 0, dry.stdout.slice(-2000));
  t.notOk(existsSync(join(dir, 'pki')) || existsSync(join(dir, 'hosts')), '--check writes nothing');

  const first = kplay(dir);
  t.equal(first.rc, 0, first.stderr + first.stdout.slice(-2000));
  t.same(
    Object.fromEntries(Object.entries(dry.recap).map(([h, c]) => [h, c.changed])),
    Object.fromEntries(Object.entries(first.recap).map(([h, c]) => [h, c.changed])),
    '--check predicted the changed count of the first run on every host',
  );
  assertNoSecrets(t, first.stdout + first.stderr, pki);
  t.equal(statSync(pki).mode & 0o777, 0o700);
  for (const file of readdirSync(pki)) {
    const secret = file.endsWith('-key.pem') || file.endsWith('.kubeconfig') || file === 'encryption-config.yaml';
    t.equal(statSync(join(pki, file)).mode & 0o777, secret ? 0o600 : 0o644, `${file} mode on the controller`);
    if (file.endsWith('.pem') && !file.endsWith('-key.pem') && file !== 'service-account.pem') {
      // Three CAs, as kubeadm: etcd's signs etcd's and its clients' certificates, the front proxy's its client.
      const ca = /^(etcd-(server|peer)-|apiserver-etcd-client|flanneld-etcd-client|etcd-ca)/.test(file) ? 'etcd-ca.pem' : /^front-proxy-/.test(file) ? 'front-proxy-ca.pem' : 'ca.pem';
      t.match(tool('openssl', ['verify', '-CAfile', join(pki, ca), join(pki, file)]), /OK/, `${file} verifies with ${ca}`);
    }
  }
  const api = tool('openssl', ['x509', '-in', join(pki, 'kubernetes.pem'), '-noout', '-ext', 'subjectAltName']);
  for (const san of ['IP Address:127.0.0.1', 'IP Address:10.0.0.10', 'IP Address:10.0.0.11', 'IP Address:192.0.2.10', 'IP Address:10.32.0.1', 'DNS:kubernetes,', 'DNS:kubernetes.default,', 'DNS:kubernetes.default.svc,', 'DNS:kubernetes.default.svc.cluster.local']) {
    t.match(api, san);
  }
  t.match(tool('openssl', ['x509', '-in', join(pki, 'admin.pem'), '-noout', '-subject']), /O\s?=\s?system:masters, CN\s?=\s?admin/);
  t.match(tool('openssl', ['x509', '-in', join(pki, 'flanneld-etcd-client.pem'), '-noout', '-subject']), /^subject=\s?CN\s?=\s?flanneld\s*$/, "flanneld's etcd certificate is in no Kubernetes group");
  t.notMatch(tool('openssl', ['x509', '-in', join(pki, 'apiserver-etcd-client.pem'), '-noout', '-subject']), /system:masters/, "the API server's etcd certificate is no Kubernetes admin");
  t.notMatch(spawnSync('openssl', ['verify', '-CAfile', join(pki, 'ca.pem'), join(pki, 'apiserver-etcd-client.pem')], { encoding: 'utf8' }).stdout, /: OK/, 'the cluster CA did not sign it');
  t.match(tool('openssl', ['x509', '-in', join(pki, 'w1.pem'), '-noout', '-subject', '-ext', 'subjectAltName']), /O\s?=\s?system:nodes, CN\s?=\s?system:node:w1[\s\S]*DNS:w1, IP Address:10.0.0.20/);
  t.match(tool('openssl', ['x509', '-in', join(pki, 'etcd-server-c2.pem'), '-noout', '-ext', 'subjectAltName']), /DNS:localhost, DNS:c2, IP Address:127.0.0.1, IP Address:10.0.0.11/);
  const view = tool('kubectl', ['config', 'view', '--kubeconfig', join(pki, 'kube-proxy.kubeconfig'), '-o', 'jsonpath={.clusters[0].cluster.server} {.users[0].name}']);
  t.equal(view, 'https://192.0.2.10:6443 system:kube-proxy');

  // Each host got its own files, keys 0600.
  const placed = (host: string): string[] => readdirSync(join(dir, 'hosts', host, 'pki')).sort();
  t.ok(placed('c1').includes('etcd-server-c1-key.pem') && !placed('c1').includes('etcd-server-c2.pem'));
  t.same(placed('w1'), ['ca.pem', 'kube-proxy.kubeconfig', 'w1-key.pem', 'w1.kubeconfig', 'w1.pem']);
  for (const host of ['c1', 'c2', 'w1']) {
    const folder = join(dir, 'hosts', host, 'pki');
    t.equal(statSync(folder).mode & 0o777, 0o700);
    for (const file of placed(host)) {
      t.equal(statSync(join(folder, file)).mode & 0o777, file.endsWith('.pem') && !file.endsWith('-key.pem') ? 0o644 : 0o600, `${host}:${file}`);
      t.equal(readFileSync(join(folder, file), 'latin1'), readFileSync(join(pki, file), 'latin1'));
    }
  }

  const before = snapshot(pki);
  const second = kplay(dir);
  t.equal(second.rc, 0, second.stderr);
  t.same(changedTasks(second), [], 'a second run changes nothing');
  for (const counts of Object.values(second.recap)) t.equal(counts.changed, 0);
  t.same(snapshot(pki), before);

  // A third controller: the API server certificate names it, and it gets its own etcd pair; nothing else changes.
  lab(dir, { controllers: { ...controllers, c3: '10.0.0.12' }, workers: { w1: '10.0.0.20' } }, { kubernetes_public_address: '192.0.2.10' });
  const grown = kplay(dir);
  t.equal(grown.rc, 0, grown.stderr);
  assertNoSecrets(t, grown.stdout + grown.stderr, pki);
  const made = changedTasks(grown).filter((c) => c.startsWith('c1 ') && !/^c1 (public certificates|keys and kubeconfigs)/.test(c));
  t.same(made, ['c1 API server certificate', 'c1 etcd server and peer certificates etcd-server-c3', 'c1 etcd server and peer certificates etcd-peer-c3']);
  const after = snapshot(pki);
  const differs = Object.keys(after).filter((f) => after[f] !== before[f]).sort();
  t.same(differs, ['etcd-peer-c3-key.pem', 'etcd-peer-c3.pem', 'etcd-server-c3-key.pem', 'etcd-server-c3.pem', 'kubernetes.pem']);
  t.equal(after['ca.pem'], before['ca.pem'], 'the CA is byte-identical');
  t.equal(after['encryption-config.yaml'], before['encryption-config.yaml'], 'the encryption key is kept');
  t.match(tool('openssl', ['x509', '-in', join(pki, 'kubernetes.pem'), '-noout', '-ext', 'subjectAltName']), /IP Address:10.0.0.12/);
  t.equal(readFileSync(join(dir, 'hosts/c1/pki/kubernetes.pem'), 'utf8'), after['kubernetes.pem'], 'the new certificate is placed');
  t.equal(statSync(join(dir, 'hosts/c3/pki/etcd-peer-c3-key.pem')).mode & 0o777, 0o600);
});

t.test('bad input fails with a clear error before anything is written', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a SAN with a trailing dot', { kubernetes_public_address: 'api.example.com.' }, /SAN "api.example.com." .*trailing dot/],
    ['overlapping ranges', { service_cidr: '10.200.0.0/24', pod_cidr: '10.200.0.0/16' }, /service CIDR 10.200.0.0\/24 overlaps pod CIDR 10.200.0.0\/16/],
    ['a node name that is no DNS name', {}, /SAN "bad_node" .*underscore/],
  ];
  for (const [what, vars, error] of cases) {
    const dir = t.testdir({});
    spawnSync('ln', ['-s', ROLES, join(dir, 'roles')]);
    lab(dir, { controllers: { c1: '10.0.0.10' }, workers: what.startsWith('a node') ? { bad_node: '10.0.0.20' } : {} }, vars);
    const r = kplay(dir);
    t.equal(r.rc, 2, `${what}: the run fails`);
    t.match(r.events.map((e) => e.msg ?? '').join('\n'), error, what);
    t.notOk(existsSync(join(dir, 'pki')), `${what}: nothing written`);
    t.notOk(existsSync(join(dir, 'hosts')), `${what}: nothing placed`);
  }
});
