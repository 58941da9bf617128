// shell: run a command line through the host's shell (/bin/sh, or `executable`): pipes, globs and $VARS work.

import { shellQuote } from '../core/shell.ts';
import { defineModule } from './contract.ts';
import { omitNulls } from '../core/given.ts';
import { COMMAND_ARGS, commandRequest, planCommand, type CommandOptionArgs } from './run-command.ts';

interface ShellArgs extends CommandOptionArgs {
  cmd: string;
  executable?: string;
}

export default defineModule<ShellArgs>({
  name: 'shell',
  spec: {
    args: {
      ...COMMAND_ARGS,
      cmd: { ...COMMAND_ARGS.cmd, required: true },
      executable: { type: 'path', description: 'The shell to run the command with (default /bin/sh).' },
    },
    freeForm: 'cmd',
  },
  plan(given, ctx) {
    const args = omitNulls(given);
    const line = args.executable ? `exec ${shellQuote(args.executable)} -c ${shellQuote(args.cmd)}` : args.cmd;
    return planCommand(commandRequest(line, args.cmd, args), ctx);
  },
});
