// debug: print a message or a variable's value.

import { isUndefinedError } from '../vars/language.ts';
import { defineModule } from './contract.ts';

interface DebugArgs {
  msg?: unknown;
  var?: string;
  verbosity: number;
}

export default defineModule<DebugArgs>({
  name: 'debug',
  controllerOnly: true,
  spec: {
    args: {
      msg: { type: 'raw', keepNull: true, description: 'Any value; default "Hello world!".' },
      var: { type: 'str', description: 'A variable name or expression to show.' },
      verbosity: { type: 'int', default: 0, description: 'Show only at this -v level or above (ansible_verbosity).' },
    },
    mutuallyExclusive: [['msg', 'var']],
  },
  async plan(args, ctx) {
    const verbosity = Number(ctx.vars.ansible_verbosity ?? 0);
    if (args.verbosity > verbosity) {
      return { changed: false, msg: 'Verbosity threshold not met.', result: { skipped_reason: 'Verbosity threshold not met.' } };
    }
    if (args.var === undefined) {
      const msg = args.msg === undefined ? 'Hello world!' : args.msg;
      return { changed: false, msg: typeof msg === 'string' ? msg : JSON.stringify(msg, null, 2) ?? 'null', result: { msg } };
    }
    let value: unknown;
    try {
      value = ctx.evaluate(args.var);
    } catch (error) {
      // As Ansible: showing an undefined variable is not an error.
      if (!isUndefinedError(error)) throw error;
      value = 'VARIABLE IS NOT DEFINED!';
    }
    // As Ansible: the result holds the variable alone (no msg), so the screen shows just its value.
    return { changed: false, result: { [args.var]: value } };
  },
});
