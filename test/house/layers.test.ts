// Issue 9, acceptance 1: the engine's layers are lint rules (eslint.config.js). A back-edge, such as report/ importing
// from run/, fails lint; every allowed edge passes; the real tree passes.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { REPO } from '../helpers/kplay.ts';

const eslint = new ESLint({ cwd: REPO });

/** Lint `code` as if it were the file `path` of the repository (nothing is written). */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO, path) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

t.test('a back-edge fails lint, naming the folder and what it may import', async (t) => {
  const backEdges: [string, string][] = [
    ['engine/report/back-edge.ts', "import { runPlaybook } from '../run/runner.ts';"],
    ['engine/report/back-edge.ts', "import type { Module } from '../modules/contract.ts';"],
    ['engine/core/back-edge.ts', "import type { Connection } from '../connection/connection.ts';"],
    ['engine/connection/back-edge.ts', "import type { Module } from '../modules/contract.ts';"],
    ['engine/load/back-edge.ts', "import { TaskExecutor } from '../run/task-executor.ts';"],
    ['engine/load/back-edge.ts', "import { PlannedConnection } from '../connection/planned.ts';"],
    ['engine/load/back-edge.ts', "import copy from '../modules/copy.ts';"],
    ['engine/vars/back-edge.ts', "import type { Inventory } from '../inventory/inventory.ts';"],
    ['engine/vars/back-edge.ts', "import { shellQuote } from '../connection/connection.ts';"],
    ['engine/modules/back-edge.ts', "import { loadPlaybook } from '../load/playbook.ts';"],
    ['engine/inventory/back-edge.ts', "import { runPlaybook } from '../run/runner.ts';"],
    ['engine/run/back-edge.ts', "import { createReporter } from '../report/create.ts';"],
    ['engine/pki/back-edge.ts', "import { main } from '../../engine/cli.ts';"],
  ];
  for (const [path, code] of backEdges) {
    const errors = await layerErrors(path, `${code}\nexport const x = 1;\n`);
    const folder = path.split('/')[1];
    t.equal(errors.length, 1, `${path}: ${code}`);
    t.match(errors[0] ?? '', `engine/${folder}/ may import only from`, 'the message names the rule');
  }
});

t.test('allowed edges pass', async (t) => {
  const allowed: [string, string][] = [
    ['engine/report/ok.ts', "import type { RunEvent } from '../core/events.ts';"],
    ['engine/modules/ok.ts', "import type { Connection } from '../connection/connection.ts';\nimport { shellQuote } from '../core/shell.ts';"],
    ['engine/load/ok.ts', "import type { Module } from '../modules/contract.ts';\nimport { ModuleRegistry } from '../modules/registry.ts';"],
    ['engine/inventory/ok.ts', "import { loadYamlFile } from '../core/yaml.ts';"],
    ['engine/run/ok.ts', "import { loadInventory } from '../inventory/inventory.ts';\nimport { TaskParser } from '../load/tasks.ts';"],
    ['engine/cli-ok.ts', "import { createReporter } from './report/create.ts';"],
  ];
  for (const [path, code] of allowed) t.same(await layerErrors(path, `${code}\nexport const x = 1;\n`), [], `${path}: ${code}`);
});

t.test('the eslint CLI (as npm test runs it) exits 1 on a back-edge file', async (t) => {
  const run = spawnSync('npx', ['eslint', '--stdin', '--stdin-filename', 'engine/report/back-edge.ts'], {
    cwd: REPO,
    input: "import { runPlaybook } from '../run/runner.ts';\nexport const x = runPlaybook;\n",
    encoding: 'utf8',
  });
  t.equal(run.status, 1, 'lint fails');
  t.match(run.stdout, /engine\/report\/ may import only from core/);
});

t.test('the real tree keeps its layers', async (t) => {
  const results = await eslint.lintFiles(['engine']);
  const broken = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}:${m.line}: ${m.message}`));
  t.same(broken, [], 'no back-edge in engine/');
  t.ok(results.length > 80, `every engine file was linted (${results.length})`);
});
