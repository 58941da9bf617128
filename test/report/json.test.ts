import t from 'tap';
import { createReporter } from '../../engine/report/create.ts';
import type { RunEvent } from '../../engine/core/events.ts';
import { CaptureStream, forbiddenTexts, scriptedRun, secrets } from './scripted-run.ts';

async function runJson(events: RunEvent[]) {
  const stream = new CaptureStream();
  const errStream = new CaptureStream();
  const reporter = await createReporter({
    output: 'json',
    tty: true,
    color: true,
    verbosity: 3,
    diff: true,
    secrets: secrets(),
    stream,
    errStream,
  });
  for (const event of events) reporter.event(event);
  await reporter.close();
  return { out: stream.text, err: errStream.text };
}

t.test('one JSON object per line, each the event as it is with a type, the recap last', async (t) => {
  const events = scriptedRun();
  const { out, err } = await runJson(events);
  t.equal(err, '', 'nothing on stderr, warnings included');
  t.ok(out.endsWith('\n'));
  const lines = out.trimEnd().split('\n');
  t.equal(lines.length, events.length, 'one line per event, nothing else');
  const stamped = lines.map((line) => JSON.parse(line) as RunEvent);
  for (const event of stamped) {
    t.type(event.type, 'string');
    t.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, `${event.type}: a timestamp`);
    t.type(event.elapsed, 'number', `${event.type}: time since the run started`);
    t.type(event.duration, 'number', `${event.type}: a duration`);
  }
  // The rest compares the events as the runner sent them.
  const parsed = stamped.map(({ time: _time, elapsed: _elapsed, duration: _duration, ...event }) => event as RunEvent);
  t.same(parsed.map((e) => e.type), events.map((e) => e.type));
  t.same(parsed.at(-1), events.at(-1), 'the recap is last, as the runner sent it');
  const first = parsed[0];
  t.same(first, { type: 'start', playbook: 'site.yml', check: false, diff: true });
  const warning = parsed.find((e) => e.type === 'warning');
  t.same(warning, { type: 'warning', host: 'db1', message: 'the password ******** is in plain text' });
  const loopFailure = parsed.find((e) => e.type === 'result' && e.status === 'failed' && e.item === 'curl');
  t.same(loopFailure, {
    type: 'result',
    host: 'web2',
    task: { name: 'install packages', module: 'package', file: 'site.yml', line: 12, handler: false },
    status: 'failed',
    item: 'curl',
    msg: 'no package curl',
  });
  const censored = parsed.find((e) => e.type === 'result' && e.censored);
  t.same(censored, {
    type: 'result',
    host: 'web1',
    task: { name: 'set db password', module: 'copy', file: 'site.yml', line: 20, handler: false },
    status: 'changed',
    censored: true,
    msg: 'the output has been hidden due to no_log: true',
  });
  const key = parsed.find((e) => e.type === 'result' && e.task.name === 'generate CA key');
  t.same(key?.type === 'result' && key.result, {
    path: '/etc/kplay/ca.key',
    content: '<private key redacted>\n',
    nested: [{ pem: '<private key redacted>\n' }],
  });
  for (const text of forbiddenTexts()) t.notOk(out.includes(text), `no ${text.slice(0, 20)}`);
});

t.test('the recap stays last even when something comes after it', async (t) => {
  const events = scriptedRun();
  const recap = events.pop() as RunEvent;
  const { out } = await runJson([...events, recap, { type: 'warning', message: 'late' }]);
  const lines = out.trimEnd().split('\n').map((line) => JSON.parse(line) as RunEvent);
  t.equal(lines.at(-1)?.type, 'recap');
  t.equal(lines.at(-2)?.type, 'warning');
});
