#!/usr/bin/env node
// `npm run check:cycles`: no import cycle in engine/, between files (madge's own check) nor between folders (the
// files' graph folded onto engine's folders). Prints each cycle and exits 1 when there is one.
// The same file-level check by hand: `npx madge --circular --extensions ts engine/`.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

const engine = join(dirname(fileURLToPath(import.meta.url)), '..', 'engine');
const graph = await madge(engine, { fileExtensions: ['ts'] });

const fileCycles = graph.circular();
for (const cycle of fileCycles) console.error(`file cycle: ${[...cycle, cycle[0]].join(' -> ')}`);

// Folder graph: `load/tasks.ts` belongs to `load`; a top-level file (cli.ts) is its own node.
const folderOf = (file) => (file.includes('/') ? file.split('/')[0] : file);
const edges = new Map();
for (const [file, deps] of Object.entries(graph.obj())) {
  const from = folderOf(file);
  if (!edges.has(from)) edges.set(from, new Set());
  for (const dep of deps) if (folderOf(dep) !== from) edges.get(from).add(folderOf(dep));
}
const folderCycles = [];
const state = new Map(); // undefined: not seen, 1: on the path, 2: done
const path = [];
const visit = (node) => {
  state.set(node, 1);
  path.push(node);
  for (const next of edges.get(node) ?? []) {
    if (state.get(next) === 1) folderCycles.push([...path.slice(path.indexOf(next)), next]);
    else if (!state.has(next)) visit(next);
  }
  path.pop();
  state.set(node, 2);
};
for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
for (const cycle of folderCycles) console.error(`folder cycle: ${cycle.join(' -> ')}`);

const files = Object.keys(graph.obj()).length;
if (fileCycles.length || folderCycles.length) {
  console.error(`check:cycles: ${fileCycles.length} file cycle(s), ${folderCycles.length} folder cycle(s) in engine/ (${files} files)`);
  process.exit(1);
}
console.log(`check:cycles: no import cycle in engine/ (${files} files, ${edges.size} folders)`);
