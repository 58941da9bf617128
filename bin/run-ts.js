#!/usr/bin/env node
// Runs a TypeScript script of the project (lab, bench) with tsx: `node bin/run-ts.js FILE.ts ARGS...`.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

register();
const [script, ...rest] = process.argv.slice(2);
process.argv = [process.argv[0], script, ...rest];
await import(pathToFileURL(resolve(script)).href);
