// "Did you mean ...?" for a misspelled keyword, module or argument name.

/** ` (did you mean "name"?)` for the closest of `names` within two edits of `word`, else ''. */
export function didYouMean(word: string, names: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const d = distance(name, word);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}
