// A real ModuleContext for module tests: the local connection (in check mode under the runner's --check overlay),
// variables, and the runner's own way to execute a plan (engine/run/execute-plan.ts).

import { readdirSync, readFileSync, lstatSync, readlinkSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { LocalConnection } from '../../engine/connection/local.ts';
import type { Connection } from '../../engine/connection/connection.ts';
import { overlay } from '../../engine/connection/planned.ts';
import type { Module, ModuleContext, Plan } from '../../engine/modules/contract.ts';
import { executePlan } from '../../engine/run/execute-plan.ts';
import { conditionHolds, evaluatePlain, language, scopeOf } from '../../engine/vars/language.ts';

export interface ContextOptions {
  /** Folder holding files/ and templates/ for `src:`. */
  root?: string;
  vars?: Record<string, unknown>;
  check?: boolean;
  diff?: boolean;
  conn?: Connection;
}

/** A module's context, and whether the test runs it as --check would (the module itself cannot tell). */
export interface TestContext extends ModuleContext {
  readonly checkMode: boolean;
}

export function makeContext(options: ContextOptions = {}): TestContext {
  const vars = options.vars ?? {};
  const checkMode = options.check ?? false;
  const local = options.conn ?? new LocalConnection();
  const conn = checkMode ? overlay(local) : local;
  return {
    conn,
    controller: conn,
    hostName: 'localhost',
    vars,
    checkMode,
    diff: options.diff ?? true,
    findFile: (name, kind) => (isAbsolute(name) ? name : join(options.root ?? '.', kind, name)),
    evaluate: (expression) => evaluatePlain(expression, scopeOf(vars, { playbookDir: options.root })),
    condition: (conditional) => conditionHolds(conditional, scopeOf(vars, { playbookDir: options.root })),
    renderTemplate: (text, file, extra) => language().renderTemplate(text, file, scopeOf(vars, { playbookDir: options.root }), extra),
    log: () => undefined,
  };
}

export interface Outcome {
  changed: boolean;
  result: Record<string, unknown>;
  plan: Plan;
}

/** What the runner does with one task: coerce args, plan, keep what it leaves for --check, apply unless --check. */
export async function runModule(module: Module, rawArgs: Record<string, unknown>, ctx: TestContext): Promise<Outcome> {
  const { plan, applied } = await executePlan(module, rawArgs, ctx, { check: ctx.checkMode });
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
