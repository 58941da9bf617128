// What a --diff may show of a file: its text, or a placeholder for binary content and secrets.

import type { FileDiff } from './contract.ts';

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of `content` for a diff: '<binary>' when it is not text, '<content hidden>' when it is a secret. */
export function diffText(content: Buffer | string, secret = false): string {
  if (secret) return '<content hidden>';
  let text: string;
  if (typeof content === 'string') text = content;
  else {
    if (content.includes(0)) return '<binary>';
    try {
      text = utf8.decode(content);
    } catch {
      return '<binary>';
    }
  }
  return PRIVATE_KEY.test(text) ? '<content hidden>' : text;
}

/** A file's before/after for --diff; a missing file is empty before. */
export function fileDiff(path: string, before: Buffer | string | null, after: Buffer | string, secret = false): FileDiff {
  return { path, before: before === null ? '' : diffText(before, secret), after: diffText(after, secret) };
}
