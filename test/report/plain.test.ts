import { stripVTControlCharacters } from 'node:util';
import t from 'tap';
import { createReporter } from '../../engine/report/create.ts';
import { CaptureStream, forbiddenTexts, scriptedRun, secrets } from './scripted-run.ts';

async function runPlain(options: { verbosity: number; color?: boolean; diff?: boolean }) {
  const stream = new CaptureStream();
  const errStream = new CaptureStream();
  const reporter = await createReporter({
    output: 'text',
    tty: false,
    color: options.color ?? false,
    verbosity: options.verbosity,
    diff: options.diff ?? true,
    secrets: secrets(),
    stream,
    errStream,
  });
  for (const event of scriptedRun()) reporter.event(event);
  await reporter.close();
  return { out: stream.text, err: errStream.text };
}

const stars = (title: string) => `${title} ${'*'.repeat(79 - title.length)}`;

t.test('prints Ansible-like lines, diffs with --diff, and the recap', async (t) => {
  const { out, err } = await runPlain({ verbosity: 0 });
  t.equal(
    out,
    [
      '',
      stars('PLAY [web servers]'),
      '',
      stars('TASK [write config]'),
      '--- before: /etc/app.conf',
      '+++ after: /etc/app.conf',
      '@@ -1,2 +1,3 @@',
      '-port=80',
      '+port=8080',
      ' user=app',
      '+password=********',
      'changed: [web1]',
      'ok: [web2]',
      'fatal: [web3]: UNREACHABLE! => ssh web3:22: authentication failed for become password ********',
      '',
      stars('TASK [install packages]'),
      'ok: [web1] => (item=nginx)',
      'changed: [web1] => (item=curl)',
      'ok: [web2] => (item=nginx)',
      'failed: [web2] (item=curl) => no package curl',
      '',
      stars('TASK [set db password]'),
      'changed: [web1] => the output has been hidden due to no_log: true',
      '',
      stars('TASK [only on db]'),
      'skipping: [web1]',
      '',
      stars('PLAY [database]'),
      '',
      stars('TASK [generate CA key]'),
      'changed: [db1]',
      '',
      stars('TASK [show endpoint]'),
      'ok: [db1] => {',
      '    "msg": "https://db1:2379 token ********"',
      '}',
      '',
      stars('TASK [check service]'),
      'fatal: [db1]: FAILED! => db is not running (token ********)',
      '  rc: 3',
      '  stderr: auth ******** refused',
      '...ignoring',
      '',
      stars('RUNNING HANDLER [restart db]'),
      'changed: [db1 -> web1]',
      // Before the recap, every failed and unreachable host with its task, file:line and reason.
      '',
      stars('1 FAILED, 1 UNREACHABLE (of 4 hosts)'),
      'web2: failed at TASK [install packages] (item=curl) site.yml:12',
      '    no package curl',
      'web3: unreachable at TASK [write config] site.yml:5',
      '    ssh web3:22: authentication failed for become password ********',
      '',
      stars('PLAY RECAP'),
      'web1                       : ok=3    changed=3    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0',
      'web2                       : ok=1    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0',
      'web3                       : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0',
      'db1                        : ok=4    changed=2    unreachable=0    failed=0    skipped=0    rescued=0    ignored=1',
      '',
    ].join('\n'),
  );
  t.equal(err, '[WARNING]: db1: the password ******** is in plain text\n', 'warnings go to stderr');
});

t.test('without --diff no diff is shown', async (t) => {
  const { out } = await runPlain({ verbosity: 0, diff: false });
  t.notMatch(out, /before: \/etc\/app.conf/);
  t.match(out, /changed: \[web1\]\n/);
});

t.test('-v shows each result as JSON, -vv the task path, -vvv indented JSON', async (t) => {
  const v1 = (await runPlain({ verbosity: 1 })).out.split('\n');
  t.ok(v1.includes('changed: [web1] => {"msg":"write /etc/app.conf 0640","path":"/etc/app.conf"}'));
  t.ok(v1.includes('failed: [web2] (item=curl) => {"msg":"no package curl"}'));
  t.ok(v1.includes('fatal: [db1]: FAILED! => {"msg":"db is not running (token ********)","rc":3,"stderr":"auth ******** refused"}'));
  t.ok(v1.includes('changed: [web1] => the output has been hidden due to no_log: true'), 'censored stays censored');
  t.ok(
    v1.includes(
      'changed: [db1] => {"msg":"create /etc/kplay/ca.key 0600","path":"/etc/kplay/ca.key","content":"<private key redacted>\\n","nested":[{"pem":"<private key redacted>\\n"}]}',
    ),
  );
  t.ok(v1.includes(stars('PLAYBOOK: site.yml')));
  t.notOk(v1.includes('task path: site.yml:5'));
  const v2 = (await runPlain({ verbosity: 2 })).out.split('\n');
  t.ok(v2.includes('task path: site.yml:5'));
  const v3 = (await runPlain({ verbosity: 3 })).out;
  t.match(v3, /changed: \[web1\] => \{\n {4}"msg": "write \/etc\/app.conf 0640",\n {4}"path": "\/etc\/app.conf"\n\}/);
});

t.test('colours only when asked: green ok, yellow changed, red failed, cyan skipped', async (t) => {
  const plain = await runPlain({ verbosity: 0 });
  t.notOk((plain.out + plain.err).includes('\u001b['));
  const { out } = await runPlain({ verbosity: 0, color: true });
  t.match(out, '\u001b[32mok: [web2]\u001b[39m');
  t.match(out, '\u001b[33mchanged: [web1]\u001b[39m');
  t.match(out, '\u001b[31mfailed: [web2] (item=curl) => no package curl\u001b[39m');
  t.match(out, '\u001b[36mskipping: [web1]\u001b[39m');
  t.match(out, '\u001b[32m+port=8080\u001b[39m');
  t.match(out, '\u001b[31m-port=80\u001b[39m');
  t.match(out, `\u001b[33mweb1\u001b[39m${' '.repeat(22)} : \u001b[32mok=3\u001b[39m    \u001b[33mchanged=3\u001b[39m`);
  // Without the colour codes the text is the same as the plain run.
  t.equal(stripVTControlCharacters(out), plain.out);
});

t.test('no secret and no private key reaches any output, at any verbosity', async (t) => {
  for (const verbosity of [0, 1, 2, 3]) {
    const { out, err } = await runPlain({ verbosity, color: verbosity % 2 === 1 });
    for (const text of forbiddenTexts()) t.notOk((out + err).includes(text), `v${verbosity}: ${text.slice(0, 20)}`);
  }
});

t.test('a failed command shows its rc and the end of its output; debug shows its values without changed', async (t) => {
  const stream = new CaptureStream();
  const reporter = await createReporter({ output: 'text', tty: false, color: false, verbosity: 0, diff: false, secrets: secrets(), stream });
  const task = { name: 'build', module: 'command', file: 'site.yml', line: 1 };
  const stderr = Array.from({ length: 25 }, (_, i) => `error ${i + 1}`).join('\n') + '\n';
  reporter.event({ type: 'result', host: 'h', task, status: 'failed', msg: 'non-zero return code', result: { rc: 2, stderr, stdout: 'done\n' } });
  const debug = { name: 'show', module: 'debug', file: 'site.yml', line: 4 };
  reporter.event({ type: 'result', host: 'h', task: debug, status: 'ok', msg: 'x: 1', result: { x: 1, changed: false } });
  await reporter.close();
  t.equal(
    stream.text,
    [
      'fatal: [h]: FAILED! => non-zero return code',
      '  rc: 2',
      '  stderr: (last 20 of 25 lines)',
      ...Array.from({ length: 20 }, (_, i) => `          error ${i + 6}`),
      '  stdout: done',
      'ok: [h] => {',
      '    "x": 1',
      '}',
      '',
    ].join('\n'),
  );
});
