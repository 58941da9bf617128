// uri: an HTTP(S) request made ON THE HOST (as Ansible's uri runs there), with curl, in one round trip.
//
// Everything curl needs goes in a config on its stdin (url, method, headers, credentials, body), so no secret shows
// in the host's process list. The script prints curl's exit code, the status line facts, the last response's
// headers and the body (base64); with `dest` it writes the body beside dest and renames it when the status is
// expected. As in Ansible (which does not run uri in check mode), --check reports the task skipped and sends nothing.

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule } from './contract.ts';
import { asBecome } from './file-attrs.ts';

interface UriArgs {
  url: string;
  method: string;
  body?: unknown;
  body_format: 'raw' | 'json' | 'form-urlencoded';
  headers: Record<string, unknown>;
  status_code: number[];
  return_content: boolean;
  dest?: string;
  client_cert?: string;
  client_key?: string;
  ca_path?: string;
  validate_certs: boolean;
  timeout: number;
  follow_redirects: string;
  url_username?: string;
  url_password?: string;
  force_basic_auth: boolean;
  creates?: string;
  removes?: string;
  http_agent: string;
}

/** A string for curl's config file: double-quoted, with its escapes. */
const configString = (value: string): string =>
  `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;

/** JSON as Python's json.dumps writes it (", " and ": "), so a server sees the bytes Ansible would send. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function formUrlencoded(body: unknown): string {
  if (typeof body === 'string') return body;
  const pairs: [string, string][] =
    Array.isArray(body) ? (body as unknown[]).map((p) => (Array.isArray(p) ? [String(p[0]), String(p[1])] : [String(p), ''])) : Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, String(v)]);
  return new URLSearchParams(pairs).toString();
}

function sections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of stdout.split(/^@@(?=\w+\n)/m)) {
    const nl = part.indexOf('\n');
    if (nl > 0) out.set(part.slice(0, nl), part.slice(nl + 1));
  }
  return out;
}

export default defineModule<UriArgs>({
  name: 'uri',
  spec: {
    args: {
      url: { type: 'str', required: true },
      method: { type: 'str', default: 'GET' },
      body: { type: 'raw', description: 'A string, or a map/list with body_format json or form-urlencoded.' },
      body_format: { type: 'str', default: 'raw', choices: ['raw', 'json', 'form-urlencoded'] },
      headers: { type: 'dict', default: {} },
      status_code: { type: 'list', elements: 'int', default: [200], description: 'The statuses that count as success.' },
      return_content: { type: 'bool', default: false, description: 'Put the body in `content` (a JSON body is in `json` anyway).' },
      dest: { type: 'path', description: 'Write the body to this file on the host.' },
      client_cert: { type: 'path', description: 'Client certificate (PEM, on the host) for TLS client authentication.' },
      client_key: { type: 'path', description: 'Its key (on the host).' },
      ca_path: { type: 'path', description: 'CA certificate (on the host) to verify the server with.' },
      validate_certs: { type: 'bool', default: true },
      timeout: { type: 'int', default: 30, description: 'Seconds for the whole request.' },
      follow_redirects: { type: 'str', default: 'safe', choices: ['all', 'no', 'none', 'safe', 'urllib2', 'yes'], description: 'safe: only for GET and HEAD.' },
      url_username: { type: 'str', aliases: ['user'] },
      url_password: { type: 'str', aliases: ['password'], noLog: true },
      force_basic_auth: { type: 'bool', default: false, description: 'Send the credentials without waiting for a 401.' },
      creates: { type: 'path', description: 'Do nothing when this path exists on the host.' },
      removes: { type: 'path', description: 'Do nothing unless this path exists on the host.' },
      http_agent: { type: 'str', default: 'ansible-httpget' },
    },
  },
  async plan(args, ctx) {
    const method = args.method.toUpperCase();
    if (!/^[A-Z]+$/.test(args.method)) throw new ModuleError("Parameter 'method' needs to be a single word in uppercase, like GET or POST.");
    const become = asBecome(ctx.become);
    if (args.creates != null && (await ctx.conn.stat(args.creates, become)).exists) {
      return { changed: false, result: { stdout: `skipped, since '${args.creates}' exists` } };
    }
    if (args.removes != null && !(await ctx.conn.stat(args.removes, become)).exists) {
      return { changed: false, result: { stdout: `skipped, since '${args.removes}' does not exist` } };
    }
    const headers: Record<string, string> = Object.fromEntries(Object.entries(args.headers).map(([k, v]) => [k, String(v)]));
    const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
    let body: string | undefined;
    if (args.body != null) {
      if (args.body_format === 'json') {
        body = typeof args.body === 'string' ? args.body : pythonJson(args.body);
        if (!hasType) headers['Content-Type'] = 'application/json';
      } else if (args.body_format === 'form-urlencoded') {
        body = formUrlencoded(args.body);
        if (!hasType) headers['Content-Type'] = 'application/x-www-form-urlencoded';
      } else body = typeof args.body === 'string' ? args.body : JSON.stringify(args.body);
    }
    const follow = args.follow_redirects === 'all' || args.follow_redirects === 'yes' || args.follow_redirects === 'urllib2' ||
      (args.follow_redirects === 'safe' && (method === 'GET' || method === 'HEAD'));
    const config = [
      `url = ${configString(args.url)}`,
      `request = ${configString(method)}`,
      `user-agent = ${configString(args.http_agent)}`,
      ...Object.entries(headers).map(([k, v]) => `header = ${configString(`${k}: ${v}`)}`),
      ...(args.url_username != null ? [`user = ${configString(`${args.url_username}:${args.url_password ?? ''}`)}`, args.force_basic_auth ? 'basic' : 'anyauth'] : []),
      ...(body !== undefined ? [`data-binary = ${configString(body)}`] : []),
      ...(method === 'HEAD' ? ['head'] : []),
      ...(follow ? ['location', 'max-redirs = 50'] : []),
      `max-time = ${args.timeout}`,
      ...(args.validate_certs ? [] : ['insecure']),
      ...(args.ca_path != null ? [`cacert = ${configString(args.ca_path)}`] : []),
      ...(args.client_cert != null ? [`cert = ${configString(args.client_cert)}`] : []),
      ...(args.client_key != null ? [`key = ${configString(args.client_key)}`] : []),
      'silent',
      'show-error',
    ].join('\n');
    const dest = args.dest;
    const ok = args.status_code.join('|');
    const script =
      'command -v curl >/dev/null || { echo "@@nocurl"; exit 0; }; t=$(mktemp -d) || exit 1; trap \'rm -rf "$t"\' EXIT; ' +
      `curl -K - -o "$t/body" -D "$t/head" -w '%{http_code} %{num_redirects} %{url_effective}' > "$t/w" 2> "$t/err"; rc=$?; ` +
      'echo "@@rc"; echo "$rc"; echo "@@w"; cat "$t/w"; echo; echo "@@err"; cat "$t/err"; echo "@@head"; cat "$t/head" 2>/dev/null; ' +
      (dest != null
        ? `code=$(cut -d" " -f1 "$t/w"); case "$code" in ${ok}) if [ "$code" != 304 ]; then ` +
          `cp "$t/body" ${shellQuote(`${dest}.kplay-tmp`)} && mv -f ${shellQuote(`${dest}.kplay-tmp`)} ${shellQuote(dest)} && { echo "@@written"; echo; }; fi;; esac; `
        : '') + 'echo "@@body"; base64 -w0 "$t/body" 2>/dev/null; echo';
    return {
      changed: true,
      msg: `${method} ${args.url}`,
      unpredictable: `uri sends its request only in a real run (Ansible skips it in check mode too)`,
      apply: async () => {
        const start = Date.now();
        const r = await ctx.conn.exec(script, { ...become, stdin: config });
        const s = sections(r.stdout);
        if (s.has('nocurl')) throw new ModuleError('uri needs curl on the host (Debian: the curl package)');
        const rc = Number((s.get('rc') ?? '').trim());
        const [code = '000', redirects = '0', effective = args.url] = (s.get('w') ?? '').trim().split(' ');
        const elapsed = Math.round((Date.now() - start) / 1000);
        if (r.rc !== 0 || rc !== 0 || code === '000') {
          throw new ModuleError(`Request failed: ${(s.get('err') ?? r.stderr).trim() || `curl exit ${rc}`}`, { status: -1, url: args.url, redirected: false, elapsed });
        }
        // The last response's headers (curl prints every hop's when following redirects).
        const blocks = (s.get('head') ?? '').split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b.trim()));
        const headerLines = (blocks[blocks.length - 1] ?? '').trim().split(/\r?\n/).slice(1);
        const result: Record<string, unknown> = {};
        for (const line of headerLines) {
          const colon = line.indexOf(':');
          if (colon > 0) result[line.slice(0, colon).trim().toLowerCase().replace(/-/g, '_')] = line.slice(colon + 1).trim();
        }
        const status = Number(code);
        const content = Buffer.from((s.get('body') ?? '').trim(), 'base64').toString('utf8');
        const contentType = String(result.content_type ?? '');
        const subType = (contentType.split(';')[0].split('/')[1] ?? '').toLowerCase();
        const maybeJson = ['json', 'javascript'].includes(subType.includes('+') ? subType.split('+')[1] : subType);
        Object.assign(result, {
          status,
          url: effective,
          redirected: effective !== args.url || Number(redirects) > 0,
          elapsed,
          changed: s.has('written'),
          msg: `OK (${s.has('written') ? 'written' : `${Buffer.byteLength(content)} bytes`})`,
          ...(dest != null ? { path: dest } : {}),
        });
        if (maybeJson) {
          try {
            result.json = JSON.parse(content) as unknown;
          } catch {
            // not JSON after all: Ansible leaves `json` out too
          }
        }
        if (args.return_content) result.content = content;
        if (!args.status_code.includes(status)) {
          throw new ModuleError(`Status code was ${status} and not [${args.status_code.join(', ')}]: HTTP Error ${status}`, { ...result, changed: false });
        }
        return result;
      },
    };
  },
});
