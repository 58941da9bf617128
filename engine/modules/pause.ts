// pause: wait a number of seconds or minutes, or for Enter on the terminal kplay runs in. Runs on the controller;
// with a prompt and no terminal it fails with a clear message, unless seconds/minutes say how long to wait instead.
// Deliberate difference: kplay pauses each host's task on its own, not once for the whole play. With `echo: false`
// what is typed is not shown and is a secret of the run (masked in every output, a registered user_input too).

import { read } from 'read';
import { ModuleError, defineModule } from './contract.ts';
import { InterruptedError } from '../connection/connection.ts';
import { sleepUnless } from '../core/sleep.ts';

interface PauseArgs {
  seconds?: number;
  minutes?: number;
  prompt?: string;
  echo: boolean;
}

export default defineModule<PauseArgs>({
  name: 'pause',
  controllerOnly: true,
  spec: {
    args: {
      seconds: { type: 'float' },
      minutes: { type: 'float' },
      prompt: { type: 'str', description: 'Wait for Enter after showing this (needs a terminal).' },
      echo: { type: 'bool', default: true },
    },
    mutuallyExclusive: [['seconds', 'minutes']],
  },
  async plan(args, ctx) {
    const ms = args.seconds != null ? args.seconds * 1000 : args.minutes != null ? args.minutes * 60_000 : undefined;
    const start = Date.now();
    const done = (user_input = '') => {
      const delta = (Date.now() - start) / 1000;
      return { changed: false, result: { start: new Date(start).toISOString(), stop: new Date().toISOString(), delta: Math.round(delta), echo: args.echo, user_input, stdout: `Paused for ${(delta / 60).toFixed(2)} minutes` } };
    };
    if (ms !== undefined) {
      if (!(await sleepUnless(ms, ctx.interrupted))) throw new InterruptedError(ctx.hostName);
      return done();
    }
    if (!process.stdin.isTTY) {
      throw new ModuleError(`pause${args.prompt ? ` ("${args.prompt}")` : ''} waits for Enter, but kplay has no terminal: give seconds or minutes instead`);
    }
    const prompt = `${args.prompt ?? 'Press enter to continue, Ctrl+C to interrupt'}:\n`;
    const typed = await read({ prompt, silent: !args.echo, replace: '', input: process.stdin, output: process.stderr });
    return { ...done(typed), ...(args.echo || typed === '' ? {} : { secrets: [typed] }) };
  },
});
