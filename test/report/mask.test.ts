import { execFileSync } from 'node:child_process';
import t from 'tap';
import { CENSORED_MSG, KEY_REDACTED, MASK, Masker, redactEvent } from '../../engine/core/mask.ts';
import type { RunEvent } from '../../engine/core/events.ts';

// A key as openssl writes it (EC, SEC1 form: `EC PRIVATE KEY`).
const opensslKey = execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'], { encoding: 'utf8' });

t.test('masks registered secrets in strings, nested objects, lists and keys, leaving the input untouched', async (t) => {
  const masker = new Masker();
  masker.add('s3cret');
  masker.add('tok-123\n');
  const input = {
    msg: 'login with s3cret',
    list: ['a', 's3cret', 42, true, null, { deep: ['x tok-123 y'] }],
    s3cret: 'key named by a secret',
    when: new Date(0),
  };
  const out = masker.mask(input);
  t.same(out, {
    msg: `login with ${MASK}`,
    list: ['a', MASK, 42, true, null, { deep: [`x ${MASK} y`] }],
    [MASK]: 'key named by a secret',
    when: new Date(0),
  });
  t.equal(input.msg, 'login with s3cret', 'the input is not changed');
  t.equal(masker.mask('plain text'), 'plain text');
  t.equal(masker.mask(7), 7);
});

t.test('a secret containing another is masked whole', async (t) => {
  const masker = new Masker();
  masker.add('pass');
  masker.add('password123');
  t.equal(masker.text('password123 and pass'), `${MASK} and ${MASK}`);
  masker.add('');
  t.equal(masker.text('empty secrets mask nothing'), 'empty secrets mask nothing');
});

t.test('redacts private key blocks, whole or cut short, from openssl and elsewhere', async (t) => {
  t.match(opensslKey, /-----BEGIN EC PRIVATE KEY-----/);
  const masker = new Masker();
  const text = `before\n${opensslKey}after`;
  t.equal(masker.text(text), `before\n${KEY_REDACTED}\nafter`);
  const cut = opensslKey.slice(0, 60);
  t.equal(masker.text(`head ${cut}`), `head ${KEY_REDACTED}`);
  const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
  t.equal(masker.text(cert), cert, 'certificates are public');
  t.same(masker.mask({ files: [{ content: Buffer.from(opensslKey) }] }), { files: [{ content: `${KEY_REDACTED}\n` }] });
});

t.test('copes with cycles', async (t) => {
  const masker = new Masker();
  masker.add('x1y');
  const cyclic: Record<string, unknown> = { name: 'x1y' };
  cyclic.self = cyclic;
  const out = masker.mask(cyclic);
  t.equal(out.name, MASK);
  t.equal(out.self, out);
});

t.test('a censored result keeps only its status, host and task', async (t) => {
  const masker = new Masker();
  const task = { name: 'set password', module: 'copy', file: 'site.yml', line: 3 };
  const event: RunEvent = {
    type: 'result',
    host: 'h1',
    task,
    status: 'changed',
    censored: true,
    msg: 'changed the password to abc',
    item: 'abc',
    result: { password: 'abc' },
    diff: [{ path: '/p', before: '', after: 'abc' }],
  };
  t.same(redactEvent(event, masker), {
    type: 'result',
    host: 'h1',
    task,
    status: 'changed',
    censored: true,
    msg: CENSORED_MSG,
  });
  t.notMatch(JSON.stringify(redactEvent(event, masker)), /abc/);
});

t.test('a secret in any encoding: base64, hex, JSON-escaped, URL-encoded, and inside a larger base64 text', async (t) => {
  const masker = new Masker();
  const secret = 'pa"ss\\w0rd-42';
  masker.add(secret);
  const forms = [
    Buffer.from(secret).toString('base64'),
    Buffer.from(secret).toString('hex'),
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    Buffer.from(`a config file\nwith ${secret} inside it, and more text\n`).toString('base64'),
    Buffer.from(`x${secret}`).toString('hex'),
  ];
  for (const form of forms) {
    const shown = masker.text(`before ${form} after`);
    t.ok(!shown.includes(form) && shown.includes(MASK), `${form} -> ${shown}`);
  }
  t.equal(masker.text('nothing secret here, a path /usr/local/lib/node_modules and a digest 9f86d081884c7d659a2feaa0c55ad015'), 'nothing secret here, a path /usr/local/lib/node_modules and a digest 9f86d081884c7d659a2feaa0c55ad015');
});

t.test('private keys in any encoding: a kubeconfig\'s client-key-data, a bare DER body, base64 of a whole file', async (t) => {
  const masker = new Masker();
  const keyData = Buffer.from(opensslKey).toString('base64');
  const kubeconfig = `users:\n- name: admin\n  user:\n    client-certificate-data: QUJD\n    client-key-data: ${keyData}\n`;
  t.notMatch(masker.text(kubeconfig), keyData.slice(0, 20));
  const der = execFileSync('openssl', ['pkey', '-outform', 'DER'], { input: opensslKey });
  t.equal(masker.text(`body ${der.toString('base64')}`), `body ${MASK}`, 'a DER key, base64');
  t.equal(masker.text(`hex ${der.toString('hex')}`), `hex ${MASK}`, 'a DER key, hex');
  t.equal(masker.text(Buffer.from(kubeconfig).toString('base64')), MASK, 'a slurped kubeconfig');
  const aes = 'q9Jv3m0Gq0c2GmQ6bWcQn3Z3b1J2d9j3Xk2q1eY0mHo=';
  t.equal(masker.text(`keys:\n  - name: key1\n    secret: ${aes}\n`), `keys:\n  - name: key1\n    secret: ${MASK}\n`);
  t.same(masker.mask({ token: 'abc', password: 'p', ansible_become_password: 'x', port: 80 }), { token: MASK, password: MASK, ansible_become_password: MASK, port: 80 });
});

t.test('a diff of a file with key material: that it changed and a digest of each side; other secrets masked in place', async (t) => {
  const masker = new Masker();
  masker.add('hunter22');
  const key = masker.diff({ path: '/k', before: 'old\n', after: opensslKey });
  t.match(key.before, /^\(secret content hidden: 4 bytes, sha256:[0-9a-f]{64}\)\n$/);
  t.match(key.after, /^\(secret content hidden: \d+ bytes, sha256:[0-9a-f]{64}\)\n$/);
  t.same(masker.diff({ path: '/c', before: 'port=80\n', after: 'port=81\npass hunter22\n' }), { path: '/c', before: 'port=80\n', after: `port=81\npass ${MASK}\n` });
  const only = masker.diff({ path: '/c', before: 'pass x\n', after: 'pass hunter22\n' });
  t.not(only.before, only.after, 'a change only in a masked value is still seen');
});

t.test('what a no_log task printed stays secret; the short words of its command do not', async (t) => {
  const masker = new Masker();
  masker.addOutput({ stdout: 'tok-8f2k1', cmd: ['echo', 'tok-8f2k1x'], rc: 0, start: '2026-01-01', results: [{ stdout: 'item-secret' }] });
  t.equal(masker.text('echo tok-8f2k1 tok-8f2k1x item-secret'), `echo ${MASK} ${MASK} ${MASK}`);
});
