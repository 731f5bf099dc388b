/**
 * The verifiable reward, as EasyR1's math reward function: accuracy (is the extracted answer
 * equivalent to the gold one?) and format (`<think>…</think> \boxed{…}`), combined as
 * `(1 - formatWeight) * accuracy + formatWeight * format` — 0.9/0.1 by default.
 * `computeReward` is a pure, synchronous function; the trainer calls it on every rollout.
 * Plain numbers and letters take a fast path (microseconds); only LaTeX expressions reach the
 * compute engine.
 */
import { isEquivalent, type EquivalenceOptions } from './equivalence.ts';
import { extractAnswer } from './extract.ts';
import { formatOk } from './format.ts';

export interface RewardOptions extends EquivalenceOptions {
  /** Weight of the format score in the overall reward, in [0, 1] (default 0.1). */
  readonly formatWeight?: number;
}

export interface RewardScore {
  readonly accuracy: 0 | 1;
  readonly format: 0 | 1;
  /** (1 - formatWeight) * accuracy + formatWeight * format. */
  readonly reward: number;
}

export const DEFAULT_FORMAT_WEIGHT = 0.1;

/** Scores one response against its gold answer. */
export function computeReward(response: string, answer: string, opts: RewardOptions = {}): RewardScore {
  const w = opts.formatWeight ?? DEFAULT_FORMAT_WEIGHT;
  if (!(w >= 0 && w <= 1)) throw new RangeError(`formatWeight must be in [0, 1], got ${w}`);
  const extracted = extractAnswer(response, answer);
  const accuracy: 0 | 1 = extracted !== null && isEquivalent(extracted.text, answer, opts) ? 1 : 0;
  const format: 0 | 1 = formatOk(response) ? 1 : 0;
  // Written so that the default weights give exactly 1, 0.9 and 0.1, not 0.9000000000000001.
  const reward = w === 0 ? accuracy : w === 1 ? format : Math.round(((1 - w) * accuracy + w * format) * 1e12) / 1e12;
  return { accuracy, format, reward };
}

export { isEquivalent, choiceOf, numbersClose, type EquivalenceOptions } from './equivalence.ts';
export { extractAnswer, lastBoxed, lastAnswerTag, statedLetter, type Extracted } from './extract.ts';
export { formatOk } from './format.ts';
export { normalizeAnswer, parseNumber } from './normalize.ts';
