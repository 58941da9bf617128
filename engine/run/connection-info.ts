// What -vvv says when kplay connects to a host (as Ansible's "ESTABLISH ... CONNECTION"): the transport, user,
// address, port, key file and known_hosts file, never a password.

import { userInfo } from 'node:os';
import { ConnectionPool } from './connections.ts';

const str = (value: unknown): string | undefined => (value === undefined || value === null || value === '' ? undefined : String(value));

export function describeConnection(hostName: string, vars: Record<string, unknown>): string {
  if (ConnectionPool.isLocal(hostName, vars)) return `ESTABLISH LOCAL CONNECTION FOR USER: ${userInfo().username}`;
  const user = str(vars.ansible_user) ?? str(vars.ansible_ssh_user) ?? 'root';
  const parts = [`ESTABLISH SSH CONNECTION FOR USER: ${user}`, `to ${str(vars.ansible_host) ?? hostName}:${str(vars.ansible_port) ?? 22}`];
  const key = str(vars.ansible_ssh_private_key_file) ?? str(vars.ansible_private_key_file);
  if (key) parts.push(`key ${key}`);
  const knownHosts = str(vars.kplay_known_hosts_file) ?? str(vars.kplay_known_hosts) ?? str(vars.ansible_ssh_known_hosts_file);
  if (knownHosts) parts.push(`known_hosts ${knownHosts}`);
  if (str(vars.ansible_timeout)) parts.push(`timeout ${str(vars.ansible_timeout)}s`);
  return parts.join(', ');
}
