// What the system-module tests share: a named lab of systemd hosts with cron installed (from Debian's package,
// copied into each host: the base image has no cron), kplay and ansible-playbook runs against it, and reading a
// host's state over a separate ssh session.

import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { kplay, type KplayResult } from '../helpers/kplay.ts';
import { run, sshRun, startControllers, type Lab } from '../lab/nspawn.ts';

export { kplay, type KplayResult };

const DEB_CACHE = '/var/cache/kplay-lab/debs';

/** Debian's cron packages on this machine (downloaded once with apt-get), for hosts that lack them. */
async function cronDebs(): Promise<string[]> {
  mkdirSync(DEB_CACHE, { recursive: true });
  const have = (): string[] => readdirSync(DEB_CACHE).filter((f) => /^cron(-daemon-common)?_.*\.deb$/.test(f));
  if (have().length < 2) {
    const r = await new Promise<number>((resolve) => {
      const child = spawn('apt-get', ['download', 'cron', 'cron-daemon-common'], { cwd: DEB_CACHE, stdio: 'ignore' });
      child.on('close', (code) => resolve(code ?? 1));
    });
    if (r !== 0 || have().length < 2) throw new Error('cannot download the cron packages with apt-get download');
  }
  return have().map((f) => join(DEB_CACHE, f));
}

/** A named lab of `count` hosts; with `cron`, the cron package installed on each. */
export async function startSysLab(name: string, count: number, options: { cron?: boolean } = {}): Promise<Lab> {
  const lab = await startControllers({ name, count, replace: true });
  try {
    if (options.cron) {
      const debs = await cronDebs();
      await Promise.all(
        lab.hosts.map(async (h) => {
          const root = join(lab.stateDir, h.name, 'root');
          for (const deb of debs) copyFileSync(deb, join(root, 'var/tmp', deb.split('/').pop()!));
          const r = await sshRun(lab, h.name, '{ dpkg -i /var/tmp/cron-daemon-common_*.deb && dpkg -i /var/tmp/cron_*.deb; } >/var/tmp/cron-install.log 2>&1 || tail -20 /var/tmp/cron-install.log >&2; rm -f /var/tmp/cron*.deb; command -v crontab');
          if (r.rc !== 0) throw new Error(`${h.name}: installing cron failed: ${r.stderr}`);
        }),
      );
    }
  } catch (error) {
    await lab.stop();
    throw error;
  }
  return lab;
}

/** Output of a command on a lab host; fails the test's setup when ssh itself fails. */
export async function onHost(lab: Lab, host: string, command: string): Promise<string> {
  const r = await sshRun(lab, host, command);
  if (r.rc === 255) throw new Error(`${host}: ssh failed: ${r.stderr}`);
  return r.stdout;
}

export interface AnsibleResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The recap's counts per host. */
  recap: Record<string, { ok: number; changed: number; failed: number; skipped: number }>;
}

/** ansible-playbook (Debian's) against the lab's inventory. */
export async function ansiblePlaybook(lab: Lab, playbook: string, args: string[], cwd: string, timeoutMs = 300_000): Promise<AnsibleResult> {
  const r = await run('ansible-playbook', ['-i', lab.inventoryPath, playbook, ...args], { timeoutMs });
  void cwd;
  const recap: AnsibleResult['recap'] = {};
  for (const m of r.stdout.matchAll(/^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)\s+skipped=(\d+)/gm)) {
    recap[m[1]] = { ok: Number(m[2]), changed: Number(m[3]), failed: Number(m[4]), skipped: Number(m[5]) };
  }
  return { code: r.rc, stdout: r.stdout, stderr: r.stderr, recap };
}

/** kplay through the real CLI, JSON output, against the lab's inventory. */
export function kplayRun(lab: Lab, playbook: string, args: string[], cwd: string): Promise<KplayResult> {
  return kplay(['run', playbook, '-i', lab.inventoryPath, '--output', 'json', ...args], { cwd });
}
