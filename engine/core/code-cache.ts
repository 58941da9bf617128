// Tells bin/load-bundle.js that this run ran tasks: a V8 code cache written by a run that only started up (`--version`,
// `--syntax-check`, an input error) holds none of the functions a run on hosts uses, and is written again at its end.

export function ranTasks(): void {
  (globalThis as { kplayRanTasks?: boolean }).kplayRanTasks = true;
}
