// What a terminal would show after some output: enough of a terminal for log-update's redraws (erase line, cursor
// up, column 0) so a test can check the final screen rather than a stream of frames.

export function finalScreen(raw: string): string {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  // eslint-disable-next-line no-control-regex -- escape sequences are what this reads
  const tokens = raw.match(/\u001b\[[0-9;?]*[A-Za-z]|\r|\n|[^\u001b\r\n]+/g) ?? [];
  for (const token of tokens) {
    if (token === '\n') {
      row++;
      col = 0;
      if (lines.length <= row) lines.push('');
    } else if (token === '\r') {
      col = 0;
    } else if (token.startsWith('\u001b[')) {
      // eslint-disable-next-line no-control-regex -- as above
      const [, arg, command] = /^\u001b\[([0-9;?]*)([A-Za-z])$/.exec(token) ?? [];
      if (command === 'K' && arg === '2') lines[row] = '';
      else if (command === 'A') row = Math.max(0, row - Number(arg || 1));
      else if (command === 'G') col = Number(arg || 1) - 1;
      // Colours (m) and cursor show/hide (h, l) leave the text as it is.
    } else {
      const line = lines[row].padEnd(col);
      lines[row] = line.slice(0, col) + token + line.slice(col + token.length);
      col += token.length;
    }
  }
  return lines.join('\n');
}
