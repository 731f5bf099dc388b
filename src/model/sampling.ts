/**
 * Choosing the next token from a row of logits, on the host: greedy, or temperature + nucleus
 * (top-p) sampling with a draw from the seeded `Rng`. The same row also gives, at no extra pass,
 * the chosen token's log-prob and the entropy of the distribution it was drawn from (logits /
 * temperature; greedy: temperature 1), which are what the RL loss needs as "old policy" values.
 * Vocabularies here are a few hundred entries, so a float64 loop per row costs microseconds next
 * to the model's milliseconds.
 */

import type { Rng } from '../engine/rng.ts';
import { expNonPos } from './exp.ts';

export interface Pick {
  readonly token: number;
  /** log pi(token) of the distribution drawn from: softmax(logits / temperature), greedy: temperature 1. */
  readonly logp: number;
  /** Entropy of that distribution. */
  readonly entropy: number;
}

export interface PickOptions {
  readonly temperature: number;
  readonly topP: number;
  readonly greedy: boolean;
}

/**
 * Picks from logits[off .. off + V). Non-finite logits are treated as -inf. `scratch` (at least V
 * floats) holds the row's exponentials: a caller picking row after row passes one, so that a
 * decode step's hundreds of picks allocate nothing.
 */
export function pickToken(logits: Float32Array, off: number, V: number, o: PickOptions, rng: Rng, scratch: Float64Array = new Float64Array(V)): Pick {
  if (!o.greedy && !(o.temperature > 0)) throw new Error(`sampling temperature must be > 0, got ${o.temperature} (use greedy for argmax)`);
  if (scratch.length < V) throw new Error(`pickToken: scratch holds ${scratch.length} floats, fewer than the ${V} logits`);
  // the distribution the token comes from; dividing by 1 is exact, so temperature 1 is unchanged
  const temp = o.greedy ? 1 : o.temperature;
  let max = -Infinity;
  let arg = 0;
  for (let i = 0; i < V; i++) {
    const x = logits[off + i];
    if (x > max) {
      max = x;
      arg = i;
    }
  }
  // e[i] = exp((logit - max) / T) (0 for a non-finite logit): the normaliser z here and, divided by
  // it, the draw's probabilities. Entropy = -sum p log p with p = e / z and log p = (logit - max) /
  // T - log z, from the same exponentials: log z - sum e (logit - max) / T / z (terms with e = 0
  // contribute nothing).
  const e = scratch;
  let z = 0;
  let dot = 0;
  for (let i = 0; i < V; i++) {
    const d = logits[off + i] - max;
    const ei = expNonPos(d / temp); // d / temp <= 0; NaN (a non-finite logit) gives 0
    e[i] = ei;
    z += ei;
    if (ei > 0) dot += ei * d;
  }
  const logZ = max / temp + Math.log(z);
  const entropy = z > 0 ? Math.log(z) - dot / temp / z : 0; // no finite logit (a diverged model): 0, as before
  let token = arg;
  if (!o.greedy) token = drawNucleus(e, V, z, o, rng);
  return { token, logp: logits[off + token] / temp - logZ, entropy };
}

/** Draws an id in [0, V) with probability p[i] / z (pickToken's exponentials and their sum; normalised here, in place). */
function drawNucleus(p: Float64Array, V: number, z: number, o: PickOptions, rng: Rng): number {
  let whole = 0; // the normalised mass of every id (1 up to rounding)
  for (let i = 0; i < V; i++) whole += p[i] /= z;
  if (o.topP >= 1) {
    // the whole distribution: the same draw as below over every id, without the list of ids
    let u = rng.float() * whole;
    for (let i = 0; i < V; i++) {
      u -= p[i];
      if (u < 0) return i;
    }
    return V - 1;
  }
  let keep: number[];
  {
    // Smallest set of most likely tokens whose mass reaches topP (ties broken by id: stable).
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
    keep = [];
    let mass = 0;
    for (const i of order) {
      keep.push(i);
      mass += p[i];
      if (mass >= o.topP) break;
    }
  }
  let total = 0;
  for (const i of keep) total += p[i];
  let u = rng.float() * total;
  for (const i of keep) {
    u -= p[i];
    if (u < 0) return i;
  }
  return keep[keep.length - 1];
}
