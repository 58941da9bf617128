// fail: stop the host here with a message.

import { ModuleError, defineModule } from './contract.ts';

interface FailArgs {
  msg: string;
}

export default defineModule<FailArgs>({
  name: 'fail',
  controllerOnly: true,
  spec: { args: { msg: { type: 'str', default: 'Failed as requested from task' } } },
  async plan(args) {
    throw new ModuleError(args.msg, { msg: args.msg });
  },
});
