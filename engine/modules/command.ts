// command: run a program with arguments on the host, without a shell (no pipes, globs or $VARS expansion).

import { shellQuote } from '../core/shell.ts';
import { ModuleError, defineModule } from './contract.ts';
import { omitNulls } from '../core/given.ts';
import { COMMAND_ARGS, commandRequest, planCommand, type CommandOptionArgs } from './run-command.ts';
import { ShellWordsError, splitShellWords } from '../core/shell.ts';

interface CommandArgs extends CommandOptionArgs {
  cmd?: string;
  argv?: string[];
}

export default defineModule<CommandArgs>({
  name: 'command',
  spec: {
    args: { ...COMMAND_ARGS, argv: { type: 'list', elements: 'str', description: 'The program and its arguments, as a list.' } },
    freeForm: 'cmd',
    mutuallyExclusive: [['cmd', 'argv']],
    requiredOneOf: [['cmd', 'argv']],
  },
  plan(given, ctx) {
    const args = omitNulls(given);
    let argv: string[];
    try {
      argv = args.argv ?? splitShellWords(args.cmd ?? '');
    } catch (error) {
      if (error instanceof ShellWordsError) throw new ModuleError(error.message);
      throw error;
    }
    if (argv.length === 0) throw new ModuleError('no command given');
    // Every word quoted: the host's sh only runs the program, it interprets nothing.
    const line = `exec ${argv.map(shellQuote).join(' ')}`;
    return planCommand(commandRequest(line, argv, args), ctx);
  },
});
