// The bad-input corpus: each folder under cases/ is a small project with one mistake in it. Running kplay there must
// fail with the exact message in its expect.txt — `file:line:col: ...` on stderr and exit 1 for bad input, a failed
// task naming file:line and exit 2 at run time — and leave the folder as it was: every case's playbook would write
// ./written if it ran, before the bad line where the mistake allows it.
//
// expect.txt, one `key: value` a line:
//   args:   options after `run play.yml` (default `-i inventory.yml`; a case without one gets a local inventory)
//   exit:   1 or 2
//   stderr: the first stderr line (exit 1)
//   failed: the failed task's message, and task: its file:line as the run events report it (exit 2)
// `{repo}` stands for the kplay checkout and `{case}` for the case's folder, where a message holds absolute paths.
//
// Every case runs under a hard limit, so input that makes kplay run away (an alias bomb, 3000-level nesting) fails
// here instead of taking the machine: a heap of at most 200 MB (V8 stops the process, exit 134) and 30 s of wall
// time (SIGKILL). Both are far above what a case needs (~70 MB, under a second: README, "Input limits").

import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import t from 'tap';

const REPO = resolve(import.meta.dirname, '../..');
const CASES = join(import.meta.dirname, 'cases');
const LOCAL_INVENTORY = 'all:\n  hosts:\n    local:\n      ansible_connection: local\n';
const MARKER = 'written';
const HEAP_LIMIT_MB = 200;
const TIME_LIMIT_MS = 30_000;

interface Expectation {
  args: string[];
  exit: number;
  stderr?: string;
  failed?: string;
  task?: string;
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface ResultEvent {
  type: 'result';
  status: string;
  msg?: string;
  task: { file: string; line: number };
}

function readExpectation(caseDir: string, copyDir: string): Expectation {
  const fields = new Map<string, string>();
  for (const line of readFileSync(join(caseDir, 'expect.txt'), 'utf8').split('\n')) {
    const m = /^(\w+): (.*)$/.exec(line);
    if (m) fields.set(m[1], m[2].replaceAll('{repo}', REPO).replaceAll('{case}', copyDir));
  }
  return {
    args: (fields.get('args') ?? '-i inventory.yml').split(' '),
    exit: Number(fields.get('exit')),
    stderr: fields.get('stderr'),
    failed: fields.get('failed'),
    task: fields.get('task'),
  };
}

/** Every file under dir, relative, sorted: what "nothing was written" compares. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

function runKplay(cwd: string, args: string[]): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: '1' };
  delete env.KPLAY_ROLES_PATH; // only the case's own roles and the shipped ones
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_LIMIT_MB}`, join(REPO, 'bin/kplay.js'), 'run', 'play.yml', ...args, '--output', 'json'], {
    cwd,
    env,
    timeout: TIME_LIMIT_MS,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done, reject) => {
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const names = readdirSync(CASES).sort();
const root = t.testdir({});
const limit = pLimit(2); // the machine is shared

// The first run after a change builds kplay's bundle (bin/kplay.js), which on a busy machine can take longer than a
// case may: one run without the limits does it, before any case starts.
const built = new Promise<void>((done, reject) => {
  const child = spawn(process.execPath, [join(REPO, 'bin/kplay.js'), 'run', 'no-such-playbook.yml'], { cwd: root, stdio: 'ignore' });
  child.on('error', reject);
  child.on('close', () => done());
});

// Start every run now (two at a time); each subtest then checks its own.
const runs = names.map((name) => {
  const dir = join(root, name);
  cpSync(join(CASES, name), dir, { recursive: true });
  if (!existsSync(join(dir, 'inventory.yml'))) writeFileSync(join(dir, 'inventory.yml'), LOCAL_INVENTORY);
  const expected = readExpectation(join(CASES, name), dir);
  const before = filesUnder(dir).filter((f) => f !== 'expect.txt');
  return { name, dir, expected, before, outcome: limit(async () => {
    await built;
    return runKplay(dir, expected.args);
  }) };
});

// ~150 runs two at a time: a minute on a quiet machine, many more when it is shared (the file's own limit).
t.setTimeout(1_800_000);
t.ok(names.length >= 150, `the corpus has ${names.length} cases`);

for (const { name, dir, expected, before, outcome } of runs) {
  t.test(name, async (t) => {
    const caseText = filesUnder(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    t.match(caseText, /dest(=|: )\.\/written\b/, 'the playbook would write the marker if it ran');
    const { code, stdout, stderr } = await outcome;
    t.equal(code, expected.exit, 'exit code');
    if (expected.exit === 1) {
      t.equal(stderr.split('\n')[0], expected.stderr, 'the first stderr line');
      // --output json: the error as one event, nothing else (no task ran).
      const events = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; message: string });
      t.same(events.map((e) => [e.type, e.message.split('\n')[0]]), [['error', expected.stderr]], 'no task ran: one error event');
    } else {
      const events = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string });
      const failed = events.filter((e): e is ResultEvent => e.type === 'result' && (e as ResultEvent).status === 'failed');
      t.equal(failed.length, 1, 'one task failed');
      t.equal(failed[0]?.msg, expected.failed, 'the failure message');
      t.equal(failed[0] && `${failed[0].task.file}:${failed[0].task.line}`, expected.task, "the failed task's file:line");
    }
    t.notOk(existsSync(join(dir, MARKER)), `./${MARKER} was not written`);
    // A run records its outcome in .kplay/ (for --limit @failed); a load error does not get that far.
    const after = filesUnder(dir).filter((f) => f !== 'expect.txt' && !f.startsWith('.kplay/'));
    t.same(after, before, 'no file was written or removed');
    if (expected.exit === 1) t.notOk(existsSync(join(dir, '.kplay')), 'no run was recorded');
  });
}
