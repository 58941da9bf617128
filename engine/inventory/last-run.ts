// `.kplay/last-run.json`: the outcome of each playbook's last real run (one record per playbook), so `--limit @failed`
// reruns what failed there. Written atomically (a temp file beside it, then rename), read defensively: a damaged file
// or a state folder that cannot be written is a warning for the run that records, never a crash or another exit code.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostCounts } from '../core/events.ts';

export const STATE_DIR = '.kplay';
export const LAST_RUN_FILE = join(STATE_DIR, 'last-run.json');

/** One playbook's last run. `failed`: the hosts `--limit @failed` selects (failed, unreachable or unfinished). */
export interface RunRecord {
  time: string;
  exitCode: number;
  hosts: Record<string, HostCounts>;
  failed: string[];
  /** Hosts the run did not finish (it was interrupted): rerun by `@failed` too. */
  unfinished?: string[];
}

interface StateFile {
  version: 1;
  /** Playbook path → its last run. */
  runs: Record<string, RunRecord>;
}

/** What a run gives to be recorded: its exit code and counts, and the hosts it left unfinished, if any. */
export interface RunToRecord {
  exitCode: number;
  hosts: Record<string, HostCounts>;
  unfinished?: readonly string[];
}

export type ReadState = { ok: true; runs: Record<string, RunRecord>; found: boolean } | { ok: false; problem: string };

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((n) => typeof n === 'string');

/** A record as read from disk, or undefined when it is not one. */
function asRecord(value: unknown): RunRecord | undefined {
  if (!isMap(value) || !isNames(value.failed) || !isMap(value.hosts)) return undefined;
  if (value.unfinished !== undefined && !isNames(value.unfinished)) return undefined;
  return value as unknown as RunRecord;
}

/** Every playbook's last run in `dir`'s state file; a missing file is no runs, a damaged one says what is wrong. */
export function readLastRuns(dir: string): ReadState {
  const path = join(dir, LAST_RUN_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: true, runs: {}, found: false };
    return { ok: false, problem: `cannot read ${LAST_RUN_FILE}: ${(error as Error).message}` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `${LAST_RUN_FILE} is damaged (${text.length === 0 ? 'empty' : (error as Error).message})` };
  }
  const damaged = { ok: false as const, problem: `${LAST_RUN_FILE} is damaged (not the records kplay writes)` };
  if (!isMap(data)) return damaged;
  // The first format: one record for the whole folder, with its playbook inside.
  if (typeof data.playbook === 'string') {
    const record = asRecord(data);
    return record ? { ok: true, runs: { [data.playbook]: record }, found: true } : damaged;
  }
  if (data.version !== 1 || !isMap(data.runs)) return damaged;
  const runs: Record<string, RunRecord> = {};
  for (const [playbook, value] of Object.entries(data.runs)) {
    const record = asRecord(value);
    if (!record) return damaged;
    runs[playbook] = record;
  }
  return { ok: true, runs, found: true };
}

/** The hosts `--limit @failed` means for `playbook`; throws (with a message for the user) when there is no answer. */
export function failedHostsOf(dir: string, playbook: string): string[] {
  const state = readLastRuns(dir);
  if (!state.ok) throw new Error(`${state.problem}: run without @failed once to record a new run`);
  const record = state.runs[playbook];
  if (!record) throw new Error(`no earlier run of ${playbook} recorded in ${LAST_RUN_FILE}`);
  return [...new Set([...record.failed, ...(record.unfinished ?? [])])];
}

/**
 * Record `run` as `playbook`'s last run, keeping the other playbooks' records. Returns a warning when the state could
 * not be written or a damaged file was replaced (the caller prints it; the run's exit code stays its own).
 */
export function recordRun(dir: string, playbook: string, run: RunToRecord): string | undefined {
  const failed = Object.entries(run.hosts)
    .filter(([, c]) => c.failed > 0 || c.unreachable > 0)
    .map(([name]) => name);
  const record: RunRecord = { time: new Date().toISOString(), exitCode: run.exitCode, hosts: run.hosts, failed };
  if (run.unfinished?.length) record.unfinished = [...run.unfinished];
  const state = readLastRuns(dir);
  const runs = state.ok ? state.runs : {};
  runs[playbook] = record;
  const written = writeAtomically(join(dir, STATE_DIR), 'last-run.json', `${JSON.stringify({ version: 1, runs } satisfies StateFile, null, 2)}\n`);
  if (written) return `cannot record this run in ${LAST_RUN_FILE} (--limit @failed will not know it): ${written}`;
  return state.ok ? undefined : `${state.problem}: replaced by a new one holding only this run`;
}

/** Write `name` in `folder` through a temp file and a rename; the error's message, or undefined when written. */
function writeAtomically(folder: string, name: string, text: string): string | undefined {
  const temp = join(folder, `.${name}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
  try {
    mkdirSync(folder, { recursive: true });
    writeFileSync(temp, text, { mode: 0o644 });
    renameSync(temp, join(folder, name));
    return undefined;
  } catch (error) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // the folder is not one: there is no temp file to remove
    }
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EEXIST' || e.code === 'ENOTDIR') return `${folder} is not a folder`;
    return e.message;
  }
}
