// Issue 12, acceptance 2: no secret in any output. Lab hosts where a user `deploy` logs in with a password and becomes
// root with root's password (sudo's rootpw), so each source is really used: connection passwords (ansible_password,
// ansible_ssh_pass), become passwords (inventory ansible_become_password / ansible_become_pass, -K typed into a
// pseudo-terminal, -e), a no_log task and what it printed, noLog module arguments (uri and get_url url_password, user
// password), private keys (a PEM file, a kubeconfig's base64 client-key-data, an encryption config's AES key) copied
// with --diff, slurped, printed. Every channel is swept: text at -v, -vv, -vvv, --diff, --output json, stderr, the
// terminal, .kplay/, an error that quotes a secret; no secret appears in any encoding (plain, base64, hex, JSON-escaped).

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { kplay, type KplayResult } from '../helpers/kplay.ts';
import type { FleetHost } from '../lab/fleet.ts';
import { runInPty } from '../report/pty.ts';
import { labFleet } from '../ssh/fixture.ts';

const word = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

/** Run a shell script inside a fleet host (its own /etc, /home, /tmp). */
function onHost(host: FleetHost, script: string): string {
  return execFileSync('nsenter', ['-t', String(host.sshdPid), '-m', '-u', '--', 'sh', '-c', script], { encoding: 'utf8' });
}

const setRootPassword = (host: FleetHost, password: string) => onHost(host, `printf '%s\\n' 'root:${password.replace(/'/g, `'\\''`)}' | chpasswd`);

/** A new private key, the kubeconfig that carries it, and an encryption config: the files the playbook copies. */
function keyFiles(dir: string): string[] {
  const pem = execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], { encoding: 'utf8' });
  const keyData = Buffer.from(pem).toString('base64');
  const aes = randomBytes(32).toString('base64');
  writeFileSync(join(dir, 'client.key'), pem);
  writeFileSync(join(dir, 'kubeconfig'), stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lab', cluster: { server: 'https://10.0.0.1:6443' } }],
    users: [{ name: 'admin', user: { 'client-certificate-data': Buffer.from('not a secret').toString('base64'), 'client-key-data': keyData } }],
    contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'admin' } }],
  }));
  writeFileSync(join(dir, 'encryption-config.yaml'), stringify({
    kind: 'EncryptionConfiguration',
    apiVersion: 'apiserver.config.k8s.io/v1',
    resources: [{ resources: ['secrets'], providers: [{ aescbc: { keys: [{ name: 'key1', secret: aes }] } }, { identity: {} }] }],
  }));
  const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
  return [pem, body.join(''), body[0], keyData, aes];
}

/** The forms a secret may take when printed. */
function encodings(secret: string): string[] {
  const bytes = Buffer.from(secret);
  return [
    secret,
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('hex'),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(JSON.stringify(secret)).slice(1, -1),
  ];
}

const PLAYBOOK = (nolog: string, uriPassword: string, getPassword: string, hash: string) => `
- hosts: all
  gather_facts: false
  tasks:
    - name: become root with a password
      command: id -un
      become: true
      register: who
    - debug: var=who.stdout
    - name: print the passwords (shown masked)
      debug:
        msg: >-
          become={{ ansible_become_password | default(ansible_become_pass) | default('') }}
          b64={{ ansible_become_password | default(ansible_become_pass) | default('') | b64encode }}
          json={{ ansible_become_password | default(ansible_become_pass) | default('') | to_json }}
          login={{ ansible_password | default(ansible_ssh_pass) }}
          login64={{ ansible_password | default(ansible_ssh_pass) | b64encode }}
    - debug: var=hostvars[inventory_hostname].ansible_password
    - name: an error that quotes the login password
      command: "false {{ ansible_password | default(ansible_ssh_pass) }}"
      ignore_errors: true
    - name: an argument error that quotes the become password
      file:
        path: /tmp/never
        mode: "{{ ansible_become_password | default(ansible_become_pass) | default('') }}"
      ignore_errors: true
    - name: a no_log task
      shell: "printf %s ${nolog} > /tmp/nolog && cat /tmp/nolog"
      no_log: true
      register: hidden
    - debug: var=hidden
    - name: what the no_log task wrote, read again
      command: cat /tmp/nolog
    - name: uri with a password
      uri:
        url: http://127.0.0.1:9/login
        url_username: admin
        url_password: "${uriPassword}"
      ignore_errors: true
    - name: get_url with a password
      get_url:
        url: http://127.0.0.1:9/file
        dest: /tmp/file
        checksum: sha256:${'0'.repeat(64)}
        url_username: admin
        url_password: "${getPassword}"
      ignore_errors: true
    - name: a user with a password
      user:
        name: app
        password: "${hash}"
      become: true
    - copy: src=client.key dest=/tmp/client.key mode=0600
    - copy: src=kubeconfig dest=/tmp/kubeconfig mode=0600
    - copy: src=encryption-config.yaml dest=/tmp/encryption-config.yaml mode=0600
    - slurp: src=/tmp/kubeconfig
      register: kubeconfig
    - debug: var=kubeconfig
    - debug: msg="{{ lookup('file', 'encryption-config.yaml') }}"
`;

t.test('no secret from any source reaches any output', async (t) => {
  const fleet = await labFleet(t, 2, 'secrets', { passwordLogin: true });
  if (!fleet) return;
  const [h1, h2] = fleet.hosts;
  const s = {
    login1: word('Login1'),
    login2: word('Login2'),
    become1: `${word('Bec"ome1')}\\x`,
    become2: word('Become2'),
    typed: word('Typed'),
    extra: word('Extra'),
    nolog: word('NoLog'),
    uri: word('UriPw'),
    getUrl: word('GetUrlPw'),
    hashInput: word('UserPw'),
  };
  const hash = execFileSync('openssl', ['passwd', '-6', '-salt', 'kplaysalt', s.hashInput], { encoding: 'utf8' }).trim();
  for (const [host, login] of [[h1, s.login1], [h2, s.login2]] as const) {
    onHost(host, [
      'useradd -m -s /bin/sh deploy',
      `printf '%s\\n' 'deploy:${login}' | chpasswd`,
      `printf 'Defaults:deploy rootpw\\nDefaults:deploy !lecture\\ndeploy ALL=(ALL:ALL) ALL\\n' > /etc/sudoers.d/deploy`,
      'chmod 440 /etc/sudoers.d/deploy',
    ].join(' && '));
  }
  const cwd = t.testdir({ 'site.yml': PLAYBOOK(s.nolog, s.uri, s.getUrl, hash) });
  const common = { kplay_known_hosts_file: fleet.knownHostsFile, ansible_user: 'deploy' };
  const inventory = (become: boolean) => stringify({
    all: {
      vars: common,
      hosts: {
        [h1.name]: { ansible_host: h1.address, ansible_password: s.login1, ...(become ? { ansible_become_password: s.become1 } : {}) },
        [h2.name]: { ansible_host: h2.address, ansible_ssh_pass: s.login2, ...(become ? { ansible_become_pass: s.become2 } : {}) },
      },
    },
  });
  writeFileSync(join(cwd, 'inv.yml'), inventory(true));
  writeFileSync(join(cwd, 'inv-k.yml'), inventory(false));
  const keys: string[] = [];
  const outputs: Array<[string, string]> = [];
  const env = { SSH_AUTH_SOCK: '' };
  const run = async (label: string, args: string[]): Promise<KplayResult> => {
    keys.push(...keyFiles(cwd));
    const r = await kplay(['run', 'site.yml', ...args], { cwd, env });
    outputs.push([`${label} stdout`, r.stdout], [`${label} stderr`, r.stderr]);
    return r;
  };
  const becameRoot = (text: string) => (text.match(/"who\.stdout": "root"/g) ?? []).length;

  // -K typed into a terminal: the prompt shows, the password is not echoed, and sudo takes it.
  setRootPassword(h1, s.typed);
  setRootPassword(h2, s.typed);
  keys.push(...keyFiles(cwd));
  const typed = await runInPty(['run', 'site.yml', '-i', 'inv-k.yml', '-K', '--progress', 'plain'], {
    cols: 200,
    rows: 50,
    cwd,
    env,
    answer: { when: (out) => out.includes('BECOME password: '), text: `${s.typed}\r` },
  });
  outputs.push(['-K terminal', typed.output]);
  t.equal(typed.code, 0, '-K run');
  if (typed.code !== 0) t.comment(typed.output.slice(-3000));
  t.match(typed.output, 'BECOME password: ', 'the prompt is shown');
  t.notMatch(typed.output, s.typed, 'what was typed is not echoed');
  t.equal(becameRoot(typed.output), 2, 'sudo took the typed password on both hosts');

  // The inventory's become passwords (one per host), at every verbosity, with --diff, as JSON.
  setRootPassword(h1, s.become1);
  setRootPassword(h2, s.become2);
  for (const args of [['-v'], ['-vv'], ['-vvv', '--diff']]) {
    const r = await run(args.join(' '), ['-i', 'inv.yml', ...args]);
    t.equal(r.code, 0, args.join(' '));
    if (r.code !== 0) t.comment(r.stderr + r.stdout.slice(-3000));
    t.equal(becameRoot(r.stdout), 2, `${args.join(' ')}: sudo took the inventory's passwords`);
  }
  const json = await run('json', ['-i', 'inv.yml', '--output', 'json', '-vvv', '--diff']);
  t.equal(json.code, 0, `--output json: ${json.stderr}`);
  t.same(Object.keys(json.recap ?? {}).sort(), [h1.name, h2.name]);
  t.ok(json.events.some((e) => e.type === 'result' && e.diff?.some((d) => /secret content hidden: \d+ bytes, sha256:[0-9a-f]{64}/.test(d.after))),
    '--diff of a secret file shows that it changed and a digest');
  t.ok(json.events.some((e) => e.type === 'result' && e.censored), 'the no_log result is censored');

  // -e's become password, over the inventory's.
  setRootPassword(h1, s.extra);
  setRootPassword(h2, s.extra);
  const extra = await run('-e', ['-i', 'inv.yml', '-e', `ansible_become_password=${s.extra}`, '-vvv', '--diff']);
  t.equal(extra.code, 0, `-e: ${extra.stderr}`);
  t.equal(becameRoot(extra.stdout), 2, 'sudo took -e\'s password');

  // A load error that quotes a secret (the hosts: pattern rendered from -e).
  writeFileSync(join(cwd, 'quote.yml'), '- hosts: "{{ ansible_become_password }}"\n  tasks: []\n');
  const quoted = await kplay(['run', 'quote.yml', '-i', 'inv.yml', '-e', `ansible_become_password=${s.extra}`], { cwd, env });
  t.equal(quoted.code, 1);
  t.match(quoted.stderr, /quote\.yml:1:10: hosts "{{ ansible_become_password }}" \(rendered "\*{8}"\) matches no host/);
  outputs.push(['load error', quoted.stderr + quoted.stdout]);

  // What the runs did on the hosts: the user's hash is the one given, the files are the last run's.
  t.match(onHost(h1, 'getent shadow app'), `app:${hash}:`);
  t.equal(onHost(h2, 'cat /tmp/kubeconfig'), readFileSync(join(cwd, 'kubeconfig'), 'utf8'));

  for (const file of readdirSync(join(cwd, '.kplay'))) {
    const path = join(cwd, '.kplay', file);
    if (statSync(path).isFile()) outputs.push([`.kplay/${file}`, readFileSync(path, 'utf8')]);
  }
  const secrets: Array<[string, string]> = [...Object.entries(s), ['user hash', hash], ...keys.map((k, i) => [`key ${i}`, k] as [string, string])];
  let found = 0;
  for (const [channel, text] of outputs) {
    for (const [name, secret] of secrets) {
      for (const form of encodings(secret)) {
        if (form.length >= 8 && text.includes(form)) {
          found++;
          t.fail(`${name} appears in ${channel} as ${JSON.stringify(form.slice(0, 40))}`);
        }
      }
    }
  }
  t.equal(found, 0, `no secret in ${outputs.length} outputs (${secrets.length} secrets, 6 encodings each)`);
  t.match(outputs.map(([, text]) => text).join('\n'), /\*{8}/, 'masked values show as ********');
});
