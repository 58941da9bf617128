// What the command line says when it is used wrongly: a subcommand or option that does not exist, with the closest
// one that does ("did you mean"), and `kplay site.yml` without `run`.

import { didYouMean } from './load/suggest.ts';

export const COMMANDS = ['run', 'merge-recaps'] as const;

/** Why the positionals are not `run PLAYBOOK`, with a suggestion; undefined when they are. */
export function commandProblem(positionals: readonly string[]): string | undefined {
  const [command, playbook, ...extra] = positionals;
  if (command === undefined) return 'usage: kplay run PLAYBOOK [-i INVENTORY] [options]';
  if (command !== 'run') {
    if (/\.ya?ml$/i.test(command)) return `"${command}" is a playbook, not a command: did you mean "kplay run ${positionals.join(' ')}"?`;
    const hint = didYouMean(command, COMMANDS);
    return `unknown command "${command}"${hint || ' (the command is "run")'}`;
  }
  if (!playbook) return 'usage: kplay run PLAYBOOK [-i INVENTORY] [options] (which playbook?)';
  if (extra.length > 0) return `one playbook at a time: "${extra[0]}" is one too many (options go with a dash: -i, -e, ...)`;
  return undefined;
}

/** node:util's parseArgs message for an unknown option, with the closest known option. */
export function optionProblem(message: string, options: object): string {
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
  if (!unknown) return message;
  const names = Object.keys(options).map((name) => `--${name}`);
  const hint = didYouMean(unknown.replace(/=.*$/, ''), names);
  return `unknown option ${unknown}${hint}`;
}
