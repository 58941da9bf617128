// How the bench runs each tool on the fleet, and reads its recap: kplay from its NDJSON output, Ansible from the
// PLAY RECAP lines of its default callback. Ansible gets a configuration of its own per run and a clean environment.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Fleet } from '../test/lab/fleet.ts';
import { measure, type Measured } from './measure.ts';
import { PLAYBOOK, TEMPLATE_VARS, WORKLOAD_DIR } from './workload.ts';

export type Tool = 'kplay' | 'base' | 'ansible' | 'mitogen';
export const TOOL_NAMES: Record<Tool, string> = { kplay: 'kplay', base: 'kplay (baseline)', ansible: 'Ansible', mitogen: 'Ansible+Mitogen' };

/** `--baseline DIR`: another checkout of kplay (with its own `npm ci`) run as the tool `base`, e.g. the branch before a change. */
let baselineRepo: string | undefined;
export function setBaseline(dir: string): void {
  baselineRepo = resolve(dir);
}

/** Debian's ansible-mitogen (lab-facts §5): its strategy plugins, used with `strategy = mitogen_linear`. */
const MITOGEN_STRATEGIES = '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy';

export interface HostRecap {
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
}

export interface ToolRun extends Measured {
  recap: Map<string, HostRecap>;
  /** Round trips per host counted by the delay proxies, when the run went through them. */
  turnsPerHost?: number;
}

const REPO = resolve(import.meta.dirname, '..');
export const ANSIBLE_PLAYBOOK = '/usr/bin/ansible-playbook';

/** A baseline from before engine/jinja/ existed renders every template as EJS: it gets the EJS twins. */
const baseTemplates = (): 'kplay' | 'ejs' => (baselineRepo && !existsSync(join(baselineRepo, 'engine', 'jinja')) ? 'ejs' : 'kplay');

const extraVars = (tool: Tool) =>
  Object.entries(TEMPLATE_VARS[tool === 'kplay' ? 'kplay' : tool === 'base' ? baseTemplates() : 'ansible']).flatMap(([k, v]) => ['-e', `${k}=${v}`]);

export interface RunRequest {
  /** Added to the command line, the same for both tools (`--check`, `--syntax-check`, `--limit NAME`). */
  flags?: string[];
  /** Default: the workload. */
  playbook?: string;
}

/**
 * Every tool runs with this little environment (Ansible with its HOME and config added): this machine's environment
 * sets NODE_EXTRA_CA_CERTS, and Node reads and parses that file (~140 certificates) before any script runs, 37 ms of
 * every kplay start (`node -e 0`: 60 against 23 ms), which a Python tool never pays; and no pyenv shim reaches Ansible.
 */
const MINIMAL_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME, LANG: 'C.UTF-8' };

export async function runTool(tool: Tool, fleet: Fleet, request: RunRequest, workDir: string): Promise<ToolRun> {
  const args = [request.playbook ?? PLAYBOOK, ...extraVars(tool), ...(request.flags ?? [])];
  if (tool === 'kplay') return runKplay(fleet, args, REPO);
  if (tool === 'base') {
    if (!baselineRepo) throw new Error('the baseline tool needs --baseline DIR');
    return runKplay(fleet, args, baselineRepo);
  }
  return runAnsible(fleet, args, workDir, tool === 'mitogen');
}

async function runKplay(fleet: Fleet, playbookArgs: string[], repo: string): Promise<ToolRun> {
  const args = ['bin/kplay.js', 'run', ...playbookArgs, '-i', fleet.inventoryFile, '--known-hosts', fleet.knownHostsFile];
  // Connect timeout 60 s (as Ansible's here): hundreds of handshakes at once on 2 shared cores are slow, not lost.
  args.push('--forks', String(fleet.hosts.length), '--output', 'json', '--timeout', '60');
  // Untimed first: bin/kplay.js rebuilds its bundle when an engine source is newer (--help loads it; --version does not).
  await measure(process.execPath, ['bin/kplay.js', '--help'], { cwd: repo, env: MINIMAL_ENV });
  const run = await measure(process.execPath, args, { cwd: repo, env: MINIMAL_ENV });
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  let recap = new Map<string, HostRecap>();
  try {
    const parsed = JSON.parse(last) as { type: string; hosts: Record<string, HostRecap> };
    if (parsed.type === 'recap') recap = new Map(Object.entries(parsed.hosts));
  } catch {
    // no recap: reported by the caller as missing hosts
  }
  return { ...run, recap };
}

/** Debian's ansible-playbook: forks = hosts, pipelining, strict host keys, Debian's Python on the hosts; with Mitogen's strategy if asked. */
async function runAnsible(fleet: Fleet, playbookArgs: string[], workDir: string, mitogen: boolean): Promise<ToolRun> {
  // A fresh folder per run: no ControlPersist master of an earlier run may serve this one.
  const home = join(workDir, `ansible-${process.hrtime.bigint()}`);
  const controlDir = join(home, 'cp');
  await mkdir(controlDir, { recursive: true });
  const config = join(home, 'ansible.cfg');
  await writeFile(config, ansibleConfig(fleet, home, controlDir, mitogen));
  const env = { ...MINIMAL_ENV, HOME: home, ANSIBLE_CONFIG: config };
  try {
    const run = await measure(ANSIBLE_PLAYBOOK, playbookArgs, { cwd: WORKLOAD_DIR, env });
    const recap = new Map<string, HostRecap>();
    const line = /^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm;
    for (const [, host, ok, changed, unreachable, failed] of run.stdout.matchAll(line))
      recap.set(host, { ok: +ok, changed: +changed, failed: +failed, unreachable: +unreachable });
    return { ...run, recap };
  } finally {
    await stopControlMasters(controlDir);
    await rm(home, { recursive: true, force: true });
  }
}

function ansibleConfig(fleet: Fleet, home: string, controlDir: string, mitogen: boolean): string {
  const strategy = mitogen ? `strategy_plugins = ${MITOGEN_STRATEGIES}\nstrategy = mitogen_linear\n` : '';
  return `[defaults]
${strategy}
inventory = ${fleet.inventoryFile}
forks = ${fleet.hosts.length}
host_key_checking = True
retry_files_enabled = False
# Connect timeout: generous, so a burst of load on the shared machine is not an unreachable host (speed unaffected).
timeout = 60
gathering = explicit
interpreter_python = /usr/bin/python3
private_key_file = ${fleet.keyFile}
local_tmp = ${join(home, 'tmp')}

[ssh_connection]
pipelining = True
# Ansible's default ssh_args plus the fleet's known_hosts, checked strictly.
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${fleet.knownHostsFile} -o StrictHostKeyChecking=yes
control_path_dir = ${controlDir}
`;
}

/** Ask each ControlPersist master Ansible left behind to exit (they would otherwise linger 60 s). */
async function stopControlMasters(controlDir: string): Promise<void> {
  const sockets = await readdir(controlDir).catch(() => [] as string[]);
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((done) => {
          const child = spawn('ssh', ['-S', join(controlDir, socket), '-O', 'exit', 'bench'], { stdio: 'ignore' });
          child.on('close', () => done());
          child.on('error', () => done());
        }),
    ),
  );
}
