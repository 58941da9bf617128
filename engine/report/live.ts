// Live progress in a terminal: a small area at the bottom redrawn at most 8 times a second, whatever happens in
// between, from the run's state at that moment (so rows are in step with the header). A row per host while they fit
// the terminal's lines, else a compact view naming the failed, unreachable and slowest hosts. Above the area, lines
// that stay: failures (at once), debug messages, diffs, every result from -v, and one line per finished task with
// its time and counts. At the end: the failed hosts' block, then the recap, once.
//
// Not listr2: listr2 redraws its whole frame whenever any task title changes, so a fleet's rows cost hosts × ticks
// full frames (2.6 MB and 22 s of CPU for a 20-task run on 25 hosts that takes 0.9 s of CPU piped); this view writes
// only the lines that changed, at most 8 times a second.

import cliTruncate from 'cli-truncate';
import stringWidth from 'string-width';
import type { HostCounts, ProgressInfo, Reporter, RunEvent, TaskRef } from '../core/events.ts';
import { redactEvent, type Masker } from '../core/mask.ts';
import { FailureLog } from './failures.ts';
import { guard, LiveArea } from './live-area.ts';
import { flush } from './output.ts';
import { PlainFormatter, type TextOptions } from './plain.ts';
import { emptyCounts, Tally } from './recap.ts';
import type { Paint } from './style.ts';
import { formatDuration } from './timing.ts';

type ResultEvent = Extract<RunEvent, { type: 'result' }>;

/** At most this many frames a second. */
const FPS = 8;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface HostRow {
  state: 'waiting' | 'working' | 'idle' | 'failed' | 'unreachable';
  task?: string;
  /** When the host started its current task. */
  since?: number;
  progress?: ProgressInfo;
}

interface TaskRun {
  ref: TaskRef;
  started: number;
  /** Results of this task so far, by status (a loop counts as its items). */
  counts: HostCounts;
  /** Whether its banner has been printed above the area (a failure or a message came). */
  banner: boolean;
}

interface PlayState {
  name: string;
  hosts: string[];
  started: number;
  total: number;
  index: number;
  task?: TaskRun;
  rows: Map<string, HostRow>;
}

export interface LiveOptions extends TextOptions {
  stream: NodeJS.WritableStream;
  errStream: NodeJS.WritableStream;
}

export class LiveReporter implements Reporter {
  readonly #format: PlainFormatter;
  readonly #paint: Paint;
  readonly #area: LiveArea;
  readonly #tally = new Tally();
  readonly #failures = new FailureLog();
  #check = false;
  #started = Date.now();
  #play?: PlayState;
  /** Lines to print above the area at the next frame. */
  #above: string[] = [];
  #dirty = false;
  #lastFrame = 0;
  #spin = 0;
  #timer?: NodeJS.Timeout;
  #recap?: Extract<RunEvent, { type: 'recap' }>;
  /** A signal ended the live view and someone else (the runner) ends the run: close() prints its recap. */
  #cutShort = false;
  #ended = false;

  constructor(
    private readonly options: LiveOptions,
    private readonly masker: Masker,
  ) {
    this.#format = new PlainFormatter(options);
    this.#paint = this.#format.paint;
    this.#area = new LiveArea(options.stream);
    guard.onInterrupt(this.#area, (signal) => this.#interrupted(signal));
    (options.stream as NodeJS.WriteStream).on?.('resize', () => {
      this.#area.forget();
      this.#dirty = true;
    });
  }

  /** Bytes and frames the area wrote (the tests read them). */
  get stats(): { bytes: number; frames: number } {
    return { bytes: this.#area.bytes, frames: this.#area.frames };
  }

  event(raw: RunEvent): void {
    const event = redactEvent(raw, this.masker);
    const now = Date.now();
    switch (event.type) {
      case 'start':
        this.#check = event.check;
        this.#started = now;
        this.#above.push(...this.#format.lines(event));
        break;
      case 'play':
        this.#endPlay(now);
        this.#play = {
          name: event.name,
          hosts: event.hosts,
          started: now,
          total: event.tasks ?? 0,
          index: 0,
          rows: new Map(event.hosts.map((h) => [h, { state: 'waiting' }])),
        };
        this.#above.push(...this.#format.lines(event));
        this.#startTimer();
        break;
      case 'task':
        this.#endTask(now);
        if (this.#play) {
          if (!event.task.handler) this.#play.index++;
          this.#play.task = { ref: event.task, started: now, counts: emptyCounts(), banner: false };
          // -v shows every result: the banner goes first, as in plain output.
          if (this.options.verbosity >= 1) this.#banner();
        } else {
          this.#above.push(...this.#format.lines(event));
        }
        break;
      case 'host_task': {
        this.#tally.startTask(event.host);
        const row = this.#play?.rows.get(event.host);
        if (row) Object.assign(row, { state: 'working', task: event.task.name, since: now, progress: undefined });
        break;
      }
      case 'progress': {
        const row = this.#play?.rows.get(event.host);
        if (row) row.progress = event.progress;
        break;
      }
      case 'result':
        this.#result(event);
        break;
      case 'warning':
      case 'error':
      case 'connection':
        this.#above.push(...this.#format.lines(event));
        break;
      case 'recap':
        this.#recap = event;
        return;
    }
    this.#dirty = true;
  }

  async close(): Promise<void> {
    this.#finish();
    guard.release(this.#area);
    await Promise.all([flush(this.options.stream), flush(this.options.errStream)]);
  }

  #result(event: ResultEvent): void {
    this.#tally.add(event);
    this.#failures.add(event);
    const task = this.#play?.task;
    if (task) {
      const key = event.status === 'failed' && event.ignored ? 'ignored' : event.status;
      task.counts[key]++;
      if (event.status === 'changed') task.counts.ok++;
    }
    const row = this.#play?.rows.get(event.host);
    const failed = event.status === 'unreachable' || (event.status === 'failed' && !event.ignored);
    if (row && (event.item === undefined || failed)) {
      // A failed host's row stops at once: it shows where it failed, never a clock.
      row.state = event.status === 'unreachable' ? 'unreachable' : failed ? 'failed' : 'idle';
      row.progress = undefined;
    }
    if (!this.#shows(event)) return;
    this.#banner();
    this.#above.push(...this.#format.result(event));
  }

  /** A result printed above the area: failures, debug messages, diffs, or everything from -v. */
  #shows(event: ResultEvent): boolean {
    if (this.options.verbosity >= 1) return true;
    if (event.status === 'failed' || event.status === 'unreachable') return true;
    if (this.options.diff && event.diff?.some((d) => d.before !== d.after)) return true;
    return event.task.module === 'debug' && event.status === 'ok';
  }

  #banner(): void {
    const task = this.#play?.task;
    if (!task || task.banner) return;
    task.banner = true;
    this.#above.push(...this.#format.taskHeader(task.ref));
  }

  /** The task's one line above the area: its name, time and counts. */
  #endTask(now: number): void {
    const play = this.#play;
    const task = play?.task;
    if (!play || !task) return;
    play.task = undefined;
    const c = task.counts;
    if (c.ok + c.failed + c.unreachable + c.skipped + c.ignored === 0) return;
    const counts = [
      c.changed ? this.#paint('yellow', `changed=${c.changed}`) : '',
      c.ok - c.changed ? this.#paint('green', `ok=${c.ok - c.changed}`) : '',
      c.failed ? this.#paint('red', `failed=${c.failed}`) : '',
      c.unreachable ? this.#paint('brightRed', `unreachable=${c.unreachable}`) : '',
      c.skipped ? this.#paint('cyan', `skipped=${c.skipped}`) : '',
      c.ignored ? this.#paint('magenta', `ignored=${c.ignored}`) : '',
    ].filter(Boolean).join(' ');
    const icon = c.failed || c.unreachable ? this.#paint('red', '✖') : this.#paint('green', '✔');
    const word = task.ref.handler ? 'HANDLER' : 'TASK';
    this.#above.push(this.#fit(`${icon} ${word} [${task.ref.name}] ${this.#paint('dim', formatDuration(now - task.started))}  ${counts}`));
  }

  #endPlay(now: number): void {
    const play = this.#play;
    if (!play) return;
    this.#endTask(now);
    this.#play = undefined;
    const rows = [...play.rows.values()];
    const failed = rows.filter((r) => r.state === 'failed').length;
    const unreachable = rows.filter((r) => r.state === 'unreachable').length;
    const parts = [`${play.hosts.length} host${play.hosts.length === 1 ? '' : 's'}`, formatDuration(now - play.started)];
    if (failed) parts.push(this.#paint('red', `${failed} failed`));
    if (unreachable) parts.push(this.#paint('brightRed', `${unreachable} unreachable`));
    this.#above.push(`${failed || unreachable ? this.#paint('red', '✖') : this.#paint('green', '✔')} PLAY [${play.name}]: ${parts.join(', ')}`);
    this.#area.close(this.#takeAbove());
  }

  #finish(): void {
    if (this.#ended) {
      // Interrupted, and the runner that handles the signal ended the run: what it said since, and the recap so far.
      if (this.#cutShort) {
        this.#cutShort = false;
        const end = this.#recap ? [...this.#failures.lines(this.#recap.hosts, this.#paint), ...this.#format.lines(this.#recap)] : [];
        this.#area.close([...this.#takeAbove(), ...end]);
      }
      return;
    }
    this.#ended = true;
    clearInterval(this.#timer);
    this.#endPlay(Date.now());
    const end: string[] = [];
    if (this.#recap) {
      end.push(...this.#failures.lines(this.#recap.hosts, this.#paint));
      end.push(...this.#format.lines(this.#recap));
    }
    this.#area.close([...this.#takeAbove(), ...end]);
  }

  /** A signal ends the run: the area closes and the end so far is drawn (the recap only if nobody else prints it). */
  #interrupted(signal: NodeJS.Signals): void {
    if (this.#ended) return;
    const alone = process.listenerCount(signal) <= 1;
    this.#ended = true;
    clearInterval(this.#timer);
    const now = Date.now();
    this.#endPlay(now);
    const lines = [...this.#takeAbove(), '', this.#paint('red', `Interrupted (${signal}) after ${formatDuration(now - this.#started)}`)];
    this.#cutShort = !alone;
    if (alone) {
      const hosts = this.#recap?.hosts ?? this.#tally.hosts;
      lines.push(...this.#failures.lines(hosts, this.#paint), ...this.#format.lines({ type: 'recap', hosts }));
    }
    this.#area.close(lines);
  }

  #takeAbove(): string[] {
    const lines = this.#above;
    this.#above = [];
    return lines;
  }

  #startTimer(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), Math.ceil(1000 / FPS));
    this.#timer.unref();
  }

  /** One frame when something changed, and one a second for the clocks. */
  #tick(): void {
    const now = Date.now();
    if (!this.#dirty && this.#above.length === 0 && now - this.#lastFrame < 1000) return;
    if (!this.#play) {
      if (this.#above.length > 0) this.#area.close(this.#takeAbove());
      return;
    }
    this.#dirty = false;
    this.#lastFrame = now;
    this.#spin = (this.#spin + 1) % SPINNER.length;
    this.#area.draw(this.#frame(now), this.#takeAbove());
  }

  #size(): { columns: number; rows: number } {
    const stream = this.options.stream as NodeJS.WriteStream;
    return { columns: stream.columns || 80, rows: stream.rows || 24 };
  }

  /** Cut to the terminal's width less one column, so a line never wraps. */
  #fit(line: string): string {
    const width = this.#size().columns - 1;
    return stringWidth(line) <= width ? line : cliTruncate(line, width);
  }

  #frame(now: number): string[] {
    const play = this.#play!;
    const { rows: height } = this.#size();
    const task = play.task;
    const total = Math.max(play.total, play.index);
    const header = [
      this.#paint('cyan', SPINNER[this.#spin]),
      `PLAY [${play.name}]${this.#check ? ' (check)' : ''}`,
      task ? `${task.ref.handler ? 'handler' : `task ${play.index}/${total}`} [${task.ref.name}] ${clock(now - task.started)}` : '',
      this.#paint('dim', `run ${clock(now - this.#started)}`),
    ].filter(Boolean).join('  ');
    const rows = [...play.rows.entries()];
    // Keep a line free below the area, so drawing it never scrolls the screen.
    const room = height - 1;
    const perHost = 1 + rows.length <= room;
    const lines = [header, ...(perHost ? this.#hostRows(rows, now) : this.#compact(rows, now, Math.max(1, room - 1)))];
    return lines.slice(0, Math.max(1, room)).map((line) => this.#fit(line));
  }

  #hostRows(rows: [string, HostRow][], now: number): string[] {
    const nameWidth = Math.max(...rows.map(([name]) => stringWidth(name)));
    const countsOf = rows.map(([name]) => this.#counts(this.#tally.hosts[name] ?? emptyCounts()));
    const countsWidth = Math.max(...countsOf.map((c) => stringWidth(c)));
    const pad = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - stringWidth(text)));
    return rows.map(([name, row], i) => `  ${this.#icon(row)} ${pad(name, nameWidth)}  ${pad(countsOf[i], countsWidth)}  ${this.#doing(row, now)}`);
  }

  #icon(row: HostRow): string {
    switch (row.state) {
      case 'failed':
        return this.#paint('red', '✖');
      case 'unreachable':
        return this.#paint('brightRed', '✖');
      case 'working':
        return this.#paint('cyan', '›');
      case 'idle':
        return this.#paint('green', '✔');
      default:
        return ' ';
    }
  }

  /** What a host does now: its task and the time on it (whole seconds, so a row changes at most once a second). */
  #doing(row: HostRow, now: number): string {
    switch (row.state) {
      case 'failed':
        return this.#paint('red', `failed at [${row.task ?? '?'}]`);
      case 'unreachable':
        return this.#paint('brightRed', `unreachable at [${row.task ?? '?'}]`);
      case 'working':
        return `${row.task ?? ''} ${this.#paint('dim', clock(now - (row.since ?? now)))}${progressText(row.progress)}`;
      case 'idle':
        return this.#paint('dim', row.task ?? '');
      default:
        return this.#paint('dim', 'waiting');
    }
  }

  #counts(c: HostCounts): string {
    const fields = [this.#paint('green', `ok=${c.ok}`), this.#paint('yellow', `changed=${c.changed}`)];
    if (c.failed) fields.push(this.#paint('red', `failed=${c.failed}`));
    if (c.unreachable) fields.push(this.#paint('brightRed', `unreachable=${c.unreachable}`));
    return fields.join(' ');
  }

  /** Too many hosts for a row each: how many do what, then the failed, unreachable and slowest hosts by name. */
  #compact(rows: [string, HostRow][], now: number, room: number): string[] {
    const by = (state: HostRow['state']): [string, HostRow][] => rows.filter(([, r]) => r.state === state);
    const working = by('working').sort(([, a], [, b]) => (a.since ?? now) - (b.since ?? now));
    const failed = by('failed');
    const unreachable = by('unreachable');
    const total = emptyCounts();
    for (const [name] of rows) {
      const c = this.#tally.hosts[name];
      if (c) for (const key of Object.keys(total) as (keyof HostCounts)[]) total[key] += c[key];
    }
    const states = [
      `${rows.length} hosts:`,
      working.length ? this.#paint('cyan', `${working.length} working`) : '',
      by('idle').length ? this.#paint('green', `${by('idle').length} done`) : '',
      failed.length ? this.#paint('red', `${failed.length} failed`) : '',
      unreachable.length ? this.#paint('brightRed', `${unreachable.length} unreachable`) : '',
    ].filter(Boolean).join(' ');
    const width = this.#size().columns - 1;
    const lines = [`  ${states}  ${this.#counts(total)}`];
    if (failed.length) lines.push(this.#paint('red', `  failed: ${fitList(failed.map(([n]) => n), width - 10)}${sameTask(failed)}`));
    if (unreachable.length) {
      lines.push(this.#paint('brightRed', `  unreachable: ${fitList(unreachable.map(([n]) => n), width - 15)}${sameTask(unreachable)}`));
    }
    if (working.length) {
      const slow = working.map(([n, r]) => `${n} ${clock(now - (r.since ?? now))}${progressText(r.progress)}`);
      lines.push(`  slowest: ${fitList(slow, width - 11)}`);
    }
    return lines.slice(0, room);
  }
}

/** `0:07`, `1:23`, `1:02:03`: whole seconds. */
function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return s < 3600 ? `${Math.floor(s / 60)}:${two(s % 60)}` : `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

/** ` 12.0/40.0 MB` for a download, ` 25s left` for a wait. */
function progressText(progress: ProgressInfo | undefined): string {
  if (!progress) return '';
  const parts: string[] = [];
  if (progress.bytes) {
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    parts.push(progress.bytes.total ? `${mb(progress.bytes.done)}/${mb(progress.bytes.total)} MB` : `${mb(progress.bytes.done)} MB`);
  }
  if (progress.secondsLeft !== undefined) parts.push(`${Math.max(0, Math.ceil(progress.secondsLeft))}s left`);
  else if (progress.until !== undefined) parts.push(`${Math.max(0, Math.ceil((progress.until - Date.now()) / 1000))}s left`);
  if (progress.text) parts.push(progress.text);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

/** ` at [task]` when every one of these hosts stopped at the same task. */
function sameTask(rows: [string, HostRow][]): string {
  const tasks = new Set(rows.map(([, r]) => r.task));
  return tasks.size === 1 && rows[0][1].task ? ` at [${rows[0][1].task}]` : '';
}

/** `a, b, c (+4)` within `width` columns. */
function fitList(items: string[], width: number): string {
  let out = '';
  for (let i = 0; i < items.length; i++) {
    const next = out ? `${out}, ${items[i]}` : items[i];
    const rest = items.length - i - 1;
    const tail = rest > 0 ? ` (+${rest})` : '';
    if (stringWidth(next + tail) > width && out) return `${out} (+${items.length - i})`;
    out = next;
  }
  return out;
}
