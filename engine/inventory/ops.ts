// The statements an inventory file is read into, whatever its format (YAML or INI): applied in order by the inventory.

import type { SourcePos } from '../core/source.ts';

/** One statement of an inventory file, applied in order; both the YAML and the INI reader produce these. */
export type InventoryOp =
  | { op: 'group'; name: string; pos: SourcePos }
  | { op: 'host'; pattern: string; group: string; vars: Record<string, unknown>; pos: SourcePos }
  | { op: 'child'; parent: string; child: string; pos: SourcePos }
  | { op: 'var'; group: string; key: string; value: unknown; pos: SourcePos };
