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
  masker.add('x1');
  const cyclic: Record<string, unknown> = { name: 'x1' };
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
