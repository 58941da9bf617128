// Picks the reporter for the output: listr2 live progress in a terminal, plain lines elsewhere, NDJSON for machines.

import type { Reporter } from '../core/events.ts';
import { JsonReporter } from './json.ts';
import type { Masker } from '../core/mask.ts';
import { PlainReporter } from './plain.ts';

export interface ReporterOptions {
  output: 'text' | 'json';
  tty: boolean;
  color: boolean;
  /** -v count. */
  verbosity: number;
  /** --diff: show file changes. */
  diff: boolean;
  /** Every secret of the run; the reporter masks them in everything it prints. */
  secrets: Masker;
  /** Where results go (stdout by default). */
  stream?: NodeJS.WritableStream;
  /** Where warnings go in plain text (stderr by default). */
  errStream?: NodeJS.WritableStream;
}

/** The live reporter (and listr2) is loaded only for a terminal: plain and JSON runs start faster without it. */
export async function createReporter(options: ReporterOptions): Promise<Reporter> {
  const stream = options.stream ?? process.stdout;
  const errStream = options.errStream ?? process.stderr;
  const text = { color: options.color, verbosity: options.verbosity, diff: options.diff };
  if (options.output === 'json') return new JsonReporter(options.secrets, stream);
  // A terminal that reports no width (a bare pty) cannot hold a live area: plain lines read better there.
  if (options.tty && (stream as NodeJS.WriteStream).columns) {
    const { LiveReporter } = await import('./live.ts');
    return new LiveReporter({ ...text, stream, errStream }, options.secrets);
  }
  return new PlainReporter(text, options.secrets, stream, errStream);
}
