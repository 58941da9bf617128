// A scripted run for the reporter tests: two plays, several hosts, every kind of result, and secrets to hide.

import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import type { RunEvent, TaskRef } from '../../engine/core/events.ts';
import { Masker } from '../../engine/core/mask.ts';

export const SECRET = 'hunter2-Sup3rSecret';
export const BECOME_PASSWORD = 'b3come-pa55';

const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
/** A real key in the two PEM shapes a run meets (PKCS#1 `RSA PRIVATE KEY`, PKCS#8 `PRIVATE KEY`). */
export const PKCS1_KEY = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
export const PKCS8_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Text that must never appear in any output. */
export function forbiddenTexts(): string[] {
  const keyBody = (pem: string) => pem.split('\n').slice(1, -2).join('\n');
  return [SECRET, BECOME_PASSWORD, 'PRIVATE KEY', keyBody(PKCS1_KEY).slice(0, 40), keyBody(PKCS8_KEY)];
}

export function secrets(): Masker {
  const masker = new Masker();
  masker.add(SECRET);
  masker.add(BECOME_PASSWORD);
  return masker;
}

const task = (name: string, module: string, line: number, handler = false): TaskRef => ({
  name,
  module,
  file: 'site.yml',
  line,
  handler,
});

const writeConfig = task('write config', 'template', 5);
const install = task('install packages', 'package', 12);
const setPassword = task('set db password', 'copy', 20);
const onlyDb = task('only on db', 'command', 26);
const makeKey = task('generate CA key', 'pki_keypair', 3);
const showEndpoint = task('show endpoint', 'debug', 7);
const checkService = task('check service', 'command', 9);
const restart = task('restart db', 'systemd', 15, true);

/** The events of the run, in order, as the runner emits them. */
export function scriptedRun(): RunEvent[] {
  const webHosts = ['web1', 'web2', 'web3'];
  const started = (t: TaskRef, hosts: string[]): RunEvent[] => [
    { type: 'task', task: t, hosts },
    ...hosts.map((host): RunEvent => ({ type: 'host_task', host, task: t })),
  ];
  return [
    { type: 'start', playbook: 'site.yml', check: false, diff: true },
    { type: 'play', name: 'web servers', hosts: webHosts },
    ...started(writeConfig, webHosts),
    {
      type: 'result',
      host: 'web1',
      task: writeConfig,
      status: 'changed',
      msg: 'write /etc/app.conf 0640',
      diff: [{ path: '/etc/app.conf', before: 'port=80\nuser=app\n', after: `port=8080\nuser=app\npassword=${SECRET}\n` }],
      result: { path: '/etc/app.conf' },
    },
    { type: 'result', host: 'web2', task: writeConfig, status: 'ok', msg: 'ok', result: { path: '/etc/app.conf' } },
    {
      type: 'result',
      host: 'web3',
      task: writeConfig,
      status: 'unreachable',
      msg: `ssh web3:22: authentication failed for become password ${BECOME_PASSWORD}`,
    },
    ...started(install, ['web1', 'web2']),
    { type: 'result', host: 'web1', task: install, status: 'ok', item: 'nginx' },
    { type: 'result', host: 'web1', task: install, status: 'changed', item: 'curl' },
    { type: 'result', host: 'web2', task: install, status: 'ok', item: 'nginx' },
    { type: 'result', host: 'web2', task: install, status: 'failed', item: 'curl', msg: 'no package curl' },
    ...started(setPassword, ['web1']),
    {
      type: 'result',
      host: 'web1',
      task: setPassword,
      status: 'changed',
      censored: true,
      msg: 'set the password',
      item: { user: 'db', password: SECRET },
      result: { password: SECRET },
      diff: [{ path: '/etc/db.pass', before: '', after: SECRET }],
    },
    ...started(onlyDb, ['web1']),
    { type: 'result', host: 'web1', task: onlyDb, status: 'skipped' },
    { type: 'play', name: 'database', hosts: ['db1'] },
    ...started(makeKey, ['db1']),
    {
      type: 'result',
      host: 'db1',
      task: makeKey,
      status: 'changed',
      msg: 'create /etc/kplay/ca.key 0600',
      result: { path: '/etc/kplay/ca.key', content: PKCS1_KEY, nested: [{ pem: PKCS8_KEY }] },
    },
    ...started(showEndpoint, ['db1']),
    {
      type: 'result',
      host: 'db1',
      task: showEndpoint,
      status: 'ok',
      msg: `https://db1:2379 token ${SECRET}`,
      result: { msg: `https://db1:2379 token ${SECRET}` },
    },
    ...started(checkService, ['db1']),
    {
      type: 'result',
      host: 'db1',
      task: checkService,
      status: 'failed',
      ignored: true,
      msg: `db is not running (token ${SECRET})`,
      result: { rc: 3, stderr: `auth ${SECRET} refused` },
    },
    { type: 'warning', host: 'db1', message: `the password ${SECRET} is in plain text` },
    ...started(restart, ['db1']),
    { type: 'result', host: 'db1', task: restart, status: 'changed', delegatedTo: 'web1' },
    {
      type: 'recap',
      hosts: {
        web1: { ok: 3, changed: 3, failed: 0, skipped: 1, unreachable: 0, rescued: 0, ignored: 0 },
        web2: { ok: 1, changed: 0, failed: 1, skipped: 0, unreachable: 0, rescued: 0, ignored: 0 },
        web3: { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 1, rescued: 0, ignored: 0 },
        db1: { ok: 4, changed: 2, failed: 0, skipped: 0, unreachable: 0, rescued: 0, ignored: 1 },
      },
    },
  ];
}

/** A stream that keeps what is written to it; `tty` makes it look like a terminal of that size. */
export class CaptureStream extends Writable {
  text = '';
  isTTY?: boolean;
  columns?: number;
  rows?: number;

  constructor(tty?: { columns: number; rows: number }) {
    super({ decodeStrings: false });
    if (tty) Object.assign(this, { isTTY: true, ...tty });
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** A play over many hosts (the live reporter then shows one row for them all): one ok task, one that changes some. */
export function fleetRun(count: number): RunEvent[] {
  const hosts = Array.from({ length: count }, (_, i) => `node${String(i + 1).padStart(2, '0')}`);
  const ping = task('ping', 'ping', 2);
  const motd = task('write motd', 'copy', 6);
  const events: RunEvent[] = [{ type: 'start', playbook: 'fleet.yml', check: false, diff: false }];
  events.push({ type: 'play', name: 'fleet', hosts });
  const recap: Record<string, ReturnType<typeof countsOf>> = {};
  for (const t of [ping, motd]) {
    events.push({ type: 'task', task: t, hosts });
    for (const host of hosts) events.push({ type: 'host_task', host, task: t });
    hosts.forEach((host, i) => {
      const status = t === ping ? 'ok' : i === 6 ? 'failed' : i % 10 === 0 ? 'changed' : 'ok';
      events.push({ type: 'result', host, task: t, status, ...(status === 'failed' ? { msg: 'disk full' } : {}) });
      const c = (recap[host] ??= countsOf());
      if (status === 'failed') c.failed++;
      else c.ok++;
      if (status === 'changed') c.changed++;
    });
  }
  events.push({ type: 'recap', hosts: recap });
  return events;
}

function countsOf() {
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, rescued: 0, ignored: 0 };
}
