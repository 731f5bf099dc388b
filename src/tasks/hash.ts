/**
 * Content hashes for task instances and problems: SHA-256 over a canonical JSON (object keys
 * sorted), so equal content gives equal ids on every machine and in every run.
 */
import { createHash } from 'node:crypto';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** First 16 hex digits (64 bits) of SHA-256 over the canonical JSON of `value`. */
export function contentHash(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The split a problem belongs to, decided by its hash alone: a problem is in `test` when the
 * top 32 bits of its key, as a fraction of 2^32, fall below `testFraction`. Whatever the seeds,
 * a train suite and a test suite made with the same fraction never share a problem.
 */
export function splitOf(problemKey: string, testFraction: number): 'train' | 'test' {
  return parseInt(problemKey.slice(0, 8), 16) / 0x1_0000_0000 < testFraction ? 'test' : 'train';
}

/**
 * Which use a training-split problem is reserved for, by its hash alone: `rl` when the next 32
 * bits of its key (independent of the test split's) fall below `rlFraction`, else `sft`. The
 * warm start never sees a problem reserved for RL, so RL's problems are as new to the base as the
 * test problems are (docs/results.md: a base that memorised its RL problems learnt nothing that
 * transfers).
 */
export function useOf(problemKey: string, rlFraction: number): 'sft' | 'rl' {
  return parseInt(problemKey.slice(8, 16), 16) / 0x1_0000_0000 < rlFraction ? 'rl' : 'sft';
}
