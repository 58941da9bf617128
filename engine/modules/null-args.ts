// Kept for modules written against the old path: "null means not given" lives in engine/core/given.ts.

export { omitNulls } from '../core/given.ts';
