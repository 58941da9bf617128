// assert: every expression in `that` must hold; the first that does not fails the task.

import { ModuleError, defineModule } from './contract.ts';

interface AssertArgs {
  that: unknown;
  fail_msg?: string;
  success_msg: string;
  quiet: boolean;
}

export default defineModule<AssertArgs>({
  name: 'assert',
  controllerOnly: true,
  spec: {
    args: {
      // raw, not list: a list argument given as one string is split at commas, which would cut expressions.
      that: { type: 'raw', required: true, description: 'An expression, or a list of them (as in `when:`).' },
      fail_msg: { type: 'str', aliases: ['msg'] },
      success_msg: { type: 'str', default: 'All assertions passed' },
      quiet: { type: 'bool', default: false },
    },
  },
  async plan(args, ctx) {
    const conditions = Array.isArray(args.that) ? (args.that as unknown[]) : [args.that];
    for (const condition of conditions) {
      // Each line as Ansible's _check_conditional reads it (a YAML boolean is its own value).
      if (!ctx.condition(condition)) {
        const msg = args.fail_msg ?? `Assertion failed: ${String(condition)}`;
        throw new ModuleError(msg, { assertion: condition, evaluated_to: false, msg });
      }
    }
    return { changed: false, msg: args.quiet ? undefined : args.success_msg, result: { msg: args.success_msg } };
  },
});
