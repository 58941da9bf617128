// Writing reporter text to a stream, and waiting until it has left (a piped stdout is asynchronous).

export function writeLines(stream: NodeJS.WritableStream, lines: readonly string[]): void {
  if (lines.length > 0) stream.write(lines.join('\n') + '\n');
}

/** Resolves once everything written so far has been handed to the stream's destination. */
export function flush(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    stream.write('', () => resolve());
  });
}
