#!/usr/bin/env node
// Starts kplay. The TypeScript sources run as one bundle (esbuild), compiled from V8's code cache (load-bundle.js),
// because loading ~170 files through a TypeScript loader costs most of a short run. An installed package carries its
// bundle in dist/ (built when it is packed, see bin/build.js), so it needs neither esbuild nor a writable folder; a
// clone builds one on first use into node_modules/.cache/kplay, and again whenever a source is newer than the bundle.
// KPLAY_FROM_SOURCE=1 runs the sources through tsx instead (no bundle).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// The heap may grow to 1.3 times what the last full collection kept (V8 picks up to 4 times when collecting is cheap):
// with hundreds of hosts a run makes much short-lived garbage, and that headroom, not what it keeps, was most of its
// memory (200 hosts: peak RSS 182 → 141 MB, the same CPU). Read by V8 at every collection, so it applies from here.
setFlagsFromString('--heap-growing-percent=30');
// A function is optimized by TurboFan after 8 times the work V8 waits for by default. A run is short: in a warm 500-host
// run TurboFan compiled ~490 functions, some seven times over (deoptimized when a new object shape came), for a fifth
// of the process's CPU, more than the optimized code saved. With this: 500 hosts warm 5.6 → 4.9 CPU-s, 10 hosts cold
// 0.52 → 0.43 CPU-s (medians of 3 and 6). Read whenever V8 sets a function's budget, so it applies from here.
setFlagsFromString('--interrupt-budget=1081344');

const home = join(dirname(fileURLToPath(import.meta.url)), '..');
process.env.KPLAY_HOME = home;
const args = process.argv.slice(2);

// `kplay --version` needs no bundle.
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`kplay ${JSON.parse(readFileSync(join(home, 'package.json'), 'utf8')).version}\n`);
  process.exit(0);
}

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

async function load() {
  if (process.env.KPLAY_FROM_SOURCE) {
    const { register } = await import('tsx/esm/api');
    register();
    process.env.KPLAY_TS_LOADED = '1';
    return import(pathToFileURL(join(home, 'engine', 'cli.ts')).href);
  }
  const { loadBundle } = await import('./load-bundle.js');
  // An installed package (no .git: its sources never change) runs the bundle it was packed with.
  const packed = join(home, 'dist', 'cli.cjs');
  if (!existsSync(join(home, '.git')) && existsSync(packed)) return loadBundle(packed);
  const sourcesTime = Math.max(newestSource(join(home, 'engine')), statSync(join(home, 'package.json')).mtimeMs);
  const { cachedBundle } = await import('./build.js');
  return loadBundle(await cachedBundle(home, sourcesTime));
}

const { main } = await load();
process.exitCode = await main(args);
