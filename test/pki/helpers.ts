// Shared by the PKI tests: run a module as the runner does (arguments checked and coerced from its spec, plan, then
// apply unless --check) on this machine, and run the real tools that check the results.

import { execFileSync, spawnSync } from 'node:child_process';
import { LocalConnection } from '../../engine/connection/local.ts';
import { overlay } from '../../engine/connection/planned.ts';
import type { Module, Plan } from '../../engine/modules/contract.ts';
import { executePlan } from '../../engine/run/execute-plan.ts';
import type { TestContext } from '../modules/context.ts';

/** In check mode the connection is the runner's --check overlay: a later task sees what an earlier one planned. */
export function context(options: { check?: boolean } = {}): TestContext {
  const checkMode = options.check ?? false;
  const local = checkMode ? overlay(new LocalConnection()) : new LocalConnection();
  return {
    conn: local,
    controller: local,
    hostName: 'localhost',
    vars: {},
    checkMode,
    diff: true,
    become: undefined,
    findFile: (name) => name,
    evaluate: () => {
      throw new Error('no expressions in module tests');
    },
    condition: () => {
      throw new Error('no conditions in module tests');
    },
    renderTemplate: () => {
      throw new Error('no templates in PKI module tests');
    },
    log: () => undefined,
  };
}

/** Plan and (unless --check) apply one task; returns the plan, as the runner would report it. */
export async function run<A extends object>(module: Module<A>, raw: Record<string, unknown>, ctx = context()): Promise<Plan> {
  return (await executePlan(module as Module, raw, ctx, { check: ctx.checkMode })).plan;
}

/** A real tool's stdout; throws with its stderr when it fails. */
export function tool(command: string, args: readonly string[], input?: string): string {
  return execFileSync(command, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A real tool's exit code and output, for the cases that must fail. */
export function toolStatus(command: string, args: readonly string[]): { rc: number; output: string } {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return { rc: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

/**
 * Whether anything a plan reports (msg, result, diff, facts, effects content) carries key material: a PEM private
 * key, or a piece of one of `secrets` (key files' text, an encryption key), raw or base64 as a kubeconfig embeds it.
 */
export function leaksSecret(plan: Plan, secrets: readonly string[] = []): boolean {
  const effects = (plan.effects ?? []).map((e) => ('content' in e && e.content ? e.content.toString() : ''));
  const text = JSON.stringify({ msg: plan.msg, result: plan.result, diff: plan.diff, facts: plan.facts, effects });
  const pieces = secrets.flatMap((s) => [s.split('\n')[1] ?? s, Buffer.from(s).toString('base64').slice(0, 60)]);
  return /PRIVATE KEY/.test(text) || pieces.some((p) => p.length > 20 && text.includes(p));
}
