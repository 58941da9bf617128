// A task's loop on one host: its items (`loop:` a list; `with_<lookup>:` terms rendered and made a list, then the
// lookup, as Ansible's task executor does) and each item's variables (loop_var, index_var, `ansible_loop` when
// extended), the label shown and the pause between items.

import { InputError } from '../core/source.ts';
import type { Loop } from '../load/model.ts';
import { containsUnsafe, markUnsafe, toPlain, UnsafeText, type Scope } from '../jinja/index.ts';
import { language, renderPlain } from '../vars/language.ts';

/** The items of a loop, rendered over the host's variables. */
export function loopItems(loop: Loop, scope: Scope): unknown[] {
  const rendered = language().renderValue(typeof loop.items === 'string' ? loop.items.trim() : loop.items, scope);
  if (loop.with === undefined) {
    if (!Array.isArray(rendered)) {
      const shown = typeof rendered === 'string' || rendered instanceof UnsafeText ? JSON.stringify(String(rendered)) : rendered === null ? 'null' : typeof rendered;
      throw new InputError(loop.pos, `Invalid data passed to 'loop', it requires a list, got this instead: ${shown}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup.`);
    }
    return rendered;
  }
  // Ansible's listify_lookup_plugin_terms: a string (or any single value) is one term.
  const terms = Array.isArray(rendered) ? rendered : [rendered];
  return language().runLookup(loop.with, terms, scope);
}

/** An item: one from a list that holds host data is unsafe itself (a string item is never rendered later). */
export function itemOf(items: unknown[], i: number): unknown {
  return containsUnsafe(items) ? markUnsafe(items[i]) : items[i];
}

function flag(value: boolean | string | undefined, scope: Scope): boolean {
  if (value === undefined) return false;
  const v = toPlain(renderPlain(value, scope));
  return v === true || (typeof v === 'string' && /^(yes|true|on|1)$/i.test(v)) || v === 1;
}

/** The variables one item adds: loop_var, index_var, ansible_loop_var (and ansible_index_var), ansible_loop. */
export function itemVars(loop: Loop, items: unknown[], i: number, scope: Scope): Record<string, unknown> {
  const vars: Record<string, unknown> = { [loop.loopVar]: itemOf(items, i), ansible_loop_var: loop.loopVar };
  if (loop.indexVar) {
    vars[loop.indexVar] = i;
    vars.ansible_index_var = loop.indexVar;
  }
  if (flag(loop.extended, scope)) {
    const length = items.length;
    const info: Record<string, unknown> = {
      index: i + 1,
      index0: i,
      revindex: length - i,
      revindex0: length - i - 1,
      first: i === 0,
      last: i === length - 1,
      length,
    };
    if (loop.extendedAllItems === undefined || flag(loop.extendedAllItems, scope)) info.allitems = items;
    if (i > 0) info.previtem = items[i - 1];
    if (i < length - 1) info.nextitem = items[i + 1];
    vars.ansible_loop = containsUnsafe(items) ? markUnsafe(info) : info;
  }
  return vars;
}

/** What an item's result carries about the loop (Ansible puts the same keys in each item's result). */
export function itemResultKeys(loop: Loop, item: unknown, vars: Record<string, unknown>): Record<string, unknown> {
  const keys: Record<string, unknown> = { [loop.loopVar]: item, item, ansible_loop_var: loop.loopVar };
  if (loop.indexVar) {
    keys[loop.indexVar] = vars[loop.indexVar];
    keys.ansible_index_var = loop.indexVar;
  }
  if (vars.ansible_loop !== undefined) keys.ansible_loop = vars.ansible_loop;
  return keys;
}

/** Seconds to wait between two items (loop_control.pause), 0 for none. */
export function pauseSeconds(loop: Loop, scope: Scope): number {
  if (loop.pause === undefined) return 0;
  const n = Number(toPlain(renderPlain(loop.pause, scope)));
  if (!Number.isFinite(n) || n < 0) throw new InputError(loop.pos, `loop_control.pause takes a number of seconds, got ${JSON.stringify(loop.pause)}`);
  return n;
}
