/**
 * Does the policy read? A probe that separates reading from guessing, by asking the same
 * questions with the real image and with a blank one:
 *  - reading drills (src/tasks/drills.ts: numbers in six cells, answered cell by cell), greedy:
 *    the share of numbers and of digits written right;
 *  - ladder problems per rung, sampled at T = 1: accuracy and format as the reward scores them,
 *    the share of the values shown only in the figure that the response writes (a value counts
 *    when its digits appear as a whole number anywhere in the response, its sign ignored), the
 *    same for values the problem text also gives (copying, not reading), and how often a
 *    misleading prior is answered (as src/eval/prior.ts counts it).
 * A policy that reads writes the figure's values far more often with the figure than without it.
 * Accuracy and prior answers can fall without the figure for other reasons too (a white image is
 * an input training never showed; the figure also shows how many bars or options there are), so
 * the written values are the measure of reading, the rest context.
 */
import { makeRgbImage, type RgbImage } from '../core/image.ts';
import type { Policy } from '../core/policy.ts';
import { Rng } from '../engine/rng.ts';
import { computeReward } from '../reward/index.ts';
import { readingDrill } from '../tasks/drills.ts';
import type { Rung } from '../tasks/ladder.ts';
import { ladderAt } from '../tasks/suite.ts';
import type { TaskInstance } from '../tasks/types.ts';
import { priorCounts } from './prior.ts';
import { thinkPart } from './errors.ts';

export interface DrillScore {
  readonly numbers: number;
  readonly numbersRight: number;
  readonly digits: number;
  readonly digitsRight: number;
}

/** The `<think>` part of a response, split into words ('' when there is none). */
function thinkWords(text: string): string[] {
  const part = thinkPart(text, { unclosed: true });
  return part === null ? [] : part.trim().split(/\s+/);
}

/**
 * A reading-drill response against the drill's cells (`4 - 38 ...`): per cell that holds a number,
 * whether the response's word at that position is the number, and how many of its digits (left to
 * right) match.
 */
export function scoreDrillResponse(cells: readonly string[], response: string): DrillScore {
  const got = thinkWords(response);
  let [numbers, numbersRight, digits, digitsRight] = [0, 0, 0, 0];
  cells.forEach((want, j) => {
    if (want === '-') return;
    numbers++;
    if (got[j] === want) numbersRight++;
    for (let k = 0; k < want.length; k++) {
      digits++;
      if (got[j]?.[k] === want[k]) digitsRight++;
    }
  });
  return { numbers, numbersRight, digits, digitsRight };
}

/**
 * How many of `values` the text writes as whole numbers (`12` counts in `x=12+3`, not in `123`);
 * a value's sign is ignored (`-21` counts as written in `57-21`, where the minus is the operator).
 */
export function valuesWritten(values: readonly string[], text: string): number {
  const written = new Set(text.match(/\d+/g) ?? []);
  return values.filter((v) => written.has(v.replace(/^-/, ''))).length;
}

/** A white image of the same size: what a policy that ignores the figure sees no differently. */
export function blankLike(img: RgbImage): RgbImage {
  return makeRgbImage(img.width, img.height, new Uint8Array(img.width * img.height * 3).fill(255));
}

export type ProbeImage = 'image' | 'blank';

export interface DrillProbe {
  readonly image: ProbeImage;
  readonly n: number;
  /** Numbers written right, of the cells that hold one. */
  readonly numberAccuracy: number;
  readonly digitAccuracy: number;
}

export interface RungProbe {
  readonly image: ProbeImage;
  readonly rung: Rung;
  readonly problems: number;
  readonly samples: number;
  readonly accuracy: number;
  /** Samples in the house format (the reward's format score). */
  readonly format: number;
  /** Of the values only the figure shows (`imageValues` not in `textValues`), the share the responses write. */
  readonly figureValuesWritten: number;
  /** Of the values the problem text gives too (`textValues`), the share the responses write. */
  readonly textValuesWritten: number;
  /** Samples answering the family's prior where the prior is wrong, and how many such samples there were. */
  readonly priorAnswered: number;
  readonly priorWrongSamples: number;
}

export interface ProbeOptions {
  /** Reading drills (0: none). */
  readonly drills: number;
  /** Most numbers a drill holds (sft.reading_drill_numbers; 6: the standard drill). */
  readonly drillNumbers?: number;
  /** Ladder rungs to probe and problems per rung. */
  readonly rungs: readonly Rung[];
  readonly problems: number;
  /** Samples per problem at T = 1. */
  readonly k: number;
  readonly seed: number;
  readonly maxNewTokens: number;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);

/** Runs the probe: each drill set and each rung with the real figures, then with blank ones. */
export async function readingProbe(policy: Policy, o: ProbeOptions): Promise<{ drills: DrillProbe[]; rungs: RungProbe[] }> {
  const drills: DrillProbe[] = [];
  const rungs: RungProbe[] = [];
  const views: ProbeImage[] = ['image', 'blank'];
  if (o.drills > 0) {
    const ds = Array.from({ length: o.drills }, (_, i) => readingDrill(Rng.seeded(o.seed).fork(`probe-drill:${i}`), policy.imageSize, o.drillNumbers));
    for (const view of views) {
      const prompts = ds.map((d) => ({ image: view === 'image' ? d.image : blankLike(d.image), prompt: policy.encodePrompt(d.problem) }));
      const rolls = await policy.sample(prompts, { n: 1, temperature: 1, topP: 1, greedy: true, maxNewTokens: o.maxNewTokens, seed: o.seed });
      const total = { numbers: 0, numbersRight: 0, digits: 0, digitsRight: 0 };
      rolls.forEach((r, i) => {
        const s = scoreDrillResponse(thinkWords(ds[i].solution), policy.decode(r.tokens));
        for (const key of Object.keys(total) as (keyof DrillScore)[]) total[key] += s[key];
      });
      drills.push({ image: view, n: ds.length, numberAccuracy: ratio(total.numbersRight, total.numbers), digitAccuracy: ratio(total.digitsRight, total.digits) });
    }
  }
  for (const rung of o.rungs) {
    // test-split problems (SFT never trains on them) of the probe's own stream; its seed differs from the
    // suite's test set, but problems may coincide: nothing is chosen on the probe
    const insts: TaskInstance[] = Array.from({ length: o.problems }, (_, i) =>
      ladderAt({ world: 'ladder', split: 'test', rungs: [rung], seed: o.seed, n: o.problems, imageSize: policy.imageSize }, i),
    );
    for (const view of views) {
      const prompts = insts.map((t) => ({ image: view === 'image' ? t.image : blankLike(t.image), prompt: policy.encodePrompt(t.problem) }));
      const rolls = await policy.sample(prompts, { n: o.k, temperature: 1, topP: 1, maxNewTokens: o.maxNewTokens, seed: o.seed });
      const samples = rolls.map((r, j) => ({ t: insts[Math.floor(j / o.k)], text: policy.decode(r.tokens) }));
      let [right, formatted] = [0, 0];
      const [fig, txt] = [
        { written: 0, values: 0 },
        { written: 0, values: 0 },
      ];
      for (const { t, text } of samples) {
        const score = computeReward(text, t.answer);
        right += score.accuracy;
        formatted += score.format;
        const figureOnly = t.imageValues.filter((v) => !t.textValues.includes(v));
        fig.written += valuesWritten(figureOnly, text);
        fig.values += figureOnly.length;
        txt.written += valuesWritten(t.textValues, text);
        txt.values += t.textValues.length;
      }
      const prior = priorCounts(samples.map(({ t, text }) => ({ answer: t.answer, priorAnswer: t.priorAnswer, response: text })));
      rungs.push({
        image: view,
        rung,
        problems: insts.length,
        samples: rolls.length,
        accuracy: ratio(right, rolls.length),
        format: ratio(formatted, rolls.length),
        figureValuesWritten: ratio(fig.written, fig.values),
        textValuesWritten: ratio(txt.written, txt.values),
        priorAnswered: prior.answeredPrior,
        priorWrongSamples: prior.misleading,
      });
    }
  }
  return { drills, rungs };
}
