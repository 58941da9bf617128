// The bootstrap_token module and the kubeconfig module's token form: a token as kubeadm makes it, kept in a 0600
// file so a rerun finds it (changed false), replaced only once expired, masked in what the run reports, and a
// kubeconfig the real kubectl reads with that token and no client certificate.

import t from 'tap';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import bootstrapToken from '../../engine/modules/bootstrap_token.ts';
import kubeconfig from '../../engine/modules/kubeconfig.ts';
import pkiCa from '../../engine/modules/pki_ca.ts';
import { context, run, tool } from './helpers.ts';

const mode = (path: string): number => statSync(path).mode & 0o777;

t.test('a token made once, kept, and replaced when expired', async (t) => {
  const dir = `${t.testdir({})}/pki`;
  const dest = `${dir}/bootstrap-token.yaml`;
  const checked = await run(bootstrapToken, { dest }, context({ check: true }));
  t.equal(checked.changed, true, '--check: would create it');
  t.throws(() => statSync(dest), '--check wrote nothing');

  const made = await run(bootstrapToken, { dest, ttl: '2h' });
  t.equal(made.changed, true);
  t.equal(mode(dest), 0o600);
  const file = parse(readFileSync(dest, 'utf8')) as Record<string, string>;
  const result = made.result as Record<string, string>;
  t.match(result, { token_id: file['token-id'], token_secret: file['token-secret'], token: `${file['token-id']}.${file['token-secret']}`, expiration: file.expiration });
  t.match(result.token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  const hours = (Date.parse(result.expiration) - Date.now()) / 3_600_000;
  t.ok(hours > 1.9 && hours <= 2, `expires after the ttl (${hours.toFixed(3)} h)`);
  t.same(made.secrets, [result.token_secret, result.token], 'the secret is masked in every output');
  t.notOk(JSON.stringify({ msg: made.msg, effects: made.effects }).includes(result.token_secret), 'nor in the message or effects');

  const again = await run(bootstrapToken, { dest, ttl: '2h' });
  t.equal(again.changed, false, 'a rerun keeps it');
  t.equal((again.result as Record<string, string>).token, result.token);
  t.equal((await run(bootstrapToken, { dest, ttl: '2h', renew_before: '1h' })).changed, false, 'not yet within renew_before');
  t.equal((await run(bootstrapToken, { dest, ttl: '2h', renew_before: '3h' }, context({ check: true }))).changed, true, 'within renew_before: a new one');

  writeFileSync(dest, readFileSync(dest, 'utf8').replace(/expiration: .*/, 'expiration: 2020-01-01T00:00:00Z'), { mode: 0o600 });
  const renewed = await run(bootstrapToken, { dest, ttl: '0' });
  t.equal(renewed.changed, true, 'an expired token is replaced');
  t.match(renewed.msg, /replace the token expired at 2020-01-01T00:00:00Z/);
  const next = renewed.result as Record<string, string>;
  t.not(next.token_id, result.token_id);
  t.equal(next.expiration, '', 'ttl 0: never expires');
  t.equal((await run(bootstrapToken, { dest, ttl: '0' })).changed, false);

  await t.rejects(run(bootstrapToken, { dest, ttl: 'a day' }), /ttl "a day" is not a duration/);
  writeFileSync(dest, 'token-id: ABC\n');
  await t.rejects(run(bootstrapToken, { dest }), /has no token-id/, 'a damaged file is never silently replaced');
});

t.test('a kubeconfig with a bearer token', async (t) => {
  const dir = `${t.testdir({})}/pki`;
  await run(pkiCa, { dir, common_name: 'Kubernetes' });
  const args = { dir, name: 'kubelet-bootstrap', token: 'abcdef.0123456789abcdef', user: 'kubelet-bootstrap', server: 'https://127.0.0.1:6443' };
  const made = await run(kubeconfig, args);
  t.equal(made.changed, true);
  const path = `${dir}/kubelet-bootstrap.kubeconfig`;
  t.equal(mode(path), 0o600);
  const view = JSON.parse(tool('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', path])) as {
    users: { name: string; user: Record<string, string> }[];
    clusters: { cluster: Record<string, string> }[];
  };
  t.same(view.users, [{ name: 'kubelet-bootstrap', user: { token: 'abcdef.0123456789abcdef' } }], 'kubectl reads the token, no client pair');
  t.equal(Buffer.from(view.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), readFileSync(`${dir}/ca.pem`, 'utf8'));
  t.equal((await run(kubeconfig, args)).changed, false);
  const changed = await run(kubeconfig, { ...args, token: 'ghijkl.0123456789abcdef' });
  t.equal(changed.msg, `update ${path}: token changed`, 'a new token is named, never shown');
  await t.rejects(run(kubeconfig, { ...args, cert: 'admin' }), /mutually exclusive/);
});
