// wait_for: poll ON THE HOST, in one exec (a small bash loop), until a port opens or closes, a file appears (with a
// line matching search_regex) or goes, or a URL answers with an expected HTTP status. Never changes anything.
//
// In --check it does not wait (changed false, msg says so): what it waits for is often started by this very run.
// With none of port, path and url it sleeps `timeout` seconds, as Ansible does.

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule, type Plan } from './contract.ts';
import { asBecome } from './file-attrs.ts';
import { omitNulls } from '../core/given.ts';

interface WaitForArgs {
  host: string;
  port?: number;
  path?: string;
  url?: string;
  state: 'started' | 'present' | 'stopped' | 'absent';
  timeout: number;
  delay: number;
  sleep: number;
  connect_timeout: number;
  search_regex?: string;
  status_code: number[];
  ca_path?: string;
  client_cert?: string;
  client_key?: string;
  validate_certs: boolean;
  headers?: Record<string, unknown>;
  msg?: string;
}

const TIMED_OUT = 124;

/** A bash `probe` function that succeeds when the thing is there (port open, file present, URL status expected). */
function probe(args: WaitForArgs): { fn: string; what: string } | undefined {
  const ct = String(args.connect_timeout);
  if (args.port !== undefined) {
    // The host name goes into a /dev/tcp path inside a command line: only a name or an address can.
    if (!/^[A-Za-z0-9._:-]+$/.test(args.host)) throw new ModuleError(`host must be a host name or an address, got ${JSON.stringify(args.host)}`);
    // /dev/tcp is bash's own; `timeout` bounds a connect to a host that drops packets.
    const connect = `exec 3<>/dev/tcp/${args.host}/${args.port}`;
    return { fn: `probe() { timeout ${ct} bash -c ${shellQuote(connect)} 2>/dev/null; }`, what: `${args.host}:${args.port}` };
  }
  if (args.path !== undefined) {
    const p = shellQuote(args.path);
    if (args.search_regex === undefined) return { fn: `probe() { [ -e ${p} ]; }`, what: `file ${args.path}` };
    return {
      fn: `probe() { [ -f ${p} ] && grep -Eq -- ${shellQuote(args.search_regex)} ${p}; }`,
      what: `search string ${JSON.stringify(args.search_regex)} in ${args.path}`,
    };
  }
  if (args.url !== undefined) {
    const flags = ['-s', '-o /dev/null', `-w '%{http_code}'`, `--max-time ${ct}`];
    if (!args.validate_certs) flags.push('-k');
    if (args.ca_path) flags.push(`--cacert ${shellQuote(args.ca_path)}`);
    if (args.client_cert) flags.push(`--cert ${shellQuote(args.client_cert)}`);
    if (args.client_key) flags.push(`--key ${shellQuote(args.client_key)}`);
    for (const [name, value] of Object.entries(args.headers ?? {})) flags.push(`-H ${shellQuote(`${name}: ${String(value)}`)}`);
    const codes = args.status_code.map((c) => `"${c}"`).join('|');
    // `last` keeps the last status seen, for the error message.
    const fn = `probe() { last=$(curl ${flags.join(' ')} -- ${shellQuote(args.url)}); case "$last" in ${codes}) return 0;; esac; return 1; }`;
    return { fn, what: `${args.url} to answer with status ${args.status_code.join(' or ')}` };
  }
  return undefined;
}

/** The whole loop: delay, then probe every `sleep` seconds until the wanted state or the deadline (from the start). */
function loop(args: WaitForArgs, fn: string, present: boolean): string {
  const ms = (seconds: number): number => Math.round(seconds * 1000);
  const reached = present ? 'probe' : '! probe';
  return [
    fn,
    `now() { date +%s%3N; }`,
    `last=`,
    `deadline=$(( $(now) + ${ms(args.timeout)} ))`,
    args.delay > 0 ? `sleep ${args.delay}` : '',
    `while :; do`,
    `  if ${reached}; then exit 0; fi`,
    `  [ "$(now)" -ge "$deadline" ] && { echo "$last"; exit ${TIMED_OUT}; }`,
    `  sleep ${args.sleep}`,
    `done`,
  ].join('\n');
}

export default defineModule<WaitForArgs>({
  name: 'wait_for',
  spec: {
    args: {
      host: { type: 'str', default: '127.0.0.1', description: 'Host whose port to wait for, as seen from the target host.' },
      port: { type: 'int' },
      path: { type: 'path', description: 'A file on the host to wait for (with search_regex: a line of it to match).' },
      url: { type: 'str', description: "kplay's own: wait until this http(s) URL, fetched on the host, answers with status_code." },
      state: {
        type: 'str',
        default: 'started',
        choices: ['started', 'present', 'stopped', 'absent'],
        description: 'started/present: wait until it is there; stopped/absent: until it is gone.',
      },
      timeout: { type: 'float', default: 300, description: 'Seconds, from the start (delay included), before the task fails.' },
      delay: { type: 'float', default: 0, description: 'Seconds to wait before the first check.' },
      sleep: { type: 'float', default: 1, description: 'Seconds between checks.' },
      connect_timeout: { type: 'float', default: 5, description: 'Seconds one port or URL check may take.' },
      search_regex: { type: 'str', description: 'With path: an extended regular expression (grep -E) a line of the file must match.' },
      status_code: { type: 'list', elements: 'int', default: [200], description: 'With url: the statuses that count as up.' },
      ca_path: { type: 'path', description: 'With url: CA certificate file (on the host) to verify the server with.' },
      client_cert: { type: 'path', description: 'With url: client certificate (on the host) for TLS client authentication.' },
      client_key: { type: 'path', description: 'With url: the key of client_cert (on the host).' },
      validate_certs: { type: 'bool', default: true, description: 'With url: false accepts any server certificate.' },
      headers: { type: 'dict', description: 'With url: HTTP headers to send, e.g. {Host: kubernetes.default}.' },
      msg: { type: 'str', description: 'The failure message instead of the default one.' },
    },
    mutuallyExclusive: [['port', 'path', 'url']],
  },
  async plan(given, ctx) {
    const args = omitNulls(given);
    if (args.search_regex !== undefined && args.path === undefined) throw new ModuleError('search_regex needs path (ports and URLs are not searched)');
    const present = args.state === 'started' || args.state === 'present';
    const target = probe(args);
    const waitsFor = target ? `${present ? '' : 'absence of '}${target.what}` : `${args.timeout} seconds`;
    // The wait is work that changes nothing: it runs in apply(), so --check (which never applies) does not wait.
    const plan: Plan = {
      changed: false,
      applyUnchanged: true,
      msg: `not waited for ${waitsFor} in check mode`,
      result: { elapsed: 0 },
      apply: async () => {
        const start = Date.now();
        const script = target ? loop(args, target.fn, present) : `sleep ${args.timeout}`;
        // The loop ends itself at the deadline; the exec's own limit is only a guard against a hung check.
        const timeoutMs = Math.round((args.timeout + args.delay + args.connect_timeout + 30) * 1000);
        const r = await ctx.conn.exec(`bash -c ${shellQuote(script)}`, { ...asBecome(ctx.become), timeoutMs });
        const elapsed = Math.round((Date.now() - start) / 1000);
        const result = { elapsed, state: args.state, ...(args.port !== undefined ? { port: args.port } : {}), ...(args.path !== undefined ? { path: args.path } : {}) };
        if (r.rc === TIMED_OUT) {
          const last = r.stdout.trim();
          const seen = args.url !== undefined ? ` (last status: ${last === '' || last === '000' ? 'no answer' : last})` : '';
          throw new ModuleError(args.msg ?? `Timeout when waiting for ${waitsFor}${seen}`, result);
        }
        if (r.rc !== 0) throw new ModuleError(`wait_for failed: ${r.stderr.trim() || `exit ${r.rc}`}`, { ...result, rc: r.rc });
        plan.msg = !target ? `slept ${args.timeout}s` : `${waitsFor} after ${elapsed}s`;
        return result;
      },
    };
    return plan;
  },
});
