/**
 * How often a policy answers the language prior instead of the figure (the ladder world,
 * src/tasks/ladder.ts): instances of a kind with a prior record `priorAnswer`, the answer a
 * text-only guess gives ("the last bar is tallest", "the answer is C"). Where the prior is wrong
 * (priorAnswer differs from the gold answer) only reading the image gives the right answer, so
 * the share of those samples that answer the prior measures reliance on it. Pure: samples in,
 * counts out.
 */
import { extractAnswer, isEquivalent } from '../reward/index.ts';

export interface PriorSample {
  /** The gold answer. */
  readonly answer: string;
  /** What the prior answers (undefined: the instance has no prior; such samples are not counted). */
  readonly priorAnswer?: string;
  /** The policy's response text (its final answer is taken as the reward takes it). */
  readonly response: string;
}

export interface PriorCounts {
  /** Samples of instances with a prior. */
  readonly n: number;
  /** Of those, samples whose prior is wrong (the prior misleads). */
  readonly misleading: number;
  /** Of the misleading ones: answered the prior / answered correctly / anything else (incl. no answer). */
  readonly answeredPrior: number;
  readonly correct: number;
  readonly other: number;
  /** answeredPrior / misleading (NaN when there is none). */
  readonly priorRate: number;
  /** correct / misleading: accuracy where only the image gives the answer (NaN when none). */
  readonly accuracyAgainstPrior: number;
  /** Samples whose prior is right, and how many of those are correct. */
  readonly agreeing: number;
  readonly correctWhenPriorRight: number;
}

/** Counts of prior answers among `samples` (see PriorCounts). */
export function priorCounts(samples: readonly PriorSample[]): PriorCounts {
  let n = 0;
  let misleading = 0;
  let answeredPrior = 0;
  let correct = 0;
  let agreeing = 0;
  let correctWhenPriorRight = 0;
  for (const s of samples) {
    if (s.priorAnswer === undefined) continue;
    n++;
    const got = extractAnswer(s.response, s.answer)?.text ?? null;
    const isGold = got !== null && isEquivalent(got, s.answer);
    if (isEquivalent(s.priorAnswer, s.answer) || isEquivalent(s.answer, s.priorAnswer)) {
      agreeing++;
      if (isGold) correctWhenPriorRight++;
      continue;
    }
    misleading++;
    if (isGold) correct++;
    else if (got !== null && isEquivalent(got, s.priorAnswer)) answeredPrior++;
  }
  return {
    n,
    misleading,
    answeredPrior,
    correct,
    other: misleading - answeredPrior - correct,
    priorRate: misleading ? answeredPrior / misleading : NaN,
    accuracyAgainstPrior: misleading ? correct / misleading : NaN,
    agreeing,
    correctWhenPriorRight,
  };
}
