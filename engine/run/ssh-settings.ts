// Bridge to the SSH transport, kept apart so the rest of the runner does not depend on ssh2.

import type { Connection } from '../connection/connection.ts';
import { UnreachableError } from '../connection/connection.ts';

export interface SshSettings {
  hostName: string;
  address: string;
  port: number;
  user: string;
  privateKeyFiles: string[];
  knownHostsFile: string;
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  commandTimeoutMs?: number;
  becomePassword?: string;
}

export async function openSsh(settings: SshSettings): Promise<Connection> {
  throw new UnreachableError(settings.hostName, 'the ssh connection is not available yet');
}
