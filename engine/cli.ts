// argv → options → load → run → exit code. Bad input: `file:line:col: message` on stderr and exit 1, no host touched.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { read } from 'read';
import { KPLAY_HOME } from './home.ts';
import { loadConfig } from './load/config.ts';
import { loadInventory, type Inventory } from './inventory/inventory.ts';
import { recordRun } from './inventory/last-run.ts';
import { LimitError, resolveLimit } from './inventory/limit.ts';
import type { Node, Playbook } from './load/model.ts';
import { loadPlaybook } from './load/playbook.ts';
import { askVarsPrompts } from './prompt.ts';
import { InputError, type SourcePos } from './core/source.ts';
import { splitKeyValues } from './load/tasks.ts';
import { displayPath, isObject, loadYamlFile, parseYaml, posOf, typeName } from './core/yaml.ts';
import { ModuleRegistry } from './modules/registry.ts';
import { createReporter, PROGRESS_MODES, type Progress } from './report/create.ts';
import { reportInputError } from './report/input-error.ts';
import { commandProblem, optionProblem } from './usage.ts';
import { Masker, SECRET_VARS } from './core/mask.ts';
import { ConnectionPool } from './run/connections.ts';
import type { RunOptions } from './run/context.ts';
import { playHosts, type PlayHosts } from './run/play-hosts.ts';
import { runPlaybook } from './run/runner.ts';
import { RunInterrupt } from './run/interrupt.ts';
import { removeLocalTemps } from './core/temp-path.ts';
import { constants } from 'node:os';
import { inShard, mergeRecaps, parseShard } from './run/shard.ts';
import { selectedByTags } from './run/tags.ts';

const VERSION = (JSON.parse(readFileSync(resolve(KPLAY_HOME, 'package.json'), 'utf8')) as { version: string }).version;

const HELP = `kplay ${VERSION} — run Ansible-style playbooks over SSH, fast

Usage:
  kplay run PLAYBOOK [-i INVENTORY] [options]
  kplay merge-recaps FILE...   one recap from the --output json of several runs (shards)
  kplay --help | --version

Options:
  -i, --inventory PATH     inventory file or folder (repeatable; default: kplay.yml's, else inventory/)
  -C, --check              dry run: change nothing, report what would change
  -D, --diff               show how each file would change
  -l, --limit PATTERN      only these hosts (a pattern, @FILE of names, or @failed: the hosts that failed last run)
      --shard I/N          only the hosts of shard I (0..N-1): split by a hash of the host name, the same every run
  -t, --tags TAGS          only tasks with these tags (comma-separated)
      --skip-tags TAGS     skip tasks with these tags
  -e, --extra-vars VARS    k=v pairs, YAML/JSON, or @FILE (repeatable; highest precedence)
  -f, --forks N            hosts worked on at once (default 50)
      --strategy NAME      linear (default) or free, for every play
      --output FORMAT      text (default) or json (one JSON object per line)
      --progress MODE      live (default in a terminal), plain (Ansible-like lines) or none (only the end);
                           also KPLAY_PROGRESS
  -v, --verbose            show task results (-vv more)
      --syntax-check       check the playbook and exit
      --list-hosts         list the hosts each play would run on
      --list-tasks         list the tasks each play would run
      --force-handlers     run notified handlers even on hosts that failed
  -K, --ask-become-pass    ask for the sudo password
      --become-password-file FILE
      --known-hosts FILE   known_hosts file to verify host keys against (default ~/.ssh/known_hosts)
      --accept-new-host-keys
                           accept and record keys of hosts not yet in known_hosts (never a changed key)
      --timeout SECONDS    SSH connect timeout (default 10)

Exit codes: 0 ok, 1 bad input or usage, 2 a task failed, 4 a host was unreachable, 130/143 interrupted (SIGINT/SIGTERM).`;

class UsageError extends Error {}

/** Where a parsed value starts (a map or list knows), else the top of its file. */
function startOf(data: unknown, file: string): SourcePos {
  return (data !== null && typeof data === 'object' ? posOf(data) : undefined) ?? { file, line: 1, col: 1 };
}

function parseExtraVars(values: string[], cwd: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  values.forEach((value, i) => {
    // An inline -e is named by its place on the command line: `-e#2:1:9:` is the second -e, column 9.
    const arg = `-e#${i + 1}`;
    if (value.startsWith('@')) {
      const path = resolve(cwd, value.slice(1));
      if (!existsSync(path)) throw new InputError({ file: arg, line: 1, col: 2 }, `-e ${value}: file not found`);
      const data = loadYamlFile(path);
      if (!isObject(data)) {
        throw new InputError(startOf(data, displayPath(path)), `-e ${value}: the file must hold a map of variables, got ${typeName(data)}`);
      }
      Object.assign(out, data);
    } else if (/^\s*[{[]/.test(value)) {
      const docs = parseYaml(value, arg);
      const data = docs[0] ?? null;
      if (docs.length > 1) throw new InputError({ file: arg, line: 1, col: 1 }, 'expected one YAML/JSON value, found several documents');
      if (!isObject(data)) throw new InputError(startOf(data, arg), `-e: expected a map of variables, got ${typeName(data)}`);
      Object.assign(out, data);
    } else {
      const { pairs, rest } = splitKeyValues(value);
      if (rest.length > 0) throw new InputError({ file: arg, line: 1, col: rest[0][1] + 1 }, `-e: expected key=value, got "${rest[0][0]}"`);
      for (const [k, v] of pairs) out[k] = v;
    }
  });
  return out;
}

/** --shard I/N: the limit (or every host) narrowed to the shard's hosts. */
function shardLimit(text: string | undefined, limit: Set<string> | undefined, inventory: Inventory): Set<string> | undefined {
  if (text === undefined) return limit;
  const shard = parseShard(text);
  if (typeof shard === 'string') throw new UsageError(shard);
  return new Set([...(limit ?? inventory.select('all'))].filter((host) => inShard(host, shard)));
}

/** `kplay merge-recaps FILE...`: one recap line (as --output json's) and run's exit code over all of them. */
function mergeRecapFiles(files: string[]): number {
  if (files.length === 0) {
    process.stderr.write('kplay: usage: kplay merge-recaps FILE... (each the --output json of one run)\n');
    return 1;
  }
  try {
    const merged = mergeRecaps(files.map((name) => ({ name, text: readFileSync(name, 'utf8') })));
    process.stdout.write(`${JSON.stringify({ type: 'recap', hosts: merged.hosts })}\n`);
    return merged.exitCode;
  } catch (error) {
    process.stderr.write(`kplay: merge-recaps: ${(error as Error).message}\n`);
    return 1;
  }
}

function listTasks(nodes: Node[], tags: RunOptions, out: string[], indent: string): void {
  for (const node of nodes) {
    if (node.kind === 'task' && selectedByTags(node.scope.tags, tags)) {
      const t = node.scope.tags.length ? `\tTAGS: [${node.scope.tags.join(', ')}]` : '';
      out.push(`${indent}${node.name ?? node.module}${t}`);
    } else if (node.kind === 'block') {
      for (const part of [node.block, node.rescue, node.always]) listTasks(part, tags, out, indent);
    } else if (node.kind === 'include_tasks' || node.kind === 'include_role') {
      out.push(`${indent}${node.name ?? `${node.kind}: ${node.kind === 'include_tasks' ? node.file : node.role}`}`);
    }
  }
}

function describe(playbook: Playbook, plays: PlayHosts, options: RunOptions, what: 'hosts' | 'tasks'): string {
  const out: string[] = [`playbook: ${playbook.path}`];
  for (const [i, play] of playbook.plays.entries()) {
    const hosts = plays.hosts[i];
    out.push('', `  play "${play.name}" (${plays.patterns[i]}): ${hosts.length} host(s)`);
    if (what === 'hosts') for (const h of hosts) out.push(`    ${h}`);
    else for (const section of play.sections) listTasks(section, options, out, '    ');
  }
  return out.join('\n');
}

/** -K: the become password, typed without echo (as sudo and Ansible ask); from a pipe when stdin is not a terminal. */
async function askPassword(): Promise<string> {
  return read({ prompt: 'BECOME password: ', silent: true, replace: '', input: process.stdin, output: process.stderr });
}

/** The values of password variables among -e's (or any map of variables), registered as secrets. */
function noteSecretVars(vars: Record<string, unknown>, masker: Masker): void {
  for (const name of SECRET_VARS) if (vars[name] !== undefined && vars[name] !== null) masker.addAll(vars[name]);
}

const OPTIONS = {
  inventory: { type: 'string', short: 'i', multiple: true },
  check: { type: 'boolean', short: 'C' },
  diff: { type: 'boolean', short: 'D' },
  limit: { type: 'string', short: 'l' },
  shard: { type: 'string' },
  tags: { type: 'string', short: 't', multiple: true },
  'skip-tags': { type: 'string', multiple: true },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  forks: { type: 'string', short: 'f' },
  strategy: { type: 'string' },
  output: { type: 'string' },
  progress: { type: 'string' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
  'syntax-check': { type: 'boolean' },
  'list-hosts': { type: 'boolean' },
  'list-tasks': { type: 'boolean' },
  'force-handlers': { type: 'boolean' },
  'ask-become-pass': { type: 'boolean', short: 'K' },
  'become-password-file': { type: 'string' },
  'known-hosts': { type: 'string' },
  'accept-new-host-keys': { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** --progress, else KPLAY_PROGRESS, else the reporter decides (live in a terminal). */
function progressMode(value: string | undefined): Progress | undefined {
  const mode = value ?? (process.env.KPLAY_PROGRESS || undefined);
  if (mode === undefined) return undefined;
  if (!(PROGRESS_MODES as readonly string[]).includes(mode)) throw new UsageError(`--progress is ${PROGRESS_MODES.join(', ')} (got "${mode}")`);
  return mode as Progress;
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    process.stderr.write(`kplay: ${optionProblem((error as Error).message, OPTIONS)}\nRun "kplay --help" for usage.\n`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`kplay ${VERSION}\n`);
    return 0;
  }
  if (positionals[0] === 'merge-recaps') return mergeRecapFiles(positionals.slice(1));
  const problem = commandProblem(positionals);
  if (problem) {
    process.stderr.write(`kplay: ${problem}\nRun "kplay --help" for more.\n`);
    return 1;
  }
  const playbookArg = positionals[1];
  const cwd = process.cwd();
  // The run's secrets, fed as they are read; everything printed from here on is masked with them.
  const masker = new Masker();
  try {
    const output = values.output ?? 'text';
    if (output !== 'text' && output !== 'json') throw new UsageError('--output is text or json');
    const strategy = values.strategy;
    if (strategy !== undefined && strategy !== 'linear' && strategy !== 'free') throw new UsageError('--strategy is linear or free');
    const playbookPath = resolve(cwd, playbookArg);
    // A playbook named kplay.yml is the playbook, not the project file.
    const config = loadConfig({ playbookDir: dirname(playbookPath), cwd, except: playbookPath });
    const forks = Number(values.forks ?? config.forks ?? 50);
    if (!Number.isInteger(forks) || forks < 1) throw new UsageError('--forks takes a whole number of at least 1');
    // Without -i or a configured inventory: inventory/ if there is one, else only the implicit localhost (as Ansible).
    const sources = values.inventory ?? config.inventory ?? (existsSync(resolve(cwd, 'inventory')) ? [resolve(cwd, 'inventory')] : []);
    const registry = new ModuleRegistry();
    const playbook = await loadPlaybook(playbookPath, { registry, rolesPath: config.roles_path ?? [] });
    const inventory = loadInventory(sources, { playbookDir: dirname(playbookPath) });
    for (const host of inventory.hosts.keys()) noteSecretVars(inventory.hostVars(host), masker);
    const splitList = (list: string[] | undefined): string[] => (list ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
    let becomePassword: string | undefined;
    const passwordFile = values['become-password-file'] ?? config.become_password_file;
    if (passwordFile) becomePassword = readFileSync(resolve(cwd, passwordFile), 'utf8').replace(/\n$/, '');
    if (values['ask-become-pass']) becomePassword = await askPassword();
    if (becomePassword) masker.add(becomePassword);
    const extraVars = parseExtraVars(values['extra-vars'] ?? [], cwd);
    noteSecretVars(extraVars, masker);
    const options: RunOptions = {
      check: values.check ?? false,
      diff: values.diff ?? false,
      limit: shardLimit(values.shard, resolveLimit(values.limit, inventory, cwd, playbook.path), inventory),
      limitText: [values.limit && `--limit ${values.limit}`, values.shard && `--shard ${values.shard}`].filter(Boolean).join(' '),
      tags: splitList(values.tags),
      skipTags: splitList(values['skip-tags']),
      extraVars,
      forks,
      verbosity: values.verbose?.length ?? 0,
      becomePassword,
      forceHandlers: values['force-handlers'] ?? false,
      strategy: strategy ?? config.strategy,
    };
    if (values['syntax-check']) {
      process.stdout.write(`playbook: ${playbook.path}: syntax OK\n`);
      return 0;
    }
    const plays = playHosts(playbook, inventory, options);
    if (values.limit !== undefined && plays.hosts.every((hosts) => hosts.length === 0)) {
      throw new LimitError(`--limit ${values.limit} leaves no host to run on: no play's hosts (${[...new Set(plays.patterns)].join('; ')}) match it`);
    }
    if (values['list-hosts'] || values['list-tasks']) {
      process.stdout.write(`${describe(playbook, plays, options, values['list-hosts'] ? 'hosts' : 'tasks')}\n`);
      return 0;
    }
    // vars_prompt: asked now, before any host is touched (an -e value skips the question).
    await askVarsPrompts(playbook, options.extraVars);
    const stream = process.stdout;
    const reporter = await createReporter({
      output,
      tty: Boolean(stream.isTTY) && !process.env.CI,
      color: Boolean(stream.isTTY) && !process.env.NO_COLOR,
      verbosity: options.verbosity,
      diff: options.diff,
      progress: progressMode(values.progress),
      secrets: masker,
      stream,
    });
    const timeout = Number(values.timeout ?? config.timeout ?? 10);
    const pool = new ConnectionPool({
      check: options.check,
      knownHostsFile: values['known-hosts'] ? resolve(cwd, values['known-hosts']) : config.known_hosts,
      acceptNewHostKeys: values['accept-new-host-keys'] ?? config.accept_new_host_keys ?? false,
      connectTimeoutMs: timeout * 1000,
      becomePassword,
      baseDir: inventory.sources[0] ? dirname(inventory.sources[0]) : cwd,
    });
    // SIGINT/SIGTERM: no task starts after it; remote commands end and temp files go (here and on the hosts); the
    // unfinished hosts are recorded for --limit @failed and the recap so far printed. A second signal exits at once.
    const interrupt = new RunInterrupt();
    options.interrupt = interrupt;
    const exitCodeOf = (signal: NodeJS.Signals) => 128 + ((constants.signals as Record<string, number>)[signal] ?? 1);
    const onSignal = (signal: NodeJS.Signals): void => {
      if (interrupt.signal) {
        removeLocalTemps();
        process.exit(exitCodeOf(interrupt.signal)); // the live view's exit handler shows the cursor again
      }
      interrupt.stop(signal);
      reporter.event({ type: 'warning', message: `${signal}: stopping: no new tasks, ending remote commands, removing temp files (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again: exit at once)` });
      void pool.interrupt();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let outcome;
    try {
      outcome = await runPlaybook({ playbook, inventory, registry, pool, reporter, masker, plays }, options);
      removeLocalTemps();
    } finally {
      await reporter.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const warning = options.check ? undefined : recordRun(cwd, playbook.path, outcome);
    if (warning) process.stderr.write(`${masker.text(`[WARNING]: ${warning}`)}\n`);
    return interrupt.signal ? exitCodeOf(interrupt.signal) : outcome.exitCode;
  } catch (error) {
    if (error instanceof InputError || error instanceof UsageError || error instanceof LimitError) {
      return reportInputError(error, { json: values.output === 'json', prefix: error instanceof InputError ? '' : 'kplay: ', masker });
    }
    // A bug: its message and stack may quote a value, so they are masked too.
    if (error instanceof Error) error.stack = masker.text(error.stack ?? error.message);
    throw error;
  }
}
