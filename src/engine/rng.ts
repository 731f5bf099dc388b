/**
 * The one source of randomness in pgpo: a seeded, splittable, serialisable generator.
 * Pure JavaScript (no engine import), so tasks, data and the trainer can all share it; the
 * model derives jax-js PRNG keys from it with `jaxSeed()`. There is no global generator:
 * every function that needs randomness takes an `Rng` argument.
 *
 * Core: xoshiro128** (Blackman & Vigna), 128-bit state, seeded through splitmix32.
 */

const U32 = 0x1_0000_0000;

function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) >>> 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over UTF-16 code units, then a murmur finaliser: a stable 32-bit hash of a label. */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export type RngState = readonly [number, number, number, number];

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(state: RngState) {
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v >>> 0) as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** A generator from a seed: any safe integer or a string (hashed). */
  static seeded(seed: number | string): Rng {
    let lo: number;
    let hi: number;
    if (typeof seed === 'string') {
      lo = hashString(seed);
      hi = hashString(seed, 0x9747b28c);
    } else {
      if (!Number.isSafeInteger(seed)) throw new Error(`Rng seed must be a safe integer or a string, got ${seed}`);
      lo = seed >>> 0;
      hi = Math.floor(seed / U32) >>> 0;
    }
    const sm = { x: (lo ^ Math.imul(hi, 0x27d4eb2d)) >>> 0 };
    return new Rng([splitmix32(sm), splitmix32(sm), splitmix32(sm), splitmix32(sm)]);
  }

  /** Restores a generator saved with `state()` (checkpoints). */
  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v >= U32)) {
      throw new Error(`Rng state must be four uint32 values, got ${JSON.stringify(state)}`);
    }
    return new Rng(state as unknown as RngState);
  }

  state(): [number, number, number, number] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Next uint32. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.u32() >>> 5; // 27 bits
    const lo = this.u32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > U32) throw new Error(`Rng.int needs an integer 1..2^32, got ${n}`);
    const limit = U32 - (U32 % n);
    for (;;) {
      const x = this.u32();
      if (x < limit) return x % n;
    }
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  range(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`Rng.range: hi (${hi}) < lo (${lo})`);
    return lo + this.int(hi - lo + 1);
  }

  /** Standard normal (Box-Muller; no cached second value, so the state stays four words). */
  normal(): number {
    const u = 1 - this.float(); // (0, 1]
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  bool(p = 0.5): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick from an empty list');
    return items[this.int(items.length)];
  }

  /** Fisher-Yates, in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** A child generator seeded from this one (advances this generator by four draws). */
  split(): Rng {
    const sm = { x: this.u32() };
    const mix = [this.u32(), this.u32(), this.u32()];
    return new Rng([splitmix32(sm), (splitmix32(sm) ^ mix[0]) >>> 0, (splitmix32(sm) ^ mix[1]) >>> 0, (splitmix32(sm) ^ mix[2]) >>> 0]);
  }

  /**
   * A named child stream that does NOT advance this generator: `rng.fork('data')` is the same
   * stream whatever else was drawn from other forks. Use it to keep sub-systems independent.
   */
  fork(label: string | number): Rng {
    const h = hashString(String(label));
    const sm = { x: (this.s0 ^ h) >>> 0 };
    return new Rng([(splitmix32(sm) ^ this.s1) >>> 0, (splitmix32(sm) ^ this.s2) >>> 0, (splitmix32(sm) ^ this.s3) >>> 0, (splitmix32(sm) ^ h) >>> 0]);
  }

  /** A uint32 seed for engine-side PRNGs (e.g. a jax-js `random.key`). */
  jaxSeed(): number {
    return this.u32();
  }
}
