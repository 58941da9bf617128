// A headless terminal emulator (xterm.js) fed with what kplay wrote: the screen as a person would see it, frame by
// frame, and whether the cursor is shown.

import xterm from '@xterm/headless';

const { Terminal } = xterm;

export interface Screen {
  /** The visible lines (viewport), right-trimmed. */
  lines: string[];
  cursorY: number;
  cursorHidden: boolean;
  /** Whether a visible line continues the one above it (a wrapped line). */
  wrapped: boolean[];
}

/** xterm.js keeps cursor visibility in its core service, which the public API does not expose. */
interface CoreView {
  _core: { coreService: { isCursorHidden: boolean } };
}

export class HeadlessTerminal {
  readonly #term: InstanceType<typeof Terminal>;

  constructor(
    readonly cols: number,
    readonly rows: number,
  ) {
    // A pty turns \n into \r\n; output captured in-process has bare \n, which a terminal would get after that too.
    this.#term = new Terminal({ cols, rows, scrollback: 100000, allowProposedApi: true, convertEol: true });
  }

  write(data: string): Promise<void> {
    return new Promise((resolve) => this.#term.write(data, resolve));
  }

  screen(): Screen {
    const buffer = this.#term.buffer.active;
    const lines: string[] = [];
    const wrapped: boolean[] = [];
    for (let y = 0; y < this.rows; y++) {
      const line = buffer.getLine(buffer.viewportY + y);
      lines.push(line?.translateToString(true) ?? '');
      wrapped.push(line?.isWrapped ?? false);
    }
    return {
      lines,
      cursorY: buffer.cursorY,
      cursorHidden: (this.#term as unknown as CoreView)._core.coreService.isCursorHidden,
      wrapped,
    };
  }

  /** Every line written so far, scrollback included; a wrapped line is joined to the one it continues. */
  allLines(): string[] {
    const buffer = this.#term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < buffer.length; y++) {
      const line = buffer.getLine(y);
      const text = line?.translateToString(true) ?? '';
      if (line?.isWrapped && out.length > 0) out[out.length - 1] = out[out.length - 1].padEnd(this.cols) + text;
      else out.push(text);
    }
    return out;
  }

  dispose(): void {
    this.#term.dispose();
  }
}
