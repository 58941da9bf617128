// Runs the bundle (one CommonJS file) with V8's code cache: compiling ~1.3 MB of JavaScript, and then each function a
// run calls, was a fifth of a short run's CPU. The first run keeps what V8 compiled by its end (bytecode of every
// function it ran) in a file beside the bundle; later runs read it instead of compiling. Node 20 has no code cache
// for ES modules, hence CommonJS here. V8 checks a cache against the source, its own version and its flags, and
// rejects a stale one: that run compiles as before and writes a new cache.

import { Buffer } from 'node:buffer';
import { accessSync, constants, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

/** The cache file's first byte: whether the run that wrote it ran tasks (engine/core/code-cache.ts). */
const AFTER_TASKS = 1;

/** The bundle's exports, its code compiled from the cache when there is a good one. */
export function loadBundle(file) {
  const cacheFile = codeCachePath(file);
  let cachedData;
  let afterTasks = false;
  try {
    const saved = readFileSync(cacheFile);
    afterTasks = saved[0] === AFTER_TASKS;
    cachedData = saved.subarray(1);
  } catch {
    // none yet
  }
  const source = readFileSync(file, 'utf8');
  // Node's own CommonJS wrapper, on the first line: positions in stack traces stay the bundle's.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  // At exit, so the cache holds every function this run compiled, not only those of start-up; again by the first run
  // with tasks after one that only started up wrote it (compiling the tasks' functions lazily: 10 hosts warm 0.30 -> 0.32 CPU-s).
  process.once('exit', () => {
    const ranTasks = globalThis.kplayRanTasks === true;
    if (!cachedData || script.cachedDataRejected || (ranTasks && !afterTasks)) saveCodeCache(script, cacheFile, ranTasks);
  });
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
function saveCodeCache(script, cacheFile, ranTasks) {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(tmp, Buffer.concat([Buffer.from([ranTasks ? AFTER_TASKS : 0]), script.createCachedData()]));
    renameSync(tmp, cacheFile);
  } catch {
    rmSync(tmp, { force: true }); // a cache that cannot be written only costs the next run its compile time
  }
}
