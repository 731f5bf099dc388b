/**
 * What the trainer trains on: problems with an image, a text, a checkable answer, and (for the
 * generated suite) the family and variant they stand for. The order in which a run visits them
 * is a pure function of (seed, cursor): epoch e is a seeded permutation, so a resumed run picks
 * up exactly where the checkpoint's cursor says.
 */
import type { RgbImage } from '../data/image.ts';
import { Rng } from '../engine/rng.ts';
import type { ReadingTarget } from './policy.ts';

export interface Problem {
  readonly id: string;
  /** Text with one `<image>` marker. */
  readonly problem: string;
  readonly answer: string;
  readonly image: RgbImage;
  readonly family: string;
  readonly variant: string;
  /** The problem behind this instance, shared by its variants (generated suite; datasets with a problem_key column). */
  readonly problemKey?: string;
  /** Gold response in the house format (generated suite only; used by SFT). */
  readonly solution?: string;
  /** Values the image shows / the text also writes (generated suite only; used by analyses). */
  readonly imageValues?: readonly string[];
  readonly textValues?: readonly string[];
  /** What the image writes, character by character at its glyph centre (generated suite only; SFT's reading loss). */
  readonly glyphs?: ReadingTarget['glyphs'];
  /** Ladder world only: the difficulty rung, and what the language prior answers (kinds with a prior). */
  readonly rung?: number;
  readonly priorAnswer?: string;
}

/** Scores a response text against the answer (src/reward's computeReward). */
export type RewardFn = (response: string, answer: string) => { accuracy: number; format: number; reward: number };

export class ProblemStream {
  private epoch = -1;
  private order: number[] = [];

  constructor(
    readonly problems: readonly Problem[],
    private readonly seed: number | string,
  ) {
    if (problems.length === 0) throw new Error('the training set is empty');
  }

  /** The problem visited at global position `cursor` (0, 1, 2, ... across epochs). */
  at(cursor: number): Problem {
    const n = this.problems.length;
    const e = Math.floor(cursor / n);
    if (e !== this.epoch) {
      this.order = Rng.seeded(this.seed).fork(`epoch:${e}`).permutation(n);
      this.epoch = e;
    }
    return this.problems[this.order[cursor % n]];
  }
}
