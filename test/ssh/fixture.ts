// Shared by the ssh tests: a fleet that is always torn down, SshConnection options for its hosts, and the real
// `ssh` client to check what landed on a host independently of the code under test.

import type { Test } from 'tap';
import { SshConnection, type SshOptions } from '../../engine/connection/ssh.ts';
import { startFleet, type Fleet, type FleetHost } from '../lab/fleet.ts';
import { labUnavailableReason, run } from '../lab/net.ts';

const PROGRAMS = ['ip', 'unshare', 'mount', 'sshd', 'ssh', 'ssh-keygen', 'sudo', 'timeout'];

/**
 * A fleet for this test file, torn down at its end; undefined when the lab cannot run here, after failing the test
 * with the reason (or skipping it, outside CI only).
 */
export async function labFleet(t: Test, count: number, name: string, extra: { passwordLogin?: boolean } = {}): Promise<Fleet | undefined> {
  const reason = await labUnavailableReason(PROGRAMS);
  if (reason) {
    if (process.env.CI) t.fail(`cannot run the SSH lab: ${reason}`);
    else t.skip(`cannot run the SSH lab: ${reason} (outside CI this is a skip; in CI it fails)`, () => undefined);
    return undefined;
  }
  const fleet = await startFleet({ count, name, ...extra });
  t.teardown(() => fleet.stop());
  return fleet;
}

export function sshOptions(fleet: Fleet, host: FleetHost, overrides: Partial<SshOptions> = {}): SshOptions {
  return {
    hostName: host.name,
    address: host.address,
    port: 22,
    user: 'root',
    privateKeyFiles: [fleet.keyFile],
    agent: '',
    knownHostsFile: fleet.knownHostsFile,
    acceptNewHostKeys: false,
    connectTimeoutMs: 3000,
    keepaliveIntervalMs: 5000,
    ...overrides,
  };
}

/** Open a connection closed at the end of the test. */
export async function connect(t: Test, fleet: Fleet, host: FleetHost, overrides: Partial<SshOptions> = {}): Promise<SshConnection> {
  const connection = await SshConnection.open(sshOptions(fleet, host, overrides));
  t.teardown(() => connection.close());
  return connection;
}

/** Run a command on a host with OpenSSH's client, strict host key checking against the fleet's known_hosts. */
export function sshCli(fleet: Fleet, host: FleetHost, command: string, user = 'root'): Promise<string> {
  return run('ssh', [
    '-i', fleet.keyFile,
    '-o', `UserKnownHostsFile=${fleet.knownHostsFile}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'IdentityAgent=none',
    `${user}@${host.address}`,
    command,
  ]);
}
