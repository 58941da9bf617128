// CIDR ranges: parse, check that two ranges are apart, and find a range's first usable address (the service IP).

import { isIP } from 'node:net';
import { canonicalIp } from './names.ts';
import { PkiError } from './errors.ts';

export interface Cidr {
  family: 4 | 6;
  network: bigint;
  prefix: number;
  text: string;
}

const bitsOf = (family: 4 | 6): number => (family === 4 ? 32 : 128);

function ipToBigInt(ip: string, family: 4 | 6): bigint {
  if (family === 4) return ip.split('.').reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n);
  // The canonical spelling has no embedded IPv4 and at most one `::`.
  const [head, tail] = canonicalIp(ip).split('::').map((part) => (part ? part.split(':') : []));
  const groups = tail === undefined ? head : [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.reduce((n, group) => (n << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function bigIntToIp(n: bigint, family: 4 | 6): string {
  const [width, count] = family === 4 ? [8n, 4] : [16n, 8];
  const parts = Array.from({ length: count }, (_, i) => (n >> (width * BigInt(count - 1 - i))) & ((1n << width) - 1n));
  return family === 4 ? parts.join('.') : canonicalIp(parts.map((p) => p.toString(16)).join(':'));
}

/** Parse `10.32.0.0/24`; the address must be the network's own (no host bits set), as Kubernetes requires. */
export function parseCidr(text: string, what = 'CIDR'): Cidr {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(String(text).trim());
  const family = match ? isIP(match[1]) : 0;
  if (!match || (family !== 4 && family !== 6)) throw new PkiError(`${what} "${text}" is not a CIDR like 10.32.0.0/24`);
  const prefix = Number(match[2]);
  if (prefix > bitsOf(family)) throw new PkiError(`${what} "${text}" has a prefix longer than ${bitsOf(family)} bits`);
  const address = ipToBigInt(match[1], family);
  const hostBits = BigInt(bitsOf(family) - prefix);
  const network = (address >> hostBits) << hostBits;
  if (network !== address) {
    throw new PkiError(`${what} "${text}" has host bits set: did you mean ${bigIntToIp(network, family)}/${prefix}?`);
  }
  return { family, network, prefix, text: `${bigIntToIp(network, family)}/${prefix}` };
}

/** Whether two ranges share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shorter = BigInt(bitsOf(a.family) - Math.min(a.prefix, b.prefix));
  return a.network >> shorter === b.network >> shorter;
}

/** The n-th address of a range (1 = the first usable one: the `kubernetes` service's cluster IP). */
export function cidrHost(cidr: Cidr, n = 1): string {
  const size = 1n << BigInt(bitsOf(cidr.family) - cidr.prefix);
  if (BigInt(n) >= size) throw new PkiError(`${cidr.text} has no address number ${n}`);
  return bigIntToIp(cidr.network + BigInt(n), cidr.family);
}
