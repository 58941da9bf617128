// Picks the reporter for the output: live progress in a terminal, plain lines elsewhere, NDJSON for machines; every
// event is stamped with its time first (engine/report/timing.ts).

import type { Reporter } from '../core/events.ts';
import { JsonReporter } from './json.ts';
import type { Masker } from '../core/mask.ts';
import { PlainReporter } from './plain.ts';
import { TimedReporter } from './timing.ts';

export type Progress = 'live' | 'plain' | 'none';
export const PROGRESS_MODES: readonly Progress[] = ['live', 'plain', 'none'];

export interface ReporterOptions {
  output: 'text' | 'json';
  tty: boolean;
  color: boolean;
  /** -v count. */
  verbosity: number;
  /** --diff: show file changes. */
  diff: boolean;
  /** --progress (or KPLAY_PROGRESS); by default live in a terminal, plain elsewhere. */
  progress?: Progress;
  /** Every secret of the run; the reporter masks them in everything it prints. */
  secrets: Masker;
  /** Where results go (stdout by default). */
  stream?: NodeJS.WritableStream;
  /** Where warnings go in plain text (stderr by default). */
  errStream?: NodeJS.WritableStream;
}

/** The live reporter is loaded only for a terminal: plain and JSON runs start faster without it. */
export async function createReporter(options: ReporterOptions): Promise<Reporter> {
  return new TimedReporter(await chooseReporter(options));
}

async function chooseReporter(options: ReporterOptions): Promise<Reporter> {
  const stream = options.stream ?? process.stdout;
  const errStream = options.errStream ?? process.stderr;
  const text = { color: options.color, verbosity: options.verbosity, diff: options.diff };
  if (options.output === 'json') return new JsonReporter(options.secrets, stream);
  if (options.progress === 'none') return new PlainReporter({ ...text, quiet: true }, options.secrets, stream, errStream);
  // A terminal that reports no width (a bare pty) cannot hold a live area: plain lines read better there.
  const canLive = options.tty && Boolean((stream as NodeJS.WriteStream).columns);
  // --progress live is obeyed even when the stream is not a terminal (then drawn for 80x24).
  if (options.progress === 'live' || (options.progress === undefined && canLive)) {
    const { LiveReporter } = await import('./live.ts');
    return new LiveReporter({ ...text, stream, errStream }, options.secrets);
  }
  return new PlainReporter(text, options.secrets, stream, errStream);
}
