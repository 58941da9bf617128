// Subject alternative names: each must be an IP address or a DNS name a TLS client would match, nothing looser.

import { isIP } from 'node:net';
import { PkiError } from './errors.ts';

export interface SubjectAltNames {
  ips: string[];
  dns: string[];
}

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** The one spelling of an IP address, so `::0001` and `::1` compare equal. */
export function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** Why `name` is not a DNS name a certificate may carry, or null when it is one. A leading `*.` is allowed. */
export function dnsNameProblem(name: string): string | null {
  if (name.endsWith('.')) return 'a trailing dot is not allowed (clients compare names without it)';
  if (name.length > 253) return 'longer than 253 characters';
  const labels = name.split('.');
  for (const [i, label] of labels.entries()) {
    if (label === '') return 'it has an empty label';
    if (label === '*' && i === 0 && labels.length > 2) continue;
    if (label.includes('_')) return `label "${label}" has an underscore`;
    if (!LABEL.test(label)) return `label "${label}" is not letters, digits and inner hyphens (1-63 characters)`;
  }
  // 10.0.0.256 is no IP, and no DNS name either: a top-level label is never all digits.
  if (/^\d+$/.test(labels[labels.length - 1])) return 'it looks like an IP address but is not a valid one';
  return null;
}

/** Sort SANs into IPs and DNS names; throws naming the first entry that is neither. Duplicates are dropped. */
export function parseSubjectAltNames(entries: readonly string[]): SubjectAltNames {
  const ips: string[] = [];
  const dns: string[] = [];
  for (const raw of entries) {
    const entry = String(raw).trim();
    if (isIP(entry)) {
      const ip = canonicalIp(entry);
      if (!ips.includes(ip)) ips.push(ip);
      continue;
    }
    const problem = dnsNameProblem(entry);
    if (problem) throw new PkiError(`SAN "${entry}" is neither an IP address nor a valid DNS name: ${problem}`);
    if (!dns.includes(entry)) dns.push(entry);
  }
  return { ips, dns };
}
