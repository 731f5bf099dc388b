/**
 * The vocabulary of the task suite: families (what a problem stands for), variants (how much of
 * it is only in the image), the draft a family samples, and the finished TaskInstance the
 * trainer consumes. Types only; behaviour lives in the family files, variants.ts and suite.ts.
 */
import type { RgbImage } from '../core/image.ts';
import type { Rng } from '../engine/rng.ts';
import type { Scene } from './scene.ts';

export const FAMILY_NAMES = ['geometry', 'chart', 'counting', 'choice', 'arithmetic'] as const;
export type FamilyName = (typeof FAMILY_NAMES)[number];

/** MathVerse's five multimodal versions, from "the text says it all" to "only the image does". */
export const VARIANT_NAMES = ['text-dominant', 'text-lite', 'vision-intensive', 'vision-dominant', 'vision-only'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

export type Difficulty = 1 | 2 | 3;
export type Split = 'train' | 'test';

/** A quantity the problem gives: always shown in the image, also written in the text or not. */
export interface Given {
  /** Its name in the gold solution's reading part, e.g. `A` in `A=50`. */
  readonly name: string;
  /** Its value as written, e.g. `50`. */
  readonly value: string;
  /** `written`: drawn as digits in the figure; `counted`: a number of objects to count. */
  readonly shown: 'written' | 'counted';
}

/** Multiple-choice options (the `choice` family): values in letter order A, B, C, D. */
export interface Options {
  readonly values: readonly string[];
  readonly correct: number;
}

/** What a family samples: one problem, before a variant decides what the text repeats. */
export interface Draft {
  readonly kind: string;
  /**
   * The problem's meaning, without layout jitter or variant: two drafts with equal keys are the
   * same problem. It decides the train/test split, so equal problems never cross splits.
   */
  readonly key: unknown;
  readonly givens: readonly Given[];
  readonly answer: string;
  /** One short sentence describing the figure; only the text-dominant variant says it. */
  readonly describe: string;
  /** A sentence stating the given values that the text repeats ('' for none). */
  readonly state: (shown: readonly Given[]) => string;
  /** The question, e.g. `Find the missing angle.` */
  readonly question: string;
  /** The question as drawn in the image for vision-only (≤ 8 characters), e.g. `FIND ?`. */
  readonly imageQuestion: string;
  /** The computation after the readings in the gold solution, e.g. `180-50-60=70` ('' if none). */
  readonly compute: string;
  readonly options?: Options;
  readonly scene: (show: SceneShow) => Scene;
}

export interface SceneShow {
  /** Draw the question (`imageQuestion`) in the image: vision-only. */
  readonly question: boolean;
  /** Draw the multiple-choice options in the image: vision-dominant and vision-only. */
  readonly options: boolean;
}

export interface Family {
  readonly name: FamilyName;
  /** The benchmarks it stands for, for people. */
  readonly after: string;
  /** The kinds of problem this family draws at a difficulty. */
  readonly kinds: (difficulty: Difficulty) => readonly string[];
  readonly sample: (rng: Rng, difficulty: Difficulty, kind: string) => Draft;
}

/** A given, with whether this instance's problem text also writes it. */
export interface ShownGiven extends Given {
  readonly inText: boolean;
}

export interface TaskInstance {
  /** Content hash (16 hex) of everything that defines the instance except the image size. */
  readonly id: string;
  /** Hash of the problem's meaning, shared by all its variants; decides its split. */
  readonly problemKey: string;
  readonly family: FamilyName;
  readonly variant: VariantName;
  readonly kind: string;
  readonly difficulty: Difficulty;
  readonly split: Split;
  /** Model-facing text with one `<image>` marker, e.g. `<image>Find the missing angle.` */
  readonly problem: string;
  readonly answer: string;
  /** Gold response in the house format: `<think>READINGS COMPUTATION</think> \boxed{ANSWER}`. */
  readonly solution: string;
  readonly image: RgbImage;
  /** The figure, for re-rendering at any size (`renderPng`). */
  readonly scene: Scene;
  readonly givens: readonly ShownGiven[];
  /** Values the image shows, in the order the solution reads them. */
  readonly imageValues: readonly string[];
  /** Those of `imageValues` the problem text also writes (text-dominant: all; vision-*: fewer). */
  readonly textValues: readonly string[];
  /** Multiple-choice options, and whether they are drawn in the image or written in the text. */
  readonly options?: Options & { readonly inImage: boolean };
  /** Ladder world only (src/tasks/ladder.ts): the difficulty rung, 1..5 (`difficulty` stays 1 there). */
  readonly rung?: number;
  /**
   * Ladder world only, on kinds with a language prior: the answer the prior gives without looking
   * (e.g. `C` for "the answer is usually C"); equal to `answer` on a designed share per rung.
   */
  readonly priorAnswer?: string;
}
