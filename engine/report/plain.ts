// Ansible-like plain lines, for CI logs and any output that is not a terminal.

import type { Reporter, RunEvent, TaskRef } from '../core/events.ts';
import { formatDiff } from './diff.ts';
import { FailureLog } from './failures.ts';
import { redactEvent, type Masker } from '../core/mask.ts';
import { flush, writeLines } from './output.ts';
import { formatRecap } from './recap.ts';
import { banner, painter, STATUS_STYLE, type Paint } from './style.ts';

export interface TextOptions {
  color: boolean;
  verbosity: number;
  diff: boolean;
  /** No progress lines: only warnings, then the failed hosts and the recap at the end (`--progress none`). */
  quiet?: boolean;
}

type ResultEvent = Extract<RunEvent, { type: 'result' }>;

/** Turns (already redacted) events into Ansible's lines; shared by the plain and the live reporters. */
export class PlainFormatter {
  readonly paint: Paint;

  constructor(private readonly options: TextOptions) {
    this.paint = painter(options.color);
  }

  lines(event: RunEvent): string[] {
    switch (event.type) {
      case 'start':
        return this.options.verbosity >= 1
          ? [banner(`PLAYBOOK: ${event.playbook}${event.check ? ' (check mode)' : ''}`)]
          : [];
      case 'play':
        return ['', banner(`PLAY [${event.name}]`)];
      case 'task':
        return this.taskHeader(event.task);
      case 'host_task':
      case 'progress':
        return [];
      case 'error':
        return [this.paint('red', event.message)];
      case 'connection':
        return this.options.verbosity >= 3 ? [`<${event.host}> ${event.message}`] : [];
      case 'result':
        return this.result(event);
      case 'warning':
        return [this.paint('magenta', `[WARNING]: ${event.host ? `${event.host}: ` : ''}${event.message}`)];
      case 'recap':
        return formatRecap(event.hosts, this.paint);
    }
  }

  taskHeader(task: TaskRef): string[] {
    const lines = ['', banner(task.handler ? `RUNNING HANDLER [${task.name}]` : `TASK [${task.name}]`)];
    if (this.options.verbosity >= 2) lines.push(`task path: ${task.file}:${task.line}`);
    return lines;
  }

  /** The diff (with --diff) then the status line, as Ansible orders them. */
  result(event: ResultEvent): string[] {
    const lines: string[] = [];
    if (this.options.diff) for (const change of event.diff ?? []) lines.push(...formatDiff(change, this.paint));
    const target = event.delegatedTo ? `[${event.host} -> ${event.delegatedTo}]` : `[${event.host}]`;
    const item = event.item === undefined ? '' : `(item=${label(event.item)})`;
    const style = STATUS_STYLE[event.status];
    switch (event.status) {
      case 'failed':
      case 'unreachable': {
        const head = item
          ? `failed: ${target} ${item}`
          : `fatal: ${target}: ${event.status === 'failed' ? 'FAILED!' : 'UNREACHABLE!'}`;
        lines.push(this.paint(style, `${head} => ${this.details(event, true)}`));
        if (this.options.verbosity === 0 && !event.censored) lines.push(...commandOutput(event.result));
        if (event.ignored) lines.push(this.paint('cyan', '...ignoring'));
        break;
      }
      default: {
        const word = event.status === 'skipped' ? 'skipping' : event.status;
        const details = this.details(event, false);
        lines.push(this.paint(style, [`${word}: ${target}`, item, details].filter(Boolean).join(' => ')));
      }
    }
    return lines;
  }

  /** Whether a result is worth a line when ok and skipped ones are not shown: a change, a failure, a debug message. */
  notable(event: ResultEvent): boolean {
    return this.options.verbosity >= 1 || isDebug(event) || (event.status !== 'ok' && event.status !== 'skipped');
  }

  /**
   * A failure always says why and `debug` always shows its values (indented, as Ansible); other results show theirs
   * from -v, as one JSON line (indented from -vvv).
   */
  private details(event: ResultEvent, failed: boolean): string {
    if (event.censored) return event.msg ?? '';
    // Facts gathering shows no result at any -v, as Ansible's (its facts are for variables, not for the screen).
    if (!failed && FACT_MODULES.has(event.task.module)) return '';
    const debug = isDebug(event);
    if (this.options.verbosity === 0 && !debug) return failed ? (event.msg ?? '') : '';
    const values = debug
      ? withoutKeys(event.result, ['changed', 'failed', 'skipped'])
      : { ...(event.msg === undefined ? {} : { msg: event.msg }), ...event.result };
    if (Object.keys(values).length === 0) return '';
    return JSON.stringify(values, null, debug || this.options.verbosity >= 3 ? 4 : undefined);
  }
}

const FACT_MODULES = new Set(['setup', 'gather_facts']);

function isDebug(event: ResultEvent): boolean {
  return event.task.module === 'debug' && event.status === 'ok';
}

function withoutKeys(values: Record<string, unknown> = {}, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => !keys.includes(key)));
}

// A failed command's own words are what a CI log reader needs; without -v only their last lines are shown.
const OUTPUT_LINES = 20;

/** A failed command's rc, stderr and stdout, indented under the failure line. */
function commandOutput(result: Record<string, unknown> = {}): string[] {
  const lines: string[] = [];
  if (typeof result.rc === 'number' && result.rc !== 0) lines.push(`  rc: ${result.rc}`);
  for (const stream of ['stderr', 'stdout'] as const) {
    const text = result[stream];
    if (typeof text !== 'string' || text.trim() === '') continue;
    const all = text.trimEnd().split('\n');
    const shown = all.slice(-OUTPUT_LINES);
    if (shown.length < all.length) lines.push(`  ${stream}: (last ${OUTPUT_LINES} of ${all.length} lines)`);
    shown.forEach((line, i) => lines.push(`${i === 0 && shown.length === all.length ? `  ${stream}: ` : ' '.repeat(stream.length + 4)}${line}`));
  }
  return lines;
}

/** How a loop item is named: a scalar as it is, anything else as JSON. */
function label(item: unknown): string {
  return typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean' ? String(item) : JSON.stringify(item);
}

export class PlainReporter implements Reporter {
  readonly #format: PlainFormatter;
  readonly #failures = new FailureLog();

  constructor(
    private readonly options: TextOptions,
    private readonly masker: Masker,
    private readonly stream: NodeJS.WritableStream,
    private readonly errStream: NodeJS.WritableStream,
  ) {
    this.#format = new PlainFormatter(options);
  }

  event(raw: RunEvent): void {
    const event = redactEvent(raw, this.masker);
    this.#failures.add(event);
    if (this.options.quiet && event.type !== 'warning' && event.type !== 'error' && event.type !== 'recap') return;
    const lines = this.#format.lines(event);
    // Before the recap, once: every failed and unreachable host with its task and reason.
    if (event.type === 'recap') lines.unshift(...this.#failures.lines(event.hosts, this.#format.paint));
    writeLines(event.type === 'warning' || event.type === 'error' ? this.errStream : this.stream, lines);
  }

  async close(): Promise<void> {
    await Promise.all([flush(this.stream), flush(this.errStream)]);
  }
}
