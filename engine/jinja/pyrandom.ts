// Python's random.Random(seed) as CPython 3.11 computes it, for Ansible's `random` and `shuffle` filters with a
// `seed`: the same host gets the same cron minute from kplay as from Ansible. The generator is MT19937 (npm
// `mersenne-twister`, seeded by init_by_array as CPython does); what is here is CPython's seeding and its
// getrandbits / _randbelow / randrange / choice / shuffle on top.

import { createHash, randomBytes } from 'node:crypto';
import type MersenneTwister from 'mersenne-twister';
import { lazy } from '../core/lazy.ts';

const mersenne = lazy<typeof MersenneTwister>('mersenne-twister');

const MASK32 = 0xffffffffn;

/** The 32-bit words of a non-negative integer, least significant first (CPython's init_by_array key). */
function words(n: bigint): number[] {
  const key: number[] = [];
  do {
    key.push(Number(n & MASK32));
    n >>= 32n;
  } while (n > 0n);
  return key;
}

const HASH_BITS = 61n;
const HASH_MODULUS = (1n << HASH_BITS) - 1n;

/** CPython's hash() of a finite float (_Py_HashDouble): what Random(2.5) seeds with. */
function hashFloat(v: number): bigint {
  if (Number.isInteger(v)) return BigInt(v);
  if (!Number.isFinite(v)) return v > 0 ? 314159n : -314159n;
  // frexp: v = m * 2**e with 0.5 <= |m| < 1
  let e = Math.floor(Math.log2(Math.abs(v))) + 1;
  let m = v / 2 ** e;
  if (Math.abs(m) >= 1) {
    m /= 2;
    e++;
  } else if (Math.abs(m) < 0.5) {
    m *= 2;
    e--;
  }
  let sign = 1n;
  if (m < 0) {
    sign = -1n;
    m = -m;
  }
  let x = 0n;
  let exp = BigInt(e);
  while (m) {
    x = ((x << 28n) & HASH_MODULUS) | (x >> (HASH_BITS - 28n));
    m *= 268435456.0;
    exp -= 28n;
    const y = Math.floor(m);
    m -= y;
    x += BigInt(y);
    if (x >= HASH_MODULUS) x -= HASH_MODULUS;
  }
  exp = exp >= 0n ? exp % HASH_BITS : HASH_BITS - 1n - ((-1n - exp) % HASH_BITS);
  x = ((x << exp) & HASH_MODULUS) | (x >> (HASH_BITS - exp));
  x *= sign;
  return x === -1n ? -2n : x;
}

/** The integer CPython's Random.seed (version 2) feeds the generator for this seed. */
export function seedInteger(seed: string | number | bigint | boolean, float = false): bigint {
  if (typeof seed === 'string') {
    const bytes = Buffer.from(seed, 'utf8');
    const all = Buffer.concat([bytes, createHash('sha512').update(bytes).digest()]);
    return BigInt(`0x${all.toString('hex')}`);
  }
  if (typeof seed === 'boolean') return seed ? 1n : 0n;
  if (typeof seed === 'bigint') return seed;
  if (Number.isInteger(seed) && !float) return BigInt(seed);
  // A float seeds with its hash, taken as an unsigned 64-bit number (C's size_t).
  const h = hashFloat(seed);
  return h < 0n ? h + (1n << 64n) : h;
}

export class PyRandom {
  private readonly mt: MersenneTwister;

  /** A seed as Python's: str (sha512-extended), int (its absolute value), float (its hash; `float` for an integral one); none: os.urandom. */
  constructor(seed?: string | number | bigint | boolean, float = false) {
    const n = seed === undefined ? BigInt(`0x${randomBytes(32).toString('hex')}`) : seedInteger(seed, float);
    const key = words(n < 0n ? -n : n);
    this.mt = new (mersenne())(0);
    this.mt.init_by_array(key, key.length);
  }

  /** random.getrandbits(k), as a bigint. */
  getrandbits(k: number): bigint {
    if (k <= 32) return BigInt(this.mt.random_int() >>> (32 - k));
    let out = 0n;
    let shift = 0n;
    for (let left = k; left > 0; left -= 32, shift += 32n) {
      let r = this.mt.random_int() >>> 0;
      if (left < 32) r >>>= 32 - left;
      out |= BigInt(r) << shift;
    }
    return out;
  }

  /** Random._randbelow_with_getrandbits: an int in [0, n). */
  randbelow(n: number): number {
    if (n <= 0) return 0;
    const k = n.toString(2).length;
    const big = BigInt(n);
    let r = this.getrandbits(k);
    while (r >= big) r = this.getrandbits(k);
    return Number(r);
  }

  /** random.randrange(start, stop, step). */
  randrange(start: number, stop: number, step = 1): number {
    const width = stop - start;
    if (step === 1) {
      if (width > 0) return start + this.randbelow(width);
      throw new RangeError(`empty range for randrange() (${start}, ${stop}, ${width})`);
    }
    if (step === 0) throw new RangeError('zero step for randrange()');
    const n = step > 0 ? Math.floor((width + step - 1) / step) : Math.floor((width + step + 1) / step);
    if (n <= 0) throw new RangeError('empty range for randrange()');
    return start + step * this.randbelow(n);
  }

  /** random.choice(seq). */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Cannot choose from an empty sequence');
    return items[this.randbelow(items.length)];
  }

  /** random.shuffle(x), in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
