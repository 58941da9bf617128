// Bundles engine/cli.ts and what it imports into ES modules with esbuild: into dist/ when the package is packed
// (`node bin/build.js`, npm's prepack), or into node_modules/.cache/kplay of a clone on first use.

import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Builds the bundle of `home` into `outdir`. */
export async function buildBundle(home, outdir) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(home, 'engine', 'cli.ts')],
    outdir,
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
}

/** The clone's bundle in node_modules/.cache/kplay, built again when a source is newer; returns its cli.js. */
export async function cachedBundle(home, sourcesTime) {
  const cache = join(home, 'node_modules', '.cache', 'kplay');
  const bundle = join(cache, 'current', 'cli.js');
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sourcesTime) return bundle;
  const tmp = join(cache, `build-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  await buildBundle(home, tmp);
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
    return join(tmp, 'cli.js'); // another run put its bundle there first: use ours
  }
  rmSync(old, { recursive: true, force: true });
  return bundle;
}

// `node bin/build.js`: the bundle to pack, in dist/ (npm's prepack); `--clean` removes it again (postpack), so a
// clone never keeps a bundle older than its sources.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const home = join(dirname(fileURLToPath(import.meta.url)), '..');
  rmSync(join(home, 'dist'), { recursive: true, force: true });
  if (process.argv[2] !== '--clean') await buildBundle(home, join(home, 'dist'));
}
