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

export interface AnsibleTask {
  task: { name: string };
  hosts: Record<string, { changed?: boolean; diff?: { prepared?: string } | unknown[]; ansible_facts?: Record<string, unknown> }>;
}

export interface AnsibleResult {
  code: number;
  stdout: string;
  stderr: string;
  recap: Record<string, Recap>;
  /** Every task's result per host (Ansible's json callback). */
  tasks: AnsibleTask[];
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
        ANSIBLE_STDOUT_CALLBACK: 'json',
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
      let tasks: AnsibleTask[] = [];
      try {
        const doc = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
          plays: { tasks: AnsibleTask[] }[];
          stats: Record<string, { ok: number; changed: number; failures: number; skipped: number; unreachable: number }>;
        };
        tasks = doc.plays.flatMap((p) => p.tasks);
        for (const [host, s] of Object.entries(doc.stats)) {
          recap[host] = { ok: s.ok, changed: s.changed, failed: s.failures, skipped: s.skipped, unreachable: s.unreachable };
        }
      } catch {
        // not JSON: the run failed before the callback wrote; the caller sees code and stdout
      }
      resolve({ code: code ?? 1, stdout, stderr, recap, tasks });
    });
  });
}
