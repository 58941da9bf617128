// The block printed at the end of a run, before the recap: every host that failed or was unreachable, with the task,
// its file:line and the reason, so the reasons do not scroll away among a fleet's lines (Ansible has no such block).

import type { HostCounts, RunEvent } from '../core/events.ts';
import { banner, type Paint } from './style.ts';

type ResultEvent = Extract<RunEvent, { type: 'result' }>;

// A reason's own lines, then a failed command's last words: enough to act on, short enough for a fleet.
const REASON_LINES = 4;

export class FailureLog {
  /** The last failure of each host (a rescued failure is dropped by the recap's counts, see lines()). */
  readonly #last = new Map<string, ResultEvent>();

  add(event: RunEvent): void {
    if (event.type !== 'result') return;
    if (event.status === 'unreachable' || (event.status === 'failed' && !event.ignored)) this.#last.set(event.host, event);
  }

  /** The failure of `host`, if it failed. */
  of(host: string): ResultEvent | undefined {
    return this.#last.get(host);
  }

  /** The block, empty when every host of the recap is fine. */
  lines(hosts: Record<string, HostCounts>, paint: Paint): string[] {
    const failed = Object.entries(hosts).filter(([, c]) => c.failed > 0 || c.unreachable > 0);
    if (failed.length === 0) return [];
    const unreachable = failed.filter(([, c]) => c.unreachable > 0).length;
    const title = [
      failed.length - unreachable > 0 ? `${failed.length - unreachable} FAILED` : '',
      unreachable > 0 ? `${unreachable} UNREACHABLE` : '',
    ].filter(Boolean).join(', ');
    const lines = ['', banner(`${title} (of ${Object.keys(hosts).length} hosts)`)];
    for (const [host, counts] of failed) {
      const event = this.#last.get(host);
      const word = counts.unreachable > 0 ? 'unreachable' : 'failed';
      if (!event) {
        lines.push(paint('red', `${host}: ${word}`));
        continue;
      }
      const item = event.item === undefined ? '' : ` (item=${typeof event.item === 'string' ? event.item : JSON.stringify(event.item)})`;
      lines.push(
        `${paint('red', `${host}: ${word}`)} at ${event.task.handler ? 'HANDLER' : 'TASK'} [${event.task.name}]${item} ` +
          paint('dim', `${event.task.file}:${event.task.line}`),
      );
      for (const line of reason(event)) lines.push(`    ${line}`);
    }
    return lines;
  }
}

/** The failure's message, then a failed command's rc and last stderr (or stdout) line when the message is not it. */
function reason(event: ResultEvent): string[] {
  const msg = (event.msg ?? '').trimEnd();
  const out = msg.split('\n').slice(0, REASON_LINES);
  if (msg.split('\n').length > REASON_LINES) out.push('...');
  const result = event.result ?? {};
  for (const stream of ['stderr', 'stdout'] as const) {
    const text = result[stream];
    if (typeof text !== 'string' || text.trim() === '') continue;
    const last = text.trimEnd().split('\n').at(-1) ?? '';
    if (!msg.includes(last)) out.push(`${stream}: ${last}${typeof result.rc === 'number' ? ` (rc ${result.rc})` : ''}`);
    break;
  }
  return out.length > 0 && out.some(Boolean) ? out : ['(no message)'];
}
