// Runs the bundle (one CommonJS file) with V8's code cache: compiling ~1.3 MB of JavaScript, and then each function a
// run calls, was a fifth of a short run's CPU. The first run keeps what V8 compiled by its end (bytecode of every
// function it ran) in a file beside the bundle; later runs read it instead of compiling. Node 20 has no code cache
// for ES modules, hence CommonJS here. V8 checks a cache against the source, its own version and its flags, and
// rejects a stale one: that run compiles as before and writes a new cache.

import { accessSync, constants, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

/** The bundle's exports, its code compiled from the cache when there is a good one. */
export function loadBundle(file) {
  const cacheFile = codeCachePath(file);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // none yet
  }
  const source = readFileSync(file, 'utf8');
  // Node's own CommonJS wrapper, on the first line: positions in stack traces stay the bundle's.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  // At exit, so the cache holds every function this run compiled, not only those of start-up.
  if (!cachedData || script.cachedDataRejected) process.once('exit', () => saveCodeCache(script, cacheFile));
  // import() in the bundle (a user's module, the TypeScript loader) is this one's: compiled from the cache, the
  // script's own import() is lost on Node 20 (engine/core/import-module.ts).
  globalThis.kplayImport = (specifier) => import(specifier);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

/** Beside the bundle when its folder is writable (a clone's); else in the user's cache folder (an installed package). */
function codeCachePath(file) {
  try {
    accessSync(dirname(file), constants.W_OK);
    return `${file}.v8-cache`;
  } catch {
    const { size, mtimeMs } = statSync(file);
    const name = `${file.replace(/[^A-Za-z0-9]+/g, '_')}-${size}-${Math.round(mtimeMs)}.v8-cache`;
    return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kplay', name);
  }
}

/** Written whole under a temporary name, then renamed: a run starting meanwhile reads the old cache or the new one. */
function saveCodeCache(script, cacheFile) {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  } catch {
    rmSync(tmp, { force: true }); // a cache that cannot be written only costs the next run its compile time
  }
}
