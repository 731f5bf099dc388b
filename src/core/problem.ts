/**
 * What RL and evaluation train and score on: a problem with an image, a text and a checkable
 * answer, and the reward function that scores a response against that answer.
 */
import type { RgbImage } from './image.ts';
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
