// Runs the real CLI under a pseudo-terminal of a given size (util-linux `script`), as an operator's terminal would
// see it: the raw bytes kplay wrote, its exit code and the CPU time it used. Ctrl-C is typed into the terminal, so
// the terminal's line discipline delivers SIGINT as it does for a person.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KPLAY } from '../helpers/kplay.ts';

export interface PtyResult {
  /** Everything written to the terminal, as bytes decoded as UTF-8. */
  output: string;
  code: number;
  /** kplay's user + system CPU seconds (the shell's `times` for its children). */
  cpu: number;
  wallMs: number;
}

const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

export interface PtyOptions {
  cols: number;
  rows: number;
  cwd: string;
  env?: Record<string, string>;
  interruptWhen?: (output: string) => boolean;
  /** Typed into the terminal, once, when the output first satisfies `when` (a prompt). */
  answer?: { when: (output: string) => boolean; text: string };
  /** Run with stdout piped instead (no terminal), for comparison. */
  piped?: boolean;
  /** The kplay to run (default: this clone's bin/kplay.js, with this node). */
  bin?: string;
}

export function runInPty(args: string[], options: PtyOptions): Promise<PtyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kplay-pty-'));
  const cpuFile = join(dir, 'times');
  const command = [
    // tap puts its process-info hooks (signal handlers among them) into every child's NODE_OPTIONS: not a user's.
    'unset NODE_OPTIONS',
    options.piped ? ':' : `stty cols ${options.cols} rows ${options.rows}`,
    // Not exec'd: `script` stops reading once its child is gone, and the shell outlives kplay (it waits for it).
    `${options.bin ? quote(options.bin) : `${quote(process.execPath)} ${quote(KPLAY)}`} ${args.map(quote).join(' ')}`,
    `rc=$?; times > ${quote(cpuFile)}; exit $rc`,
  ].join('; ');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', ...options.env };
    delete env.CI;
    delete env.NO_COLOR;
    const [program, programArgs] = options.piped ? ['sh', ['-c', command]] : ['script', ['-qfec', command, '/dev/null']];
    const child = spawn(program as string, programArgs as string[], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let interrupted = false;
    let answered = false;
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (!answered && options.answer?.when(Buffer.concat(chunks).toString('utf8'))) {
        answered = true;
        child.stdin.write(options.answer.text);
      }
      if (!interrupted && options.interruptWhen?.(Buffer.concat(chunks).toString('utf8'))) {
        interrupted = true;
        child.stdin.write('\u0003');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      let cpu = NaN;
      try {
        // Second line: the children's user and system time, e.g. `0m1.234s 0m0.345s`.
        const children = readFileSync(cpuFile, 'utf8').trim().split('\n')[1] ?? '';
        cpu = children.split(/\s+/).reduce((sum, t) => {
          const [, m, s] = /^(\d+)m([\d.]+)s$/.exec(t) ?? [];
          return sum + Number(m) * 60 + Number(s);
        }, 0);
      } catch {
        // the shell was killed before `times`: no CPU figure
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ output: Buffer.concat(chunks).toString('utf8'), code: code ?? 1, cpu, wallMs: Date.now() - started });
    });
  });
}
