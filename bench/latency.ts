// A fleet seen from further away: one delay proxy per host (delay-proxy.ts) and an inventory and known_hosts that
// point every tool at the proxies (127.0.0.1:<port>). At 0 ms the fleet is used as it is, without proxies.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Fleet, FleetHost } from '../test/lab/fleet.ts';
import { knownHostsLine } from '../test/lab/net.ts';
import { startDelayProxy, type DelayProxy } from './delay-proxy.ts';

/** Where a tool connects to reach a host. */
export interface Endpoint {
  address: string;
  port: number;
}

/** The fleet as the tools see it at one added round-trip time. */
export interface Reach {
  rttMs: number;
  /** The fleet with inventory and known_hosts pointing at the proxies (the same hosts, the same roots). */
  fleet: Fleet;
  endpoint(host: FleetHost): Endpoint;
  /** Turns counted by every proxy since the last reset (0 without proxies). */
  turns(): number;
  resetTurns(): void;
  close(): Promise<void>;
}

/** `proxied`: go through proxies at 0 ms too (to count turns). */
export async function reachAt(fleet: Fleet, rttMs: number, dir: string, proxied = false): Promise<Reach> {
  if (rttMs === 0 && !proxied) {
    return {
      rttMs,
      fleet,
      endpoint: (host) => ({ address: host.address, port: 22 }),
      turns: () => 0,
      resetTurns: () => undefined,
      close: async () => undefined,
    };
  }
  const proxies = new Map<string, DelayProxy>();
  try {
    for (const host of fleet.hosts) proxies.set(host.name, await startDelayProxy({ host: host.address, port: 22 }, rttMs));
  } catch (error) {
    await Promise.all([...proxies.values()].map((p) => p.close()));
    throw error;
  }
  const port = (host: FleetHost) => proxies.get(host.name)!.port;
  const knownHostsFile = join(dir, `known_hosts-${rttMs}ms`);
  await writeFile(knownHostsFile, fleet.hosts.map((h) => `${knownHostsLine('127.0.0.1', port(h), h.hostPublicKey)}\n`).join(''));
  const inventoryFile = join(dir, `inventory-${rttMs}ms.yml`);
  const hostVars = Object.fromEntries(
    fleet.hosts.map((h) => [h.name, { ansible_host: '127.0.0.1', ansible_port: port(h), ansible_user: 'root', ansible_ssh_private_key_file: fleet.keyFile }]),
  );
  const vars = {
    kplay_known_hosts_file: knownHostsFile,
    ansible_ssh_common_args: `-o UserKnownHostsFile=${knownHostsFile} -o StrictHostKeyChecking=yes`,
  };
  await writeFile(inventoryFile, stringify({ all: { children: { fleet: { hosts: hostVars, vars } } } }));
  return {
    rttMs,
    fleet: { ...fleet, inventoryFile, knownHostsFile },
    endpoint: (host) => ({ address: '127.0.0.1', port: port(host) }),
    turns: () => [...proxies.values()].reduce((sum, p) => sum + p.turns(), 0),
    resetTurns: () => proxies.forEach((p) => p.resetTurns()),
    close: async () => {
      await Promise.all([...proxies.values()].map((p) => p.close()));
    },
  };
}
