#!/usr/bin/env node
// Starts kplay. The TypeScript sources are bundled into one ES module on first use (and again whenever a source is
// newer than the bundle), because loading ~80 files through a TypeScript loader costs most of a short run.
// KPLAY_FROM_SOURCE=1 runs the sources through tsx instead (no bundle).

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const home = join(dirname(fileURLToPath(import.meta.url)), '..');
process.env.KPLAY_HOME = home;
const cache = join(home, 'node_modules', '.cache', 'kplay');
const bundle = join(cache, 'current', 'cli.js');

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
  const sourcesTime = Math.max(newestSource(join(home, 'engine')), statSync(join(home, 'package.json')).mtimeMs);
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sourcesTime) {
    const { build } = await import('esbuild');
    const tmp = join(cache, `build-${process.pid}`);
    mkdirSync(tmp, { recursive: true });
    await build({
      entryPoints: [join(home, 'engine', 'cli.ts')],
      outdir: tmp,
      bundle: true,
      splitting: true, // what only some runs need (ssh2, the live view, node-forge) stays in chunks loaded on demand
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Dependencies go into the bundle too (no module resolution at start-up), except ssh2 (optional native parts)
      // and the TypeScript loader for users' own .ts modules.
      external: ['ssh2', 'tsx', 'esbuild'],
      banner: { js: "import { createRequire as __kplayRequire } from 'node:module'; const require = __kplayRequire(import.meta.url);" },
      sourcemap: 'linked', // a .map beside each file: read only when asked for (--enable-source-maps)
      logLevel: 'error',
    });
    // Swap whole folders: a concurrent run sees the old bundle or the new one, never half of one.
    const old = join(cache, `old-${process.pid}`);
    try {
      renameSync(join(cache, 'current'), old);
    } catch {
      // none yet, or another run is swapping it now
    }
    try {
      renameSync(tmp, join(cache, 'current'));
    } catch {
      return import(pathToFileURL(join(tmp, 'cli.js')).href); // another run put its bundle there first: use ours
    }
    rmSync(old, { recursive: true, force: true });
  }
  return import(pathToFileURL(bundle).href);
}

const { main } = await load();
process.exitCode = await main(process.argv.slice(2));
