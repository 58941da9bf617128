// Text that keeps the bytes it was read from, as Python's "surrogateescape" does: a byte that is not part of valid
// UTF-8 becomes the lone surrogate U+DC80..U+DCFF while it is text, and that byte again when it is written. A Latin-1
// template renders with its é still the one byte 0xE9, as Ansible writes it, instead of U+FFFD.

import { isUtf8 } from 'node:buffer';

/** The length of the valid UTF-8 sequence at bytes[i], or 0 when there is none. */
function sequenceAt(bytes: Uint8Array, i: number): number {
  const b = bytes[i];
  if (b < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < bytes.length && bytes[i + k] >= lo && bytes[i + k] <= hi;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (b === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // not the UTF-16 surrogates
  if (b >= 0xe1 && b <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xf1 && b <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** Bytes as text; the bytes that are not UTF-8 become U+DC80..U+DCFF. `raw` says whether there were any. */
export function decodeKeepingBytes(bytes: Buffer): { text: string; raw: boolean } {
  if (isUtf8(bytes)) return { text: bytes.toString('utf8'), raw: false };
  let text = '';
  let start = 0;
  for (let i = 0; i < bytes.length; ) {
    const n = sequenceAt(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    text += bytes.subarray(start, i).toString('utf8') + String.fromCharCode(0xdc00 + bytes[i]);
    i++;
    start = i;
  }
  return { text: text + bytes.subarray(start).toString('utf8'), raw: true };
}

/** Text back to bytes: UTF-8, with each lone U+DC80..U+DCFF written as the byte it stands for. */
export function encodeKeepingBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc80 || c > 0xdcff) continue;
    const prev = i > 0 ? text.charCodeAt(i - 1) : 0;
    if (prev >= 0xd800 && prev <= 0xdbff) continue; // the low half of a real pair
    parts.push(Buffer.from(text.slice(start, i), 'utf8'), Buffer.of(c - 0xdc00));
    start = i + 1;
  }
  parts.push(Buffer.from(text.slice(start), 'utf8'));
  return Buffer.concat(parts);
}
