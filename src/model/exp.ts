/**
 * e^x for x <= 0, the exponential of every softmax once its max is subtracted: the native
 * engine's attention and log-softmax, and the host's token choice (sampling.ts), which both
 * backends share.
 */

// x = m ln2/64 + r with |r| <= ln2/128, e^x = 2^-q 2^(j/64) e^r (m = j - 64 q), e^r by its Taylor
// polynomial of degree 5. Relative error < 3e-11 against Math.exp, and the float32 it rounds to is
// the same in our checks; ~3x faster than Math.exp in V8, which does not inline it (`npm run bench:kernels`).
const EXP_K = 64 / Math.LN2;
const EXP_L = Math.LN2 / 64;
const EXP_T64 = Float64Array.from({ length: 64 }, (_, j) => 2 ** (j / 64));
const EXP_POW2 = Float64Array.from({ length: 1076 }, (_, q) => 2 ** -q);

export function expNonPos(x: number): number {
  if (!(x > -745)) return 0; // below e^-745 a double is 0 (and -Infinity, the masked score, is too)
  const m = Math.floor(x * EXP_K + 0.5);
  const r = x - m * EXP_L;
  const q = (63 - m) >> 6;
  const p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120)))));
  return p * EXP_T64[m + 64 * q] * EXP_POW2[q];
}
