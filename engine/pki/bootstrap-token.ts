// Bootstrap tokens as kubeadm makes them (`<token-id>.<token-secret>`, [a-z0-9]{6}.[a-z0-9]{16}), the file on the
// controller that keeps one between runs, and Go-style TTLs ("24h", "1h30m", "0" for a token that never expires).

import { randomInt } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { PkiError } from './errors.ts';

export interface BootstrapToken {
  id: string;
  secret: string;
  /** RFC 3339 UTC, or null: the token never expires. */
  expiration: string | null;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID = /^[a-z0-9]{6}$/;
const SECRET = /^[a-z0-9]{16}$/;
const UNITS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };

function randomString(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** Seconds of a Go duration ("24h", "90m", "1h30m", "0"); 0 means no expiration, as kubeadm's --ttl 0. */
export function parseTtl(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== trimmed) {
    throw new PkiError(`ttl "${text}" is not a duration like 24h, 1h30m or 0 (never expires)`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0);
}

/** RFC 3339 without fractions, as kubeadm writes `expiration`. */
const rfc3339 = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function newBootstrapToken(ttlSeconds: number, now: Date = new Date()): BootstrapToken {
  return {
    id: randomString(6),
    secret: randomString(16),
    expiration: ttlSeconds > 0 ? rfc3339(new Date(now.getTime() + Math.round(ttlSeconds * 1000))) : null,
  };
}

/** A token whose expiration has passed (or is within `marginSeconds`) is no use to a node that joins now. */
export function tokenExpired(token: BootstrapToken, now: Date = new Date(), marginSeconds = 0): boolean {
  return token.expiration !== null && Date.parse(token.expiration) - marginSeconds * 1000 <= now.getTime();
}

export function renderTokenFile(token: BootstrapToken): string {
  return stringify({ 'token-id': token.id, 'token-secret': token.secret, expiration: token.expiration });
}

/** The token an earlier run kept; throws when the file is not one (never silently replaced). */
export function readTokenFile(text: string): BootstrapToken {
  let doc: Record<string, unknown> | null;
  try {
    doc = parse(text) as Record<string, unknown> | null;
  } catch (error) {
    throw new PkiError(`the bootstrap token file is not YAML (${(error as Error).message}); fix or remove it by hand`);
  }
  const id = doc?.['token-id'];
  const secret = doc?.['token-secret'];
  const expiration = doc?.expiration ?? null;
  if (typeof id !== 'string' || !ID.test(id) || typeof secret !== 'string' || !SECRET.test(secret)) {
    throw new PkiError('the bootstrap token file has no token-id ([a-z0-9]{6}) and token-secret ([a-z0-9]{16}); fix or remove it by hand');
  }
  if (expiration !== null && (typeof expiration !== 'string' || Number.isNaN(Date.parse(expiration)))) {
    throw new PkiError('the bootstrap token file has an expiration that is not an RFC 3339 time; fix or remove it by hand');
  }
  return { id, secret, expiration };
}
