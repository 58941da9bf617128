// Live progress in a terminal (listr2). Each play is a listr2 task titled with the play and its current task, and
// under it one row per host (its current task and running counts), or, when the hosts would not fit the terminal,
// one row for them all (counts and the hosts still working). Rows end as ✔/✖ with their counts when the play ends.
// What must stay on screen (changed and failed results, diffs, warnings; every result from -v) is printed above the
// live area as plain lines, and the recap after it.

import {
  DefaultRenderer,
  Listr,
  ListrDefaultRendererLogLevels,
  ListrLogger,
  ProcessOutput,
  type ListrTaskWrapper,
  type LoggerFormat,
} from 'listr2';
import type { HostCounts, Reporter, RunEvent, TaskRef } from '../core/events.ts';
import { redactEvent, type Masker } from '../core/mask.ts';
import { flush, writeLines } from './output.ts';
import { PlainFormatter, type TextOptions } from './plain.ts';
import { emptyCounts, Tally } from './recap.ts';
import type { Paint } from './style.ts';

type ResultEvent = Extract<RunEvent, { type: 'result' }>;
type Wrapper = ListrTaskWrapper<unknown, typeof LiveRenderer, typeof LiveRenderer>;

/** listr2's renderer, able to print lines above its live area. */
class LiveRenderer extends DefaultRenderer {
  // The reporter already decided this is a terminal (the stream may not be process.stdout).
  static override nonTTY = true;
  #ended = false;

  /** Clears the live frame, writes the text where it will stay, and draws the frame again below it. */
  persist(text: string, output: ProcessOutput): boolean {
    // listr2 keeps its log-update private; should it move, persist() declines and the lines are written plainly.
    const updater: { clear(): void } | undefined = this['updater'];
    if (!updater || this.#ended) return false;
    updater.clear();
    output.toStdout(text);
    this.update();
    return true;
  }

  override end(): void {
    this.#ended = true;
    super.end();
  }
}

/** A live row: one host, or every host of a play when they are too many to list. */
class Row {
  readonly tally: Tally;
  /** The task each host is in, until its result comes. */
  readonly working = new Map<string, string>();
  wrapper?: Wrapper;
  #end!: () => void;
  readonly ended = new Promise<void>((resolve) => (this.#end = resolve));
  closed = false;

  constructor(
    readonly hosts: string[],
    private readonly paint: Paint,
  ) {
    this.tally = new Tally(hosts);
  }

  start(host: string, task: string): void {
    this.working.set(host, task);
    this.tally.startTask(host);
  }

  close(): void {
    this.closed = true;
    this.working.clear();
    this.#end();
  }

  failed(): boolean {
    return Object.values(this.tally.hosts).some((c) => c.failed > 0 || c.unreachable > 0);
  }

  title(): string {
    const total = emptyCounts();
    for (const counts of Object.values(this.tally.hosts)) {
      for (const key of Object.keys(total) as (keyof HostCounts)[]) total[key] += counts[key];
    }
    const parts = [this.hosts.length === 1 ? this.hosts[0] : `${this.hosts.length} hosts`, this.#summary(total)];
    if (!this.closed && this.working.size > 0) {
      parts.push(this.hosts.length === 1 ? `→ ${[...this.working.values()][0]}` : `working: ${this.#names()}`);
    }
    return parts.join('  ');
  }

  #summary(c: HostCounts): string {
    const fields: string[] = [this.paint('green', `ok=${c.ok}`), this.paint('yellow', `changed=${c.changed}`)];
    if (c.failed) fields.push(this.paint('red', `failed=${c.failed}`));
    if (c.unreachable) fields.push(this.paint('brightRed', `unreachable=${c.unreachable}`));
    if (c.skipped) fields.push(this.paint('cyan', `skipped=${c.skipped}`));
    return fields.join(' ');
  }

  #names(): string {
    const names = [...this.working.keys()];
    return names.slice(0, 5).join(', ') + (names.length > 5 ? ` (+${names.length - 5})` : '');
  }
}

/** One play on screen: its listr2 run and rows. */
class PlayView {
  readonly rows: Row[];
  readonly rowOf = new Map<string, Row>();
  task?: TaskRef;
  wrapper?: Wrapper;
  /** The listr2 run, once it has started. */
  running?: Promise<void>;

  constructor(
    readonly name: string,
    hosts: string[],
    perHost: boolean,
    paint: Paint,
  ) {
    this.rows = perHost ? hosts.map((host) => new Row([host], paint)) : [new Row(hosts, paint)];
    for (const row of this.rows) for (const host of row.hosts) this.rowOf.set(host, row);
  }

  title(check: boolean): string {
    const task = this.task ? `  ${this.task.handler ? 'RUNNING HANDLER' : 'TASK'} [${this.task.name}]` : '';
    return `PLAY [${this.name}]${check ? ' (check)' : ''}${task}`;
  }
}

export interface LiveOptions extends TextOptions {
  stream: NodeJS.WritableStream;
  errStream: NodeJS.WritableStream;
}

export class LiveReporter implements Reporter {
  readonly #format: PlainFormatter;
  readonly #output: ProcessOutput;
  #check = false;
  #play?: PlayView;
  /**
   * Screen work in event order. A play's listr2 run starts here and owns the terminal until it has ended, so lines
   * that come after a play ends wait for its last frame instead of landing above it.
   */
  #queue: Promise<void> = Promise.resolve();
  #failure?: unknown;
  /** The renderer of the play on screen, which prints lines above its frame. */
  #renderer?: LiveRenderer;
  /** The task whose header was last printed above the live area (file:line:name). */
  #printedTask?: string;
  #refresh?: NodeJS.Timeout;

  constructor(
    private readonly options: LiveOptions,
    private readonly masker: Masker,
  ) {
    this.#format = new PlainFormatter(options);
    // listr2 wants tty streams; it uses only write(), columns and rows.
    this.#output = new ProcessOutput(
      options.stream as NodeJS.WriteStream,
      options.errStream as NodeJS.WriteStream,
      { leaveEmptyLine: false },
    );
  }

  event(raw: RunEvent): void {
    const event = redactEvent(raw, this.masker);
    switch (event.type) {
      case 'start':
        this.#check = event.check;
        this.#print(this.#format.lines(event));
        break;
      case 'play':
        this.#endPlay();
        this.#startPlay(event.name, event.hosts);
        break;
      case 'task':
        if (this.#play) this.#play.task = event.task;
        this.#schedule();
        break;
      case 'host_task':
        this.#play?.rowOf.get(event.host)?.start(event.host, event.task.name);
        this.#schedule();
        break;
      case 'result':
        this.#result(event);
        break;
      case 'warning':
        this.#print(this.#format.lines(event));
        break;
      case 'recap':
        this.#endPlay();
        this.#print(this.#format.lines(event));
        break;
    }
  }

  async close(): Promise<void> {
    this.#endPlay();
    await this.#queue;
    await Promise.all([flush(this.options.stream), flush(this.options.errStream)]);
    if (this.#failure) throw this.#failure;
  }

  #result(event: ResultEvent): void {
    const row = this.#play?.rowOf.get(event.host);
    if (row) {
      row.tally.add(event);
      row.working.delete(event.host);
      // An unreachable host is out of the play: its own row ends now.
      if (event.status === 'unreachable' && row.hosts.length === 1) row.close();
    }
    this.#schedule();
    if (!this.#format.notable(event)) return;
    const key = `${event.task.file}:${event.task.line}:${event.task.name}`;
    const header = this.#printedTask === key ? [] : this.#format.taskHeader(event.task);
    this.#printedTask = key;
    this.#print([...header, ...this.#format.result(event)]);
  }

  #startPlay(name: string, hosts: string[]): void {
    this.#print(this.#format.lines({ type: 'play', name, hosts }));
    this.#printedTask = undefined;
    const rowsFree = (this.options.stream as NodeJS.WriteStream).rows ?? 24;
    const play = new PlayView(name, hosts, hosts.length <= Math.max(1, rowsFree - 6), this.#format.paint);
    this.#play = play;
    const listr = new Listr<unknown, typeof LiveRenderer, typeof LiveRenderer>(
      {
        title: play.title(this.#check),
        task: (_ctx, wrapper) => {
          play.wrapper = wrapper;
          wrapper.title = play.title(this.#check);
          return wrapper.newListr(
            play.rows.map((row) => ({
              title: row.title(),
              task: async (_rowCtx: unknown, rowWrapper: Wrapper) => {
                row.wrapper = rowWrapper;
                rowWrapper.title = row.title();
                await row.ended;
                rowWrapper.title = row.title();
                if (row.failed()) throw new Error(row.title());
              },
            })),
            { concurrent: true, exitOnError: false },
          );
        },
      },
      {
        renderer: LiveRenderer,
        fallbackRenderer: LiveRenderer,
        registerSignalListeners: false,
        exitOnError: false,
        rendererOptions: {
          logger: new ListrLogger({ useIcons: true, processOutput: this.#output }),
          collapseSubtasks: false,
          ...(this.options.color ? {} : { color: plainStyles() }),
        },
      },
    );
    this.#enqueue(() => {
      play.running = listr.run().then(() => undefined);
      // Set by run() before its first await.
      this.#renderer = listr['renderer'] as LiveRenderer;
    });
  }

  #endPlay(): void {
    const play = this.#play;
    if (!play) return;
    this.#play = undefined;
    play.task = undefined;
    if (play.wrapper) play.wrapper.title = play.title(this.#check);
    for (const row of play.rows) row.close();
    this.#enqueue(async () => {
      await play.running;
      this.#renderer = undefined;
    });
  }

  /** Titles are pushed to listr2 at most every 50 ms: 50 hosts reporting at once make one redraw, not fifty. */
  #schedule(): void {
    if (this.#refresh) return;
    this.#refresh = setTimeout(() => {
      this.#refresh = undefined;
      const play = this.#play;
      if (!play) return;
      if (play.wrapper) play.wrapper.title = play.title(this.#check);
      for (const row of play.rows) if (row.wrapper && !row.closed) row.wrapper.title = row.title();
    }, 50).unref();
  }

  /** Lines that stay: above the live frame while a play is on screen, else straight to the stream. */
  #print(lines: string[]): void {
    if (lines.length === 0) return;
    this.#enqueue(() => {
      if (this.#renderer?.persist(lines.join('\n'), this.#output)) return;
      writeLines(this.options.stream, lines);
    });
  }

  #enqueue(step: () => void | Promise<void>): void {
    this.#queue = this.#queue.then(step).catch((error: unknown) => {
      this.#failure ??= error;
    });
  }
}

/** listr2's level colours switched off, for --no-color. */
function plainStyles(): Partial<Record<ListrDefaultRendererLogLevels, LoggerFormat>> {
  const identity: LoggerFormat = (message) => message ?? '';
  return Object.fromEntries(Object.values(ListrDefaultRendererLogLevels).map((level) => [level, identity]));
}
