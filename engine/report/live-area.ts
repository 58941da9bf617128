// The few lines at the bottom of a terminal that the live view redraws. A frame is a list of lines, each already cut
// to the terminal's width (so none wraps and the cursor arithmetic holds); only lines that differ from what is on
// screen are rewritten, and text that must stay is written above the area in one go. The cursor is hidden while the
// area is open and shown again however the process ends (close, exit, or a signal: see the guard below).

const ESC = '\u001b[';
const HIDE = `${ESC}?25l`;
const SHOW = `${ESC}?25h`;
// Synchronized output (DEC mode 2026): terminals that know it show a frame whole, never half drawn; others ignore it.
export const FRAME_BEGIN = `${ESC}?2026h`;
export const FRAME_END = `${ESC}?2026l`;

export interface AreaStream {
  write(text: string, callback?: (error?: Error | null) => void): boolean;
}

export class LiveArea {
  /** What is on screen now, line by line; the cursor rests at column 0 of the line below the last. */
  #shown: string[] = [];
  #open = false;
  /** Bytes and frames written, for the tests and the curious. */
  bytes = 0;
  frames = 0;

  constructor(private readonly stream: AreaStream) {}

  get open(): boolean {
    return this.#open;
  }

  /** Draws `lines` (and first `above`, text that stays) in one write. */
  draw(lines: readonly string[], above: readonly string[] = []): void {
    let out = '';
    if (!this.#open) {
      this.#open = true;
      out += HIDE;
      guard.add(this);
    }
    if (above.length > 0) {
      out += this.#erase();
      out += above.join('\n') + '\n';
    }
    out += this.#diff(lines);
    if (out === '') return;
    this.#write(FRAME_BEGIN + out + FRAME_END);
    this.frames++;
  }

  /** Removes the area, writes `above` where it was, and shows the cursor again. */
  close(above: readonly string[] = []): void {
    if (!this.#open) {
      if (above.length > 0) this.#write(above.join('\n') + '\n');
      return;
    }
    this.#open = false;
    guard.delete(this);
    this.#write(this.#erase() + (above.length > 0 ? above.join('\n') + '\n' : '') + SHOW);
  }

  /** The screen is about to be left as it is (the process exits): only show the cursor. */
  abandon(): void {
    if (!this.#open) return;
    this.#open = false;
    guard.delete(this);
    this.#write(SHOW);
  }

  /** Resolves once everything written so far has left (a terminal's writes may be queued when it is slow). */
  drained(): Promise<void> {
    return new Promise((resolve) => this.stream.write('', () => resolve()));
  }

  /** The terminal changed size: what was drawn may have wrapped, so start over below it. */
  forget(): void {
    if (this.#shown.length > 0) this.#write(`${ESC}J`);
    this.#shown = [];
  }

  #write(text: string): void {
    this.bytes += Buffer.byteLength(text);
    this.stream.write(text);
  }

  #erase(): string {
    const out = this.#shown.length > 0 ? `${ESC}${this.#shown.length}A\r${ESC}J` : '';
    this.#shown = [];
    return out;
  }

  /** Rewrites the lines that changed, moving the cursor up and down the area; ends below the last line. */
  #diff(next: readonly string[]): string {
    const prev = this.#shown;
    let out = '';
    let row = prev.length;
    const go = (target: number): void => {
      if (target < row) out += `${ESC}${row - target}A`;
      else if (target > row) out += `${ESC}${target - row}B`;
      out += '\r';
      row = target;
    };
    for (let i = 0; i < Math.min(prev.length, next.length); i++) {
      if (prev[i] === next[i]) continue;
      go(i);
      out += `${next[i]}${ESC}K`;
    }
    if (next.length > prev.length) {
      go(prev.length);
      for (let i = prev.length; i < next.length; i++) out += `${next[i]}${ESC}K\n`;
      row = next.length;
    } else if (next.length < prev.length) {
      go(next.length);
      out += `${ESC}J`;
    } else if (out !== '') {
      go(next.length);
    }
    this.#shown = [...next];
    return out;
  }
}

type Interrupted = (signal: NodeJS.Signals) => void;

/**
 * Open areas are closed however the process ends: on exit the cursor is shown again; on SIGINT, SIGTERM or SIGHUP
 * each area's owner draws the run's end. If nothing else in the process handles the signal, it then ends the process
 * by that same signal (so the shell sees 130 for Ctrl-C); a handler of its own (the runner's interruption) decides
 * otherwise.
 */
class TerminalGuard {
  readonly #areas = new Set<LiveArea>();
  readonly #owners = new Map<LiveArea, Interrupted>();
  #installed = false;

  add(area: LiveArea): void {
    this.#areas.add(area);
    this.#install();
  }

  delete(area: LiveArea): void {
    this.#areas.delete(area);
  }

  /** What to do for `area` when a signal comes (draw the end so far); the area is closed after it in any case. */
  onInterrupt(area: LiveArea, handler: Interrupted): void {
    this.#owners.set(area, handler);
    this.#install();
  }

  release(area: LiveArea): void {
    this.#owners.delete(area);
    this.#areas.delete(area);
    if (this.#owners.size === 0 && this.#areas.size === 0) this.#uninstall();
  }

  #install(): void {
    if (this.#installed) return;
    this.#installed = true;
    process.on('exit', this.#exit);
    for (const signal of SIGNALS) process.on(signal, this.#signal);
  }

  #uninstall(): void {
    if (!this.#installed) return;
    this.#installed = false;
    process.off('exit', this.#exit);
    for (const signal of SIGNALS) process.off(signal, this.#signal);
  }

  readonly #exit = (): void => {
    for (const area of this.#areas) area.abandon();
  };

  /** A first signal is being handled: a second one ends the process at once. */
  #ending = false;

  readonly #signal = (signal: NodeJS.Signals): void => {
    const areas = [...new Set([...this.#owners.keys(), ...this.#areas])];
    for (const [area, handler] of this.#owners) {
      try {
        handler(signal);
      } finally {
        area.close();
      }
    }
    for (const area of this.#areas) area.close();
    this.#owners.clear();
    if (process.listenerCount(signal) > 1) return; // someone else handles it (and ends the run)
    const end = (): void => {
      this.#uninstall();
      process.kill(process.pid, signal);
    };
    if (this.#ending) return end();
    this.#ending = true;
    // What was written must reach the terminal before the process goes.
    void Promise.all(areas.map((area) => area.drained())).then(end);
  };
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export const guard = new TerminalGuard();
