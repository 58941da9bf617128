// etcd_key: one key of etcd holds a value, read and written with etcdctl ON THE HOST over TLS, through etcd's v3 API
// or its v2 API (flannel before 0.17 reads only v2). A JSON value is compared as JSON, so key order does not count.
//
// In --check on fresh hosts etcd is not running yet: the key cannot be read, and the plan says it would be written
// (as the real run, which starts etcd first, will). A real run that still cannot read it fails in apply(), before
// writing: one code path for both, as every module.

import { ModuleError, defineModule, shellQuote, type ModuleContext } from 'kplay/module';

interface EtcdKeyArgs {
  key: string;
  value: string;
  api: 'v3' | 'v2';
  endpoints: string;
  cacert?: string;
  cert?: string;
  cert_key?: string;
  etcdctl: string;
}

/** The etcdctl command line of an API version, TLS options included, for `words`. */
function etcdctl(args: EtcdKeyArgs, words: string[]): string {
  const tls =
    args.api === 'v3'
      ? [['--cacert', args.cacert], ['--cert', args.cert], ['--key', args.cert_key]]
      : [['--ca-file', args.cacert], ['--cert-file', args.cert], ['--key-file', args.cert_key]];
  const options = tls.flatMap(([flag, value]) => (value ? [`${flag}=${value}`] : []));
  const env = `ETCDCTL_API=${args.api === 'v3' ? 3 : 2}`;
  return [env, args.etcdctl, `--endpoints=${args.endpoints}`, ...options, ...words].map((w, i) => (i === 0 ? w : shellQuote(w))).join(' ');
}

/** The key's value, or null when it is not set. */
async function readKey(args: EtcdKeyArgs, ctx: ModuleContext): Promise<{ value: string | null; error?: string }> {
  const words = args.api === 'v3' ? ['get', '--print-value-only', args.key] : ['get', args.key];
  const r = await ctx.conn.exec(etcdctl(args, words), { become: ctx.become, timeoutMs: 30_000 });
  if (r.rc === 0) {
    const out = r.stdout.replace(/\n$/, '');
    return { value: args.api === 'v3' && out === '' ? null : out };
  }
  if (args.api === 'v2' && /Key not found/.test(r.stderr)) return { value: null };
  return { value: null, error: (r.stderr || r.stdout).trim() || `etcdctl exited ${r.rc}` };
}

function sameValue(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(sortKeys(JSON.parse(a))) === JSON.stringify(sortKeys(JSON.parse(b)));
  } catch {
    return false;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortKeys(v)]));
}

export default defineModule<EtcdKeyArgs>({
  name: 'etcd_key',
  spec: {
    args: {
      key: { type: 'str', required: true },
      value: { type: 'str', required: true },
      api: { type: 'str', default: 'v3', choices: ['v3', 'v2'], description: "etcd's API the reader of the key uses." },
      endpoints: { type: 'str', default: 'https://127.0.0.1:2379', description: 'Client URLs, comma-separated.' },
      cacert: { type: 'path', description: 'CA to verify etcd with (on the host).' },
      cert: { type: 'path', description: 'Client certificate (on the host).' },
      cert_key: { type: 'path', description: 'Its key (on the host).' },
      etcdctl: { type: 'path', default: 'etcdctl' },
    },
  },
  async plan(args, ctx) {
    const now = await readKey(args, ctx);
    if (!now.error && now.value !== null && sameValue(now.value, args.value)) return { changed: false, result: { value: now.value } };
    const write = args.api === 'v3' ? ['put', args.key, args.value] : ['set', args.key, args.value];
    return {
      changed: true,
      msg: now.error ? `etcd not reachable yet: would set ${args.key}` : `set ${args.key}`,
      diff: [{ path: `etcd:${args.key}`, before: now.value === null ? '' : `${now.value}\n`, after: `${args.value}\n` }],
      result: { value: args.value },
      apply: async () => {
        if (now.error) throw new ModuleError(`cannot read ${args.key} from etcd: ${now.error}`);
        const r = await ctx.conn.exec(etcdctl(args, write), { become: ctx.become, timeoutMs: 30_000 });
        if (r.rc !== 0) throw new ModuleError(`cannot set ${args.key} in etcd: ${(r.stderr || r.stdout).trim()}`, { rc: r.rc });
      },
    };
  },
});
