// kubectl_apply: apply manifests with kubectl ON THE HOST (a kubeconfig there says which cluster and who).
//
// plan() sends the manifest over stdin to `kubectl diff -f -` (one exec): exit 0 means the live objects already are
// what the manifest says (not changed), 1 that applying would change them. kubectl diff hands two folders (live and
// merged objects, one file each) to $KUBECTL_EXTERNAL_DIFF: ours prints the whole of both files of every object
// that differs, so --diff shows one before/after per object, as for a file. Secrets show their keys, never values.
// apply() is `kubectl apply -f -`. --check runs only the diff.
//
// An object in a namespace the same manifest creates cannot be diffed (the dry run needs the namespace): then the
// plan says changed, and shows the manifest's objects as new. In --check, a cluster that cannot be reached yet (its
// kubeconfig or API server come from earlier tasks of the same run) makes the task skipped, not failed.

import { readFile } from 'node:fs/promises';
import { parseAllDocuments, stringify } from 'yaml';
import { shellQuote } from '../core/shell.ts';
import { renderTemplateFile } from '../vars/template.ts';
import { ModuleError, defineModule, type FileDiff, type ModuleContext } from './contract.ts';
import { asBecome } from './file-attrs.ts';
import { omitNulls } from '../core/given.ts';

interface KubectlApplyArgs {
  src?: string;
  template?: string;
  definition?: unknown;
  kubeconfig?: string;
  kubectl: string;
  namespace?: string;
  server_side: boolean;
  force_conflicts: boolean;
  field_manager: string;
}

type KubeObject = Record<string, unknown> & { kind?: string; metadata?: { name?: string; namespace?: string } };

const OBJECT_MARK = '@@kplay-object';

// The program kubectl diff runs with the live and merged folders: for each object that differs, one line with its
// file name and both contents in base64 (empty when absent); exit 1 when any differs, as diff does.
const EXTERNAL_DIFF = `#!/bin/sh
rc=0
b() { if [ -f "$1" ]; then base64 -w0 < "$1"; fi; }
for n in $( (ls -A "$1"; ls -A "$2") | sort -u); do
  cmp -s "$1/$n" "$2/$n" && continue
  rc=1
  printf '${OBJECT_MARK} %s %s %s\\n' "$n" "$(b "$1/$n")" "$(b "$2/$n")"
done
exit $rc
`;

/** The manifest text, from the controller file, the rendered template, or the inline definition. */
async function manifest(args: KubectlApplyArgs, ctx: ModuleContext): Promise<string> {
  if (args.src !== undefined) return readFile(ctx.findFile(args.src, 'files'), 'utf8');
  if (args.template !== undefined) {
    const path = ctx.findFile(args.template, 'templates');
    if (path.endsWith('.ejs')) return renderTemplateFile(path, ctx.vars as Record<string, unknown>);
    return ctx.renderTemplate(await readFile(path, 'utf8'), path);
  }
  const definition = args.definition;
  if (typeof definition === 'string') return definition;
  if (Array.isArray(definition)) return definition.map((doc) => stringify(doc)).join('---\n');
  if (definition !== null && typeof definition === 'object') return stringify(definition);
  throw new ModuleError('definition must be a map, a list of maps, or YAML text');
}

/** The objects of a manifest (a `kind: List` is opened); a YAML error is the task's failure. */
function objectsOf(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new ModuleError(`manifest is not valid YAML: ${doc.errors[0].message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new ModuleError('manifest: each document must be a Kubernetes object (a map)');
    const object = value as KubeObject;
    if (object.kind === 'List' && Array.isArray(object.items)) objects.push(...(object.items as KubeObject[]));
    else objects.push(object);
  }
  if (objects.length === 0) throw new ModuleError('manifest holds no objects');
  return objects;
}

/** `Kind/namespace/name`, or `Kind/name` for cluster objects: how diffs and results name an object. */
function objectName(object: KubeObject | undefined, fallback: string): string {
  const name = object?.metadata?.name;
  if (!object?.kind || !name) return fallback;
  return [object.kind, object.metadata?.namespace, name].filter((part) => part).join('/');
}

/** A Secret's keys with `***` for values (`*** (before)`/`*** (after)` where they differ), never the values. */
function maskedSecret(secret: KubeObject, other: KubeObject | undefined, side: 'before' | 'after'): string {
  const values = (o: KubeObject | undefined): Record<string, unknown> => ({ ...(o?.data as object), ...(o?.stringData as object) });
  const mine = values(secret);
  const theirs = values(other);
  const data = Object.fromEntries(Object.keys(mine).sort().map((key) => [key, mine[key] === theirs[key] ? '***' : `*** (${side})`]));
  const { name, namespace } = secret.metadata ?? {};
  return stringify({ apiVersion: secret.apiVersion, kind: secret.kind, metadata: { name, namespace }, type: secret.type, data });
}

function parseObject(text: string): KubeObject | undefined {
  if (text === '') return undefined;
  try {
    const value = parseAllDocuments(text)[0]?.toJS() as unknown;
    return value !== null && typeof value === 'object' ? (value as KubeObject) : undefined;
  } catch {
    return undefined;
  }
}

/** One before/after per object from our external diff's lines; Secrets masked. */
function objectDiffs(stdout: string): FileDiff[] {
  const diffs: FileDiff[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(`${OBJECT_MARK} `)) continue;
    const [, file, live = '', merged = ''] = line.split(' ');
    const before = Buffer.from(live, 'base64').toString();
    const after = Buffer.from(merged, 'base64').toString();
    const [old, next] = [parseObject(before), parseObject(after)];
    const path = objectName(next ?? old, file);
    if ((next ?? old)?.kind === 'Secret') {
      diffs.push({ path, before: old ? maskedSecret(old, next, 'before') : '', after: next ? maskedSecret(next, old, 'after') : '' });
    } else diffs.push({ path, before, after });
  }
  return diffs;
}

/** The kubectl words shared by diff and apply. */
function kubectlWords(args: KubectlApplyArgs, verb: 'diff' | 'apply'): string {
  const words = [shellQuote(args.kubectl)];
  if (args.kubeconfig) words.push('--kubeconfig', shellQuote(args.kubeconfig));
  if (args.namespace) words.push('--namespace', shellQuote(args.namespace));
  words.push(verb, '-f', '-', `--field-manager=${shellQuote(args.field_manager)}`);
  if (args.server_side) words.push('--server-side');
  if (args.server_side && args.force_conflicts) words.push('--force-conflicts');
  return words.join(' ');
}

/** kubectl diff with our external diff, written to a temp folder and removed in the same exec. */
function diffCommand(args: KubectlApplyArgs): string {
  return [
    'd=$(mktemp -d)',
    `cat > "$d/diff" <<'KPLAY_EOF'\n${EXTERNAL_DIFF}KPLAY_EOF`,
    'chmod 700 "$d/diff"',
    `KUBECTL_EXTERNAL_DIFF="$d/diff" ${kubectlWords(args, 'diff')}`,
    'rc=$?; rm -rf "$d"; exit $rc',
  ].join('\n');
}

// kubectl's words for a cluster it cannot talk to (as opposed to a manifest the cluster refuses).
// ("The connection to the server H:P was refused" is what kubectl diff says when the API server is not up yet.)
const UNREACHABLE = /Unable to connect to the server|connection refused|The connection to the server \S+ was refused|no such host|i\/o timeout|stat .*: no such file or directory|no configuration has been provided/i;

/** The namespace a failed dry run says is missing, when this manifest creates it. */
function namespaceCreatedHere(stderr: string, objects: KubeObject[]): string | undefined {
  const missing = /namespaces? "([^"]+)" not found/.exec(stderr)?.[1];
  return objects.some((o) => o.kind === 'Namespace' && o.metadata?.name === missing) ? missing : undefined;
}

export default defineModule<KubectlApplyArgs>({
  name: 'kubectl_apply',
  spec: {
    args: {
      src: { type: 'path', description: 'A manifest file on the controller: files/ of the role, or beside the playbook.' },
      template: { type: 'path', description: 'A Jinja (or .ejs) manifest: templates/ of the role, or beside the playbook; rendered with the host variables.' },
      definition: { type: 'raw', description: 'The objects inline: a map, a list of maps, or YAML text (several documents allowed).' },
      kubeconfig: { type: 'path', description: 'Kubeconfig on the host; without it kubectl finds its own ($KUBECONFIG, ~/.kube/config).' },
      kubectl: { type: 'str', default: 'kubectl', description: 'The kubectl binary on the host.' },
      namespace: { type: 'str', description: 'Namespace for objects that name none.' },
      server_side: { type: 'bool', default: false, description: 'Server-side apply (and diff).' },
      force_conflicts: { type: 'bool', default: false, description: 'With server_side: take over fields another manager owns.' },
      field_manager: { type: 'str', default: 'kplay', description: 'The field manager the applied fields are recorded under.' },
    },
    mutuallyExclusive: [['src', 'template', 'definition']],
    requiredOneOf: [['src', 'template', 'definition']],
  },
  async plan(given, ctx) {
    const args = omitNulls(given);
    const text = await manifest(args, ctx);
    const objects = objectsOf(text);
    const names = objects.map((o, i) => objectName(o, `object ${i + 1}`));
    const run = (command: string): ReturnType<ModuleContext['conn']['exec']> => ctx.conn.exec(command, { ...asBecome(ctx.become), stdin: text });

    const r = await run(diffCommand(args));
    let diff: FileDiff[];
    let notUpYet: (() => ModuleError) | undefined;
    if (r.rc === 0) return { changed: false, msg: `${names.length} object(s) up to date`, result: { objects: names } };
    if (r.rc === 1) diff = objectDiffs(r.stdout);
    else {
      const namespace = namespaceCreatedHere(r.stderr, objects);
      const failure = () => new ModuleError(`kubectl diff failed: ${r.stderr.trim() || `exit ${r.rc}`}`, { rc: r.rc, stderr: r.stderr });
      // An API server not answering (yet): in --check, earlier tasks of this run would start it, and on it every object
      // is new; a real run that gets here fails in apply() with the same message, before applying anything.
      notUpYet = namespace === undefined && UNREACHABLE.test(r.stderr) ? failure : undefined;
      if (namespace === undefined && !notUpYet) throw failure();
      // Nothing of it can be diffed before its namespace (or the cluster) exists: every object is shown as new.
      diff = objects.map((o, i) => ({ path: names[i], before: '', after: o.kind === 'Secret' ? maskedSecret(o, undefined, 'after') : stringify(o) }));
    }
    const changedNames = diff.map((d) => d.path);
    return {
      changed: true,
      msg: `apply ${changedNames.join(', ')}`,
      diff: ctx.diff ? diff : undefined,
      result: { objects: names, changed_objects: changedNames },
      apply: async () => {
        if (notUpYet) throw notUpYet();
        const applied = await run(kubectlWords(args, 'apply'));
        const stdout = applied.stdout.trim();
        if (applied.rc !== 0) throw new ModuleError(`kubectl apply failed: ${applied.stderr.trim() || `exit ${applied.rc}`}`, { rc: applied.rc, stdout, stderr: applied.stderr });
        return { stdout, stdout_lines: stdout === '' ? [] : stdout.split('\n') };
      },
    };
  },
});
