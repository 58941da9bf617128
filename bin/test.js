#!/usr/bin/env node
// `npm test`'s test phase: tap twice. First every test that brings hosts of its own (named labs, fleets, temp
// folders), two files at a time; then the tests that share the default lab (controller-N at 10.240.0.1N, which the
// control-plane roles and their checks name), one at a time. Each phase prints tap's summary; the exit code is the
// worst of the two. Extra arguments go to both tap runs.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const SERIAL = ['test/k8s/', 'test/systemd/role.test.ts', 'test/systemd/systemd.test.ts', 'test/systemd/lab-down.test.ts'];

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const all = testFiles('test').sort();
const serial = all.filter((f) => SERIAL.some((s) => f === s || (s.endsWith('/') && f.startsWith(s))));
const parallel = all.filter((f) => !serial.includes(f));
const extra = process.argv.slice(2);
let code = 0;
for (const [files, jobs] of [[parallel, 2], [serial, 1]]) {
  if (files.length === 0) continue;
  const run = spawnSync('npx', ['tap', `--jobs=${jobs}`, ...extra, ...files], { stdio: 'inherit' });
  code = Math.max(code, run.status ?? 1);
}
process.exit(code);
