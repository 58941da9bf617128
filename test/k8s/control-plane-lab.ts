// What the control-plane lab tests share: systemd hosts, a release mirror of the stand-ins on the lab's bridge, an
// inventory for playbooks/master.yml that points at both, and ways to run kplay and look at the hosts.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { kplay, REPO, type KplayResult } from '../helpers/kplay.ts';
import { buildStandins, startMirror, type Mirror } from '../lab/mirror.ts';
import { addressInSubnet } from '../lab/net.ts';
import { sshRun, startControllers, type Lab } from '../lab/nspawn.ts';
import { DEFAULT_FLANNEL_VERSION } from '../lab/standins/build.ts';

export const MASTER = join(REPO, 'playbooks/master.yml');
/** The services master.yml leaves running on every controller. */
export const SERVICES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'nginx', 'flanneld'];
export const HEALTH_HOST = 'kubernetes.default.svc.cluster.local';

export interface ControlPlaneLab {
  lab: Lab;
  mirror: Mirror;
  hosts: string[];
  /** Folder of the inventory (inventory.yml, group_vars/controllers.yml) and of the PKI. */
  dir: string;
  pkiDir: string;
  /** Rewrite the controllers' variables (the ones every run gets plus `vars`). */
  setVars(vars: Record<string, unknown>): Promise<void>;
  run(...args: string[]): Promise<KplayResult>;
  /** Another playbook of playbooks/ on the same inventory. */
  runPlaybook(playbook: string, ...args: string[]): Promise<KplayResult>;
  /** A command on a host; fails the test's promise unless it exits 0 (or 3, systemctl's "not active"). */
  onHost(host: string, command: string): Promise<string>;
  stop(): Promise<void>;
}

export interface ControlPlaneLabOptions {
  count: number;
  /** Kubernetes versions to serve; the first one is installed. */
  versions: string[];
  dir: string;
  /** One of inventory/*.yml, whose hosts are the lab's (controller-0.., 10.240.0.10..). */
  example: string;
  /** Where the binaries come from: the mirror (download with sha256 checks) or a local folder (kube_binaries_dir). */
  binaries: 'mirror' | 'folder';
  /** Lab hosts beyond the example's controllers, in the inventory group apiserver_lb (the API servers' front). */
  lbHosts?: number;
  /**
   * A named lab of its own (own bridge and subnet) instead of the machine's default one: the example's controllers
   * get the lab's addresses, and the mirror listens on the lab's bridge.
   */
  name?: string;
}

export async function startControlPlaneLab(options: ControlPlaneLabOptions): Promise<ControlPlaneLab> {
  const lbHosts = options.lbHosts ?? 0;
  const lab = await startControllers(options.name === undefined ? { count: options.count + lbHosts, replace: true } : { count: options.count + lbHosts, name: options.name });
  let mirror: Mirror | undefined;
  try {
    mirror = await startMirror({ dir: join(options.dir, 'mirror'), versions: options.versions, host: addressInSubnet(lab.subnet, 1) });
  } catch (error) {
    await lab.stop();
    throw error;
  }
  const started = mirror;
  const inventoryDir = join(options.dir, 'inventory');
  const pkiDir = join(options.dir, 'pki');
  await mkdir(join(inventoryDir, 'group_vars'), { recursive: true });
  // The example inventory as it is, plus the lab's way in (its key and known_hosts) for the controllers.
  type Group = { hosts?: Record<string, Record<string, unknown>>; vars?: Record<string, unknown> };
  type Inventory = { all: { children: { controllers: Group } & Record<string, Group> } };
  const labInventory = parse(await readFile(lab.inventoryPath, 'utf8')) as Inventory;
  const inventory = parse(await readFile(options.example, 'utf8')) as Inventory;
  const controllers = inventory.all.children.controllers;
  controllers.vars = { ...controllers.vars, ...labInventory.all.children.controllers.vars };
  // The example names the default lab's addresses; a named lab has its own.
  for (const [name, host] of Object.entries(controllers.hosts ?? {})) {
    const address = lab.hosts.find((h) => h.name === name)?.address;
    if (address !== undefined) controllers.hosts![name] = { ...host, ansible_host: address, internal_ip: address };
  }
  if (lbHosts > 0) {
    const lb = lab.hosts.slice(options.count);
    inventory.all.children.apiserver_lb = {
      hosts: Object.fromEntries(lb.map((h) => [h.name, { ansible_host: h.address, internal_ip: h.address }])),
      vars: { ...labInventory.all.children.controllers.vars, ansible_user: 'root' },
    };
  }
  await writeFile(join(inventoryDir, 'inventory.yml'), stringify(inventory));
  const base: Record<string, unknown> = { kube_version: options.versions[0], flannel_version: DEFAULT_FLANNEL_VERSION.replace(/^v/, ''), pki_dir: pkiDir };
  if (options.binaries === 'folder') {
    base.kube_binaries_dir = join(options.dir, 'bin');
    await buildStandins(base.kube_binaries_dir as string, options.versions[0]);
  } else {
    base.kube_download_url = `${started.url}/v{{ kube_version }}/bin/linux/amd64`;
    base.flannel_download_url = `${started.url}/flannel/v{{ flannel_version }}`;
  }
  const cpl: ControlPlaneLab = {
    lab,
    mirror: started,
    hosts: lab.hosts.map((h) => h.name),
    dir: options.dir,
    pkiDir: join(pkiDir),
    async setVars(vars) {
      for (const group of lbHosts > 0 ? ['controllers', 'apiserver_lb'] : ['controllers']) {
        await writeFile(join(inventoryDir, 'group_vars', `${group}.yml`), stringify({ ...base, ...vars }));
      }
    },
    run: (...args) => kplay(['run', MASTER, '-i', join(inventoryDir, 'inventory.yml'), '--output', 'json', ...args], { cwd: options.dir }),
    runPlaybook: (playbook, ...args) =>
      kplay(['run', join(REPO, 'playbooks', playbook), '-i', join(inventoryDir, 'inventory.yml'), '--output', 'json', ...args], { cwd: options.dir }),
    async onHost(host, command) {
      const r = await sshRun(lab, host, command);
      if (r.rc !== 0 && r.rc !== 3) throw new Error(`${host}: ${command}: rc ${r.rc}: ${r.stderr}`);
      return r.stdout.trim();
    },
    async stop() {
      await started.stop();
      await lab.stop();
    },
  };
  await cpl.setVars({});
  return cpl;
}

/** Changed count per host, from a run's recap. */
export const changedBy = (hosts: string[], r: KplayResult): Record<string, number | undefined> =>
  Object.fromEntries(hosts.map((h) => [h, r.recap?.[h]?.changed]));

export const failedIn = (hosts: string[], r: KplayResult): number => hosts.reduce((n, h) => n + (r.recap?.[h]?.failed ?? 1), 0);

/** The flags of a unit's ExecStart, read back from the host's unit file. */
export async function unitFlags(cpl: ControlPlaneLab, host: string, unit: string): Promise<string[]> {
  const text = await cpl.onHost(host, `cat /etc/systemd/system/${unit}.service`);
  const exec = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(text)?.[1] ?? '';
  return exec.split(/\\\n\s*/).slice(1).map((word) => word.trim());
}

/** Main PIDs of the services on a host, to see which ones were restarted. */
export async function mainPids(cpl: ControlPlaneLab, host: string): Promise<Record<string, string>> {
  const out = await cpl.onHost(host, SERVICES.map((s) => `systemctl show ${s} -p MainPID --value`).join('; '));
  const pids = out.split('\n');
  return Object.fromEntries(SERVICES.map((s, i) => [s, pids[i]]));
}
