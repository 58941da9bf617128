// Bundles engine/cli.ts and what it imports into one CommonJS file with esbuild (CommonJS for V8's code cache, see
// load-bundle.js): into dist/ when the package is packed (`node bin/build.js`, npm's prepack), or into
// node_modules/.cache/kplay of a clone on first use.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The bundle's file name in its folder. */
export const BUNDLE = 'cli.cjs';

/** A compiled add-on (`.node`) stays where it is installed: required from the bundle as `<package>/<path>`. */
const nativeAddonsInPlace = {
  name: 'native-addons-in-place',
  setup(build) {
    build.onResolve({ filter: /\.node$/ }, ({ path, resolveDir }) => {
      const full = join(resolveDir, path);
      const marker = `${sep}node_modules${sep}`;
      const at = full.lastIndexOf(marker);
      if (at < 0) throw new Error(`a native add-on outside node_modules: ${full}`);
      return { path: full.slice(at + marker.length).split(sep).join('/'), external: true };
    });
  },
};

/** Builds the bundle of `home` into `outdir`. */
export async function buildBundle(home, outdir) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(home, 'engine', 'cli.ts')],
    outfile: join(outdir, BUNDLE),
    bundle: true,
    // What only some runs need (ssh2, the live view) is still evaluated on demand: esbuild wraps a module that is
    // imported with import() in a function run at that import.
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Dependencies go into the bundle too (no module resolution at start-up, and their code in the code cache), except
    // the TypeScript loader for users' own .ts modules and ssh2's optional native parts (cpu-features, and its crypto
    // binding, required by its place in the ssh2 package, which has no exports map).
    external: ['tsx', 'esbuild', 'cpu-features'],
    plugins: [nativeAddonsInPlace],
    define: { 'import.meta.url': '__kplayUrl' },
    banner: { js: "const __kplayUrl = require('node:url').pathToFileURL(__filename).href;" },
    sourcemap: 'linked', // a .map beside each file: read only when asked for (--enable-source-maps)
    logLevel: 'error',
  });
}

/**
 * The clone's bundle in node_modules/.cache/kplay, built again when a source is newer; returns its path. Each build
 * goes into a folder of its own that is never renamed while runs may use it (a run writes its code cache there at its
 * end), and `current` names the newest one; folders of earlier builds are removed once they are an hour old.
 */
export async function cachedBundle(home, sourcesTime) {
  const cache = join(home, 'node_modules', '.cache', 'kplay');
  const pointer = join(cache, 'current');
  const named = (() => {
    try {
      return join(cache, readFileSync(pointer, 'utf8').trim(), BUNDLE);
    } catch {
      return undefined;
    }
  })();
  if (named && existsSync(named) && statSync(named).mtimeMs >= sourcesTime) return named;
  const name = `bundle-${Date.now()}-${process.pid}`;
  mkdirSync(join(cache, name), { recursive: true });
  await buildBundle(home, join(cache, name));
  // Point at it atomically: a concurrent run reads the old name or the new one, never half of one.
  const tmp = join(cache, `current-${process.pid}`);
  writeFileSync(tmp, `${name}\n`);
  if (existsSync(pointer) && statSync(pointer).isDirectory()) rmSync(pointer, { recursive: true, force: true }); // an older layout
  renameSync(tmp, pointer);
  for (const entry of readdirSync(cache)) {
    const path = join(cache, entry);
    if (entry.startsWith('bundle-') && entry !== name && Date.now() - statSync(path).mtimeMs > 3_600_000) {
      rmSync(path, { recursive: true, force: true });
    }
  }
  return join(cache, name, BUNDLE);
}

// `node bin/build.js`: the bundle to pack, in dist/ (npm's prepack); `--clean` removes it again (postpack), so a
// clone never keeps a bundle older than its sources.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const home = join(dirname(fileURLToPath(import.meta.url)), '..');
  rmSync(join(home, 'dist'), { recursive: true, force: true });
  if (process.argv[2] !== '--clean') await buildBundle(home, join(home, 'dist'));
}
