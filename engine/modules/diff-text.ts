// What a --diff may show of a file: its text, or a placeholder for binary content and for content the module knows is
// secret. Secrets the module does not know of (keys in any encoding, registered values) are hidden by the masker at
// every sink (engine/core/mask.ts), with the same digest line.

import { hiddenContent } from '../core/mask.ts';
import type { FileDiff } from './contract.ts';

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of `content` for a diff: '<binary>' when it is not text, a size and digest when it is a secret. */
export function diffText(content: Buffer | string, secret = false): string {
  if (secret) return hiddenContent(content);
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
  // Also caught at every sink; hidden here too so that a plan's diff never holds a key at all.
  return PRIVATE_KEY.test(text) ? hiddenContent(text) : text;
}

/** A file's before/after for --diff; a missing file is empty before. */
export function fileDiff(path: string, before: Buffer | string | null, after: Buffer | string, secret = false): FileDiff {
  return { path, before: before === null ? '' : diffText(before, secret), after: diffText(after, secret) };
}
