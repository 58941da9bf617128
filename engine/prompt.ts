// vars_prompt: each play's questions asked on the terminal before the run starts (so a missing answer is an error
// before any host is touched): without echo when private, twice when confirm, hashed when encrypt. A variable given
// with -e is not asked; with no terminal and no -e value the run stops with the prompt's file:line:col.

import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { encrypt as cryptEncrypt } from 'unixcrypt';
import { InputError } from './core/source.ts';
import type { Playbook, VarPrompt } from './load/model.ts';
import { UnsafeText } from './jinja/index.ts';

const SALT_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./';

/** Read one line from the terminal without echoing it (raw mode; backspace edits, Ctrl-C stops the run). */
function readHidden(question: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve) => {
    let answer = '';
    input.setRawMode(true);
    input.resume();
    const done = (value: string): void => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done(answer);
        if (ch === '\u0003') {
          input.setRawMode(false);
          process.stderr.write('\n');
          process.exit(130);
        }
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else if (ch >= ' ') answer += ch;
      }
    };
    input.on('data', onData);
  });
}

async function readShown(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const answer = await rl.question(question);
  rl.close();
  return answer;
}

async function ask(p: VarPrompt): Promise<string> {
  const read = p.private ? readHidden : readShown;
  const question = `${p.prompt}${p.default !== undefined ? ` [${p.default}]` : ''}: `;
  for (;;) {
    let answer = await read(question);
    if (p.confirm) {
      const again = await read(`confirm ${p.prompt}: `);
      if (again !== answer) {
        process.stderr.write('***** VALUES ENTERED DO NOT MATCH ****\n');
        continue;
      }
    }
    if (answer === '' && p.default !== undefined) answer = p.default;
    return answer;
  }
}

function hashed(p: VarPrompt, value: string): string {
  const id = p.encrypt === 'sha256_crypt' ? '5' : '6';
  const salt = p.salt ?? Array.from({ length: p.saltSize ?? 16 }, () => SALT_CHARS[randomInt(SALT_CHARS.length)]).join('');
  return cryptEncrypt(value, `$${id}$${salt}`);
}

/** Ask every play's prompts whose variable -e does not give; the answers become play variables. */
export async function askVarsPrompts(playbook: Playbook, extraVars: Record<string, unknown>): Promise<void> {
  const asked = playbook.plays.flatMap((play) => play.varsPrompt.filter((p) => !(p.name in extraVars)).map((p) => ({ play, p })));
  if (asked.length === 0) return;
  if (!process.stdin.isTTY) {
    const { p } = asked[0];
    throw new InputError(p.pos, `vars_prompt "${p.name}" needs a terminal to ask on (stdin is not one): give it with -e ${p.name}=...`);
  }
  for (const { play, p } of asked) {
    const answer = await ask(p);
    const value = p.encrypt ? hashed(p, answer) : answer;
    play.vars = { ...play.vars, [p.name]: p.unsafe ? new UnsafeText(value) : value };
  }
}
