// The PKI modules on this machine, checked with openssl and cfssl: what they make, that a second run changes
// nothing, what makes them reissue, and that bad input fails before anything is written.

import t from 'tap';
import { readFileSync, readdirSync, statSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import pkiCa from '../../engine/modules/pki_ca.ts';
import pkiCert from '../../engine/modules/pki_cert.ts';
import pkiKeypair from '../../engine/modules/pki_keypair.ts';
import kubeconfig from '../../engine/modules/kubeconfig.ts';
import encryptionConfig from '../../engine/modules/encryption_config.ts';
import pkiClusterFacts from '../../engine/modules/pki_cluster_facts.ts';
import { context, leaksSecret, run, tool, toolStatus } from './helpers.ts';

const mode = (path: string): number => statSync(path).mode & 0o777;
const read = (path: string): string => readFileSync(path, 'utf8');

const caArgs = (dir: string) => ({ dir, common_name: 'Kubernetes', organization: 'Kubernetes', country: 'US' });
const apiArgs = (dir: string, sans: string[]) => ({
  dir,
  name: 'kubernetes',
  common_name: 'kubernetes',
  organization: ['Kubernetes'],
  sans,
  extended_key_usage: ['serverAuth', 'clientAuth'],
});

t.test('a CA and a server certificate that openssl and cfssl read as asked', async (t) => {
  const dir = `${t.testdir({})}/pki`;
  const ca = await run(pkiCa, caArgs(dir));
  t.equal(ca.changed, true);
  t.equal(mode(dir) & 0o777, 0o700, 'the PKI folder is private');
  t.equal(mode(`${dir}/ca-key.pem`), 0o600);
  t.equal(mode(`${dir}/ca.pem`), 0o644);
  const sans = ['127.0.0.1', '10.0.0.10', 'fd00::10', 'kubernetes', 'kubernetes.default.svc.cluster.local'];
  const cert = await run(pkiCert, apiArgs(dir, sans));
  t.equal(cert.changed, true);
  t.equal(mode(`${dir}/kubernetes-key.pem`), 0o600);

  t.match(tool('openssl', ['verify', '-CAfile', `${dir}/ca.pem`, `${dir}/kubernetes.pem`]), /: OK/);
  const text = tool('openssl', ['x509', '-in', `${dir}/kubernetes.pem`, '-noout', '-text']);
  t.match(text, /Subject: O\s?=\s?Kubernetes, CN\s?=\s?kubernetes/);
  t.match(text, /Issuer: C\s?=\s?US, O\s?=\s?Kubernetes, CN\s?=\s?Kubernetes/);
  t.match(text, /DNS:kubernetes, DNS:kubernetes.default.svc.cluster.local, IP Address:127.0.0.1, IP Address:10.0.0.10, IP Address:FD00:0:0:0:0:0:0:10/);
  t.match(text, /Key Usage: critical\s+Digital Signature, Key Encipherment/);
  t.match(text, /Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
  t.match(text, /CA:FALSE/);
  t.match(text, /Public-Key: \(2048 bit\)/);
  t.match(tool('openssl', ['x509', '-in', `${dir}/ca.pem`, '-noout', '-text']), /CA:TRUE[\s\S]*Certificate Sign, CRL Sign/);
  // The key beside the certificate is its key.
  const certModulus = tool('openssl', ['x509', '-in', `${dir}/kubernetes.pem`, '-noout', '-modulus']);
  t.equal(tool('openssl', ['rsa', '-in', `${dir}/kubernetes-key.pem`, '-noout', '-modulus']), certModulus);

  const info = JSON.parse(tool('cfssl', ['certinfo', '-cert', `${dir}/kubernetes.pem`])) as {
    subject: { common_name: string; organization: string };
    issuer: { common_name: string };
    sans: string[];
    authority_key_id: string;
  };
  t.equal(info.subject.common_name, 'kubernetes');
  t.equal(info.subject.organization, 'Kubernetes');
  t.equal(info.issuer.common_name, 'Kubernetes');
  t.same([...info.sans].sort(), ['10.0.0.10', '127.0.0.1', 'fd00::10', 'kubernetes', 'kubernetes.default.svc.cluster.local']);
  const caInfo = JSON.parse(tool('cfssl', ['certinfo', '-cert', `${dir}/ca.pem`])) as { subject_key_id: string };
  t.equal(info.authority_key_id, caInfo.subject_key_id, 'issued by this CA key');

  for (const plan of [ca, cert]) t.notOk(leaksSecret(plan, [read(`${dir}/ca-key.pem`), read(`${dir}/kubernetes-key.pem`)]));
});

t.test('a second run changes nothing; only what no longer matches is reissued', async (t) => {
  const dir = `${t.testdir({})}/pki`;
  const sans = ['127.0.0.1', '10.0.0.10', 'kubernetes'];
  await run(pkiCa, caArgs(dir));
  await run(pkiCert, apiArgs(dir, sans));
  await run(pkiCert, { dir, name: 'admin', common_name: 'admin', organization: 'system:masters', extended_key_usage: ['clientAuth'] });
  const snapshot = (): Record<string, string> => Object.fromEntries(readdirSync(dir).map((f) => [f, read(`${dir}/${f}`)]));
  const first = snapshot();

  t.equal((await run(pkiCa, caArgs(dir))).changed, false);
  t.equal((await run(pkiCert, apiArgs(dir, [...sans].reverse()))).changed, false, 'SAN order does not matter');
  t.same(snapshot(), first, 'a warm run leaves every byte');

  const grown = await run(pkiCert, apiArgs(dir, [...sans, '10.0.0.11']));
  t.equal(grown.changed, true);
  t.match(grown.msg, /SANs: missing 10.0.0.11/);
  const after = snapshot();
  t.not(after['kubernetes.pem'], first['kubernetes.pem'], 'the certificate is reissued');
  t.equal(after['kubernetes-key.pem'], first['kubernetes-key.pem'], 'with the key it had');
  t.equal(after['ca.pem'], first['ca.pem']);
  t.equal(after['admin.pem'], first['admin.pem']);
  t.match(tool('openssl', ['x509', '-in', `${dir}/kubernetes.pem`, '-noout', '-ext', 'subjectAltName']), /10.0.0.11/);

  const usage = await run(pkiCert, { dir, name: 'admin', common_name: 'admin', organization: 'system:masters', extended_key_usage: ['clientAuth', 'serverAuth'] });
  t.match(usage.msg, /extended key usage: missing serverAuth/);
  const subject = await run(pkiCert, { dir, name: 'admin', common_name: 'admin', organization: 'system:nodes', extended_key_usage: ['clientAuth', 'serverAuth'] });
  t.match(subject.msg, /subject is O=system:masters\/CN=admin, asked O=system:nodes\/CN=admin/);

  // Within the renewal margin: reissued; a certificate made for 10 days is renewed by a 30-day margin.
  await run(pkiCert, { dir, name: 'short', common_name: 'short', days: 10 });
  const renewed = await run(pkiCert, { dir, name: 'short', common_name: 'short', days: 365 });
  t.match(renewed.msg, /expires .* within 30 days/);
  t.equal((await run(pkiCert, { dir, name: 'short', common_name: 'short', days: 365 })).changed, false);

  // Loose key mode is put right without touching content.
  chmodSync(`${dir}/admin-key.pem`, 0o644);
  const fixed = await run(pkiCert, { dir, name: 'admin', common_name: 'admin', organization: 'system:nodes', extended_key_usage: ['clientAuth', 'serverAuth'] });
  t.match(fixed.msg, /set mode of .*admin-key.pem/);
  t.equal(mode(`${dir}/admin-key.pem`), 0o600);
});

t.test('a certificate from another CA is reissued by this one', async (t) => {
  const root = t.testdir({});
  await run(pkiCa, caArgs(`${root}/a`));
  await run(pkiCa, { ...caArgs(`${root}/b`) });
  await run(pkiCert, { dir: `${root}/a`, name: 'etcd', ca: `${root}/b/ca`, common_name: 'etcd' });
  t.equal(toolStatus('openssl', ['verify', '-CAfile', `${root}/a/ca.pem`, `${root}/a/etcd.pem`]).rc === 0, false);
  const plan = await run(pkiCert, { dir: `${root}/a`, name: 'etcd', common_name: 'etcd' });
  t.match(plan.msg, /not signed by the CA/);
  t.match(tool('openssl', ['verify', '-CAfile', `${root}/a/ca.pem`, `${root}/a/etcd.pem`]), /OK/);
});

t.test('bad input fails before anything is written', async (t) => {
  const dir = `${t.testdir({})}/pki`;
  await t.rejects(run(pkiCert, { dir, name: 'x', common_name: 'x' }), /no CA at .*ca.pem: make it first/);
  t.notOk(existsSync(dir), 'nothing written');
  await run(pkiCa, caArgs(dir));
  for (const [san, why] of [
    ['kubernetes.default.', /trailing dot/],
    ['a..b', /empty label/],
    ['my_host', /underscore/],
    ['10.0.0.300', /looks like an IP/],
  ] as const) {
    await t.rejects(run(pkiCert, { dir, name: 'x', common_name: 'x', sans: ['127.0.0.1', san] }), why);
  }
  await t.rejects(run(pkiCert, { dir, name: 'x', common_name: 'x', key_usage: ['teleport'] }), /unknown key usage "teleport"/);
  t.same(readdirSync(dir).sort(), ['ca-key.pem', 'ca.pem']);

  await t.rejects(run(pkiClusterFacts, { service_cidr: '10.32.0.0/16', pod_cidr: '10.32.128.0/17' }), /service CIDR 10.32.0.0\/16 overlaps pod CIDR 10.32.128.0\/17/);
  await t.rejects(run(pkiClusterFacts, { service_cidr: '10.32.0.1/24' }), /host bits set: did you mean 10.32.0.0\/24/);
  await t.rejects(run(pkiClusterFacts, { service_cidr: '10.32.0.0/24', public_address: 'api.example.com.' }), /trailing dot/);
  await t.rejects(run(pkiClusterFacts, { service_cidr: '10.32.0.0/24', nodes: ['node_1'] }), /SAN "node_1" .*underscore/);
  const facts = await run(pkiClusterFacts, {
    service_cidr: '10.32.0.0/24',
    pod_cidr: '10.200.0.0/16',
    controllers: ['c1', 'c2'],
    nodes: ['w1'],
    addresses: { c1: '10.0.0.10', c2: '10.0.0.11' },
    cluster_domain: 'cluster.local',
  });
  t.same(facts.facts, {
    pki_service_ip: '10.32.0.1',
    pki_public_address: '10.0.0.10',
    pki_apiserver_sans: ['127.0.0.1', '10.0.0.10', '10.0.0.11', '10.32.0.1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    pki_addresses: { c1: '10.0.0.10', c2: '10.0.0.11', w1: 'w1' },
  });
});

t.test('an existing CA is never replaced', async (t) => {
  const dir = `${t.testdir({})}/pki`;
  await run(pkiCa, caArgs(dir));
  const caPem = read(`${dir}/ca.pem`);
  const other = await run(pkiCa, { ...caArgs(dir), common_name: 'Other' });
  t.equal(other.changed, false);
  t.match(other.msg, /keep existing CA/);
  t.equal(read(`${dir}/ca.pem`), caPem);
  // Another key in place of the CA's: the CA is unusable, and kplay says so rather than making a new one.
  await run(pkiKeypair, { dir, name: 'stray' });
  writeFileSync(`${dir}/ca-key.pem`, read(`${dir}/stray-key.pem`));
  await t.rejects(run(pkiCa, caArgs(dir)), /cannot be used .*never replaced/);
  await t.rejects(run(pkiCert, { dir, name: 'x', common_name: 'x' }), /is not the key of/);
});

t.test('check mode plans without writing', async (t) => {
  const dir = `${t.testdir({})}/pki`;
  const check = context({ check: true });
  t.equal((await run(pkiCa, caArgs(dir), check)).changed, true);
  const cert = await run(pkiCert, { dir, name: 'admin', common_name: 'admin' }, check);
  t.equal(cert.changed, true, 'a certificate signed by a CA an earlier task makes is planned as made');
  t.match(cert.effects?.map((e) => e.path), [`${dir}/admin.pem`, `${dir}/admin-key.pem`]);
  t.notOk(existsSync(dir));
});

t.test('key pairs: RSA 2048 by default, ECDSA P-256 on request, kept while right', async (t) => {
  const dir = `${t.testdir({})}/pki`;
  const rsa = await run(pkiKeypair, { dir, name: 'service-account' });
  t.equal(rsa.changed, true);
  t.match(tool('openssl', ['pkey', '-in', `${dir}/service-account-key.pem`, '-noout', '-text']), /Private-Key: \(2048 bit/);
  t.equal(mode(`${dir}/service-account-key.pem`), 0o600);
  t.equal(tool('openssl', ['pkey', '-in', `${dir}/service-account-key.pem`, '-pubout']), read(`${dir}/service-account.pem`));
  const key = read(`${dir}/service-account-key.pem`);
  t.equal((await run(pkiKeypair, { dir, name: 'service-account' })).changed, false);
  t.notOk(leaksSecret(rsa, [key]));

  const ec = await run(pkiKeypair, { dir, name: 'service-account', type: 'ecdsa' });
  t.match(ec.msg, /replace .*: the key is RSA 2048, not ECDSA 256/);
  t.match(tool('openssl', ['pkey', '-in', `${dir}/service-account-key.pem`, '-noout', '-text']), /ASN1 OID: prime256v1/);
  t.equal(tool('openssl', ['pkey', '-in', `${dir}/service-account-key.pem`, '-pubout']), read(`${dir}/service-account.pem`));
  t.equal((await run(pkiKeypair, { dir, name: 'service-account', type: 'ecdsa', size: 256 })).changed, false);
  await t.rejects(run(pkiKeypair, { dir, name: 'x', type: 'ecdsa', size: 521 }), /not 256 or 384/);
});

t.test('a kubeconfig embeds the CA and the client certificate, and follows a reissue', async (t) => {
  const dir = `${t.testdir({})}/pki`;
  await run(pkiCa, caArgs(dir));
  await run(pkiCert, { dir, name: 'admin', common_name: 'admin', organization: 'system:masters', extended_key_usage: ['clientAuth'] });
  const args = { dir, name: 'admin', server: 'https://127.0.0.1:6443', cluster: 'kubernetes-the-hard-way' };
  const made = await run(kubeconfig, args);
  t.equal(made.changed, true);
  const path = `${dir}/admin.kubeconfig`;
  t.equal(mode(path), 0o600);
  const view = JSON.parse(tool('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', path])) as {
    clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
    'current-context': string;
  };
  t.equal(view.clusters[0].cluster.server, 'https://127.0.0.1:6443');
  t.equal(view.clusters[0].name, 'kubernetes-the-hard-way');
  t.equal(Buffer.from(view.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), read(`${dir}/ca.pem`));
  t.equal(Buffer.from(view.users[0].user['client-certificate-data'], 'base64').toString(), read(`${dir}/admin.pem`));
  t.equal(Buffer.from(view.users[0].user['client-key-data'], 'base64').toString(), read(`${dir}/admin-key.pem`));
  t.equal((await run(kubeconfig, args)).changed, false);

  const moved = await run(kubeconfig, { ...args, server: 'https://10.0.0.10:6443' });
  t.match(moved.msg, /server https:\/\/127.0.0.1:6443 -> https:\/\/10.0.0.10:6443/);
  await run(pkiCert, { dir, name: 'admin', common_name: 'admin', organization: 'system:masters', extended_key_usage: ['clientAuth', 'serverAuth'] });
  const followed = await run(kubeconfig, { ...args, server: 'https://10.0.0.10:6443' });
  t.match(followed.msg, /client certificate changed/);
  t.notOk(leaksSecret(followed, [read(`${dir}/admin-key.pem`)]));
  await t.rejects(run(kubeconfig, { ...args, server: 'http://127.0.0.1:6443' }), /must be https/);
});

t.test('the encryption config: one random 32-byte key, made once and kept', async (t) => {
  const dest = `${t.testdir({})}/pki/encryption-config.yaml`;
  const made = await run(encryptionConfig, { dest });
  t.equal(made.changed, true);
  t.equal(mode(dest), 0o600);
  const text = read(dest);
  t.match(text, /^kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io\/v1\n/);
  const secret = /secret: (\S+)/.exec(text)?.[1] ?? '';
  t.equal(Buffer.from(secret, 'base64').length, 32);
  t.notOk(leaksSecret(made, [secret]));
  t.equal((await run(encryptionConfig, { dest })).changed, false);
  const more = await run(encryptionConfig, { dest, resources: ['secrets', 'configmaps'] });
  t.match(more.msg, /keeping its key/);
  t.match(read(dest), new RegExp(`secret: ${secret.replace(/[+/]/g, '\\$&')}\n`), 'the key is kept');
  t.notOk(leaksSecret(more, [secret]));
  writeFileSync(dest, 'kind: EncryptionConfiguration\nresources: []\n');
  await t.rejects(run(encryptionConfig, { dest }), /no aescbc key of 32 bytes; fix or remove it by hand/);
});
