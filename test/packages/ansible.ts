// Runs Debian's ansible-playbook (the oracle) against lab hosts and reads its recap.

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';

export interface Recap {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
}

export interface AnsibleResult {
  code: number;
  stdout: string;
  stderr: string;
  recap: Record<string, Recap>;
}

const CONTROL_DIR = mkdtempSync('/tmp/kpa-');

export function ansiblePlaybook(args: string[], cwd: string, env: Record<string, string> = {}): Promise<AnsibleResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ansible-playbook', args, {
      cwd,
      env: {
        ...process.env,
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_RETRY_FILES_ENABLED: '0',
        ANSIBLE_PIPELINING: '1',
        ANSIBLE_STDOUT_CALLBACK: 'default',
        ANSIBLE_LOCAL_TEMP: `${cwd}/.ansible-tmp`,
        // A short folder: ssh's ControlPath must stay under 108 bytes.
        ANSIBLE_SSH_CONTROL_PATH_DIR: CONTROL_DIR,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const recap: Record<string, Recap> = {};
      const re = /^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)/gm;
      for (const m of stdout.matchAll(re)) {
        recap[m[1]] = { ok: +m[2], changed: +m[3], unreachable: +m[4], failed: +m[5], skipped: +m[6] };
      }
      resolve({ code: code ?? 1, stdout, stderr, recap });
    });
  });
}
