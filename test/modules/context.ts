// A real ModuleContext for module tests: the local connection, variables, and the runner's argument handling.

import { readdirSync, readFileSync, lstatSync, readlinkSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { LocalConnection } from '../../engine/connection/local.ts';
import type { Connection } from '../../engine/connection/connection.ts';
import { checkArgs } from '../../engine/load/args.ts';
import type { Module, ModuleContext, Plan } from '../../engine/modules/contract.ts';
import { evaluate, scopeProxy } from '../../engine/vars/expression.ts';

export interface ContextOptions {
  /** Folder holding files/ and templates/ for `src:`. */
  root?: string;
  vars?: Record<string, unknown>;
  check?: boolean;
  diff?: boolean;
  conn?: Connection;
}

export function makeContext(options: ContextOptions = {}): ModuleContext {
  const vars = options.vars ?? {};
  const conn = options.conn ?? new LocalConnection();
  return {
    conn,
    controller: conn,
    hostName: 'localhost',
    vars,
    check: options.check ?? false,
    diff: options.diff ?? true,
    findFile: (name, kind) => (isAbsolute(name) ? name : join(options.root ?? '.', kind, name)),
    evaluate: (expression) => evaluate(expression, scopeProxy(vars)),
    log: () => undefined,
  };
}

export interface Outcome {
  changed: boolean;
  result: Record<string, unknown>;
  plan: Plan;
}

/** What the runner does with one task: coerce args, plan, and apply unless --check. */
export async function runModule(module: Module, rawArgs: Record<string, unknown>, ctx: ModuleContext): Promise<Outcome> {
  const args = checkArgs(module, rawArgs, () => undefined, 'run');
  const plan = await module.plan(args, ctx);
  let applied: Record<string, unknown> | void = undefined;
  if (plan.changed && plan.apply && !ctx.check) applied = await plan.apply();
  return { changed: plan.changed, result: { ...plan.result, ...(applied ?? {}) }, plan };
}

/** Everything in a folder (names, modes, content, link targets), to prove --check left it alone. */
export function snapshot(dir: string): string {
  const lines: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const what = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : st.isDirectory() ? 'dir' : readFileSync(p, 'base64');
      lines.push(`${p} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}`);
      if (st.isDirectory() && !st.isSymbolicLink()) walk(p);
    }
  };
  walk(dir);
  return lines.join('\n');
}

/** A connection that counts its round trips (the speed the modules promise is a number of them). */
export class CountingConnection implements Connection {
  readonly calls: string[] = [];
  private readonly inner = new LocalConnection();
  readonly hostName = 'localhost';
  exec: Connection['exec'] = (command, options) => (this.calls.push('exec'), this.inner.exec(command, options));
  put: Connection['put'] = (path, content, options) => (this.calls.push('put'), this.inner.put(path, content, options));
  get: Connection['get'] = (path, options) => (this.calls.push('get'), this.inner.get(path, options));
  stat: Connection['stat'] = (path, options) => (this.calls.push('stat'), this.inner.stat(path, options));
  close = (): Promise<void> => this.inner.close();
}
