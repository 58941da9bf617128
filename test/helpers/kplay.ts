// Runs the real CLI in a child process, as a user would, and collects what it printed.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../../engine/core/events.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const KPLAY = `${REPO}bin/kplay.js`;

export interface KplayResult {
  code: number;
  stdout: string;
  stderr: string;
  /** With --output json: every event, in order. */
  events: RunEvent[];
  /** With --output json: the recap's counts per host. */
  recap?: Extract<RunEvent, { type: 'recap' }>['hosts'];
}

export function kplay(args: string[], options: { cwd: string; env?: Record<string, string>; input?: string }): Promise<KplayResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KPLAY, ...args], {
      cwd: options.cwd,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const events: RunEvent[] = [];
      if (args.includes('json')) {
        for (const line of stdout.split('\n')) if (line.trim().startsWith('{')) events.push(JSON.parse(line) as RunEvent);
      }
      const recap = events.find((e): e is Extract<RunEvent, { type: 'recap' }> => e.type === 'recap');
      resolve({ code: code ?? 1, stdout, stderr, events, recap: recap?.hosts });
    });
    child.stdin.end(options.input ?? '');
  });
}
