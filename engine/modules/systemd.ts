// systemd (Ansible's systemd_service): a unit's state, enablement and mask, changed only where they differ.
//
// One round trip reads the unit (`systemctl show`); the plan lists the systemctl commands that close the gap, and
// apply() runs them in one exec. Two deliberate differences from Ansible, both so check mode tells the truth:
// - `daemon_reload` alone counts as a change only when systemd says the unit needs it (NeedDaemonReload=yes, or its
//   file exists but is not loaded yet); without `name` it always runs and reports changed.
// - A unit whose file an earlier task of a --check run would write (the check overlay shows it to `ctx.conn.stat`) is
//   planned as a new, stopped and disabled unit instead of failing.

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule, type ModuleContext } from './contract.ts';

interface SystemdArgs {
  name?: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean;
  masked?: boolean;
  daemon_reload: boolean;
  daemon_reexec: boolean;
  no_block: boolean;
  scope: 'system';
}

const PROPERTIES = [
  'Id', 'Description', 'LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'FragmentPath', 'NeedDaemonReload',
  'MainPID', 'ExecMainStatus', 'Result',
];
// `systemctl is-enabled` exits 0 for these, and Ansible counts that as enabled (except enabled-runtime).
const ENABLED_STATES = new Set(['enabled', 'alias', 'static', 'indirect', 'generated', 'transient']);
const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

type Status = Record<string, string>;

const FILE_SHA = 'KplayFragmentSha256';

/** One round trip: the unit's properties, and the sha256 of its unit file (to see a change planned in --check). */
function showCommand(name: string): string {
  return (
    `out=$(systemctl show ${shellQuote(name)} --no-pager -p ${PROPERTIES.join(',')}) || exit $?; printf '%s\n' "$out"; ` +
    `f=$(printf '%s\n' "$out" | sed -n 's/^FragmentPath=//p'); ` +
    `if [ -f "$f" ]; then echo "${FILE_SHA}=$(sha256sum < "$f" | cut -d' ' -f1)"; fi`
  );
}

function parseShow(stdout: string): Status {
  const status: Status = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) status[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return status;
}

/** Unit file names systemd would load for `name`: `x` → x.service; `a@b.service` → itself or its template a@.service. */
export function unitFileNames(name: string): string[] {
  const unit = /\.[a-z]+$/.test(name) ? name : `${name}.service`;
  const template = /^([^@]+@)[^.]+(\.[a-z]+)$/.exec(unit);
  return template ? [unit, `${template[1]}${template[2]}`] : [unit];
}

/** Whether a file for the unit exists on the host, or will (in --check, the overlay reports planned files). */
async function unitFileExists(name: string, ctx: ModuleContext): Promise<boolean> {
  const paths = UNIT_DIRS.flatMap((dir) => unitFileNames(name).map((file) => `${dir}/${file}`));
  const stats = await Promise.all(paths.map((path) => ctx.conn.stat(path, { follow: true, become: ctx.become })));
  return stats.some((st) => st.exists);
}

/** In --check: whether the unit's planned file was loaded by a daemon-reload this run planned after it. */
function unitFileReloaded(name: string, ctx: ModuleContext): boolean {
  const paths = UNIT_DIRS.flatMap((dir) => unitFileNames(name).map((file) => `${dir}/${file}`));
  return paths.some((path) => ctx.conn.reloadedSincePlan?.(path) === true);
}

const isRunning = (s: Status): boolean => s.ActiveState === 'active' || s.ActiveState === 'activating';

export default defineModule<SystemdArgs>({
  name: 'systemd',
  spec: {
    args: {
      name: { type: 'str', aliases: ['service', 'unit'], description: 'The unit; without a suffix, .service.' },
      state: { type: 'str', choices: ['started', 'stopped', 'restarted', 'reloaded'] },
      enabled: { type: 'bool', description: 'Start at boot.' },
      masked: { type: 'bool', description: 'Masked units cannot be started at all.' },
      daemon_reload: { type: 'bool', default: false, aliases: ['daemon-reload'], description: 'Re-read unit files first.' },
      daemon_reexec: { type: 'bool', default: false, aliases: ['daemon-reexec'], description: 'Re-execute systemd first.' },
      no_block: { type: 'bool', default: false, description: 'Queue the start/stop job and return without waiting.' },
      scope: { type: 'str', default: 'system', choices: ['system'] },
    },
    requiredOneOf: [['state', 'enabled', 'masked', 'daemon_reload', 'daemon_reexec']],
  },
  async plan(args, ctx) {
    const manager: string[] = [];
    if (args.daemon_reload) manager.push('daemon-reload');
    if (args.daemon_reexec) manager.push('daemon-reexec');
    if (args.name == null) {
      if (args.state != null || args.enabled != null || args.masked != null) {
        throw new ModuleError('name is required with state, enabled or masked');
      }
      return {
        changed: true,
        msg: manager.join(', '),
        result: {},
        apply: () => systemctl(ctx, manager.map((m) => [m])),
      };
    }
    const name = args.name;
    const show = await ctx.conn.exec(showCommand(name), { become: ctx.become });
    if (show.rc !== 0) throw new ModuleError(`systemctl show ${name} failed: ${(show.stderr || show.stdout).trim()}`);
    const { [FILE_SHA]: fileSha, ...status } = parseShow(show.stdout);

    let reloadNeeded = status.NeedDaemonReload === 'yes';
    // An earlier task of this --check run may plan new content for the unit's file: the real run would then need a
    // reload. (Without such a plan the connection would read the same file the line above hashed: no round trip.)
    // A daemon-reload this run planned after that (a handler's) has loaded it already.
    const fragment = status.FragmentPath;
    if (args.daemon_reload && !reloadNeeded && fragment && fileSha && ctx.conn.planned?.(fragment) && !ctx.conn.reloadedSincePlan?.(fragment)) {
      const planned = await ctx.conn.stat(fragment, { checksum: true, follow: true, become: ctx.become });
      reloadNeeded = planned.sha256 !== fileSha;
    }
    if (status.LoadState === 'not-found') {
      // Not loaded: either a file systemd has not read yet (written earlier in this run) or no such unit at all.
      const willExist = await unitFileExists(name, ctx);
      if (!willExist && (args.state != null || args.enabled != null)) {
        throw new ModuleError(`Could not find the requested service ${name}`, { name, status });
      }
      if (willExist) {
        reloadNeeded = !unitFileReloaded(name, ctx);
        Object.assign(status, { LoadState: 'loaded', ActiveState: 'inactive', SubState: 'dead', UnitFileState: 'disabled' });
      }
    }

    const steps: string[][] = [];
    if (args.daemon_reload && reloadNeeded) steps.push(['daemon-reload']);
    if (args.daemon_reexec) steps.push(['daemon-reexec']);
    const masked = status.UnitFileState === 'masked' || status.LoadState === 'masked';
    if (args.masked != null && args.masked !== masked) steps.push([args.masked ? 'mask' : 'unmask', name]);
    const enabled = ENABLED_STATES.has(status.UnitFileState);
    if (args.enabled != null && args.enabled !== enabled) steps.push([args.enabled ? 'enable' : 'disable', name]);
    const running = isRunning(status);
    const block = args.no_block ? ['--no-block'] : [];
    if (args.state === 'started' && !running) steps.push(['start', ...block, name]);
    if (args.state === 'stopped' && (running || status.ActiveState === 'deactivating')) steps.push(['stop', ...block, name]);
    // restarted and reloaded always act (as Ansible): a stopped unit is started instead.
    if (args.state === 'restarted' || args.state === 'reloaded') {
      steps.push([running ? args.state.slice(0, -2) : 'start', ...block, name]);
    }

    const willRun = args.state == null ? running : args.state !== 'stopped';
    const result = {
      name,
      state: willRun ? 'started' : 'stopped',
      enabled: args.enabled ?? enabled,
      status,
    };
    if (steps.length === 0) return { changed: false, result };
    return {
      changed: true,
      msg: steps.map((s) => s.filter((w) => w !== '--no-block').join(' ')).join(', '),
      result,
      // For --check: later tasks see the unit files planned so far as loaded.
      ...(steps.some((s) => s[0] === 'daemon-reload') ? { effects: [{ path: '/', state: 'reloaded' as const }] } : {}),
      apply: () => systemctl(ctx, steps),
    };
  },
});

/** Run the planned systemctl commands in one exec, stopping at the first failure. */
async function systemctl(ctx: ModuleContext, steps: string[][]): Promise<void> {
  const script = steps.map((words) => `systemctl ${words.map(shellQuote).join(' ')}`).join(' && ');
  const r = await ctx.conn.exec(script, { become: ctx.become });
  if (r.rc !== 0) throw new ModuleError(`${script} failed: ${(r.stderr || r.stdout).trim()}`, { rc: r.rc, stdout: r.stdout, stderr: r.stderr });
}
