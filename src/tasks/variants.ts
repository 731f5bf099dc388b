/**
 * MathVerse-style variants: one sampled problem, five texts. They move the given values (and,
 * for multiple choice, the options and the question) between the text and the image, so how
 * much an answer depends on the image is known for every instance. The figure is the same in
 * all five, except that vision-only also draws the question and vision-dominant/vision-only
 * draw the options.
 *
 * | variant          | describes figure | values in text     | question in | options in |
 * |------------------|------------------|--------------------|-------------|------------|
 * | text-dominant    | yes              | all                | text        | text       |
 * | text-lite        | no               | all                | text        | text       |
 * | vision-intensive | no               | all but ceil(n/2)  | text        | text       |
 * | vision-dominant  | no               | none               | text        | image      |
 * | vision-only      | no               | none               | image       | image      |
 */
import type { Rng } from '../engine/rng.ts';
import { IMAGE_MARKER } from '../core/image.ts';
import type { Draft, SceneShow, VariantName } from './types.ts';

export const VISION_ONLY_TEXT = 'Answer the question in the image.';
const OPTION_LETTERS = ['A', 'B', 'C', 'D', 'E', 'F'];

export const VARIANT_DESCRIPTIONS: Record<VariantName, string> = {
  'text-dominant': 'the text describes the figure and repeats every given value; the image is redundant',
  'text-lite': 'the text repeats every given value but no longer describes the figure',
  'vision-intensive': 'the text repeats only some values (ceil(n/2) of n are withheld, chosen at random); the rest must be read from the image',
  'vision-dominant': 'the text asks the question but gives no values; options, if any, are only in the image',
  'vision-only': 'the text only says to answer the question in the image; question, values and options are all drawn',
};

export interface Composed {
  readonly problem: string;
  /** Per given of the draft: does the problem text write its value? */
  readonly inText: readonly boolean[];
  readonly show: SceneShow;
}

export function optionLetter(i: number): string {
  return OPTION_LETTERS[i];
}

export function composeProblem(draft: Draft, variant: VariantName, rng: Rng): Composed {
  const n = draft.givens.length;
  let inText: boolean[];
  switch (variant) {
    case 'text-dominant':
    case 'text-lite':
      inText = draft.givens.map(() => true);
      break;
    case 'vision-intensive': {
      const withheld = new Set(rng.permutation(n).slice(0, Math.ceil(n / 2)));
      inText = draft.givens.map((_, i) => !withheld.has(i));
      break;
    }
    case 'vision-dominant':
    case 'vision-only':
      inText = draft.givens.map(() => false);
      break;
  }
  const optionsInImage = variant === 'vision-dominant' || variant === 'vision-only';
  const show: SceneShow = { question: variant === 'vision-only', options: optionsInImage && draft.options !== undefined };
  if (variant === 'vision-only') return { problem: IMAGE_MARKER + VISION_ONLY_TEXT, inText, show };

  const parts: string[] = [];
  if (variant === 'text-dominant') parts.push(draft.describe);
  parts.push(draft.state(draft.givens.filter((_, i) => inText[i])));
  parts.push(draft.question);
  if (draft.options) {
    parts.push(
      optionsInImage
        ? `Pick ${OPTION_LETTERS.slice(0, draft.options.values.length)
            .join('-')
            .replace(/-(?=[^-]*$)/, ' or ')
            .replaceAll('-', ', ')}.`
        : draft.options.values.map((v, i) => `${OPTION_LETTERS[i]}:${v}`).join(' '),
    );
  }
  return { problem: IMAGE_MARKER + parts.filter((p) => p !== '').join(' '), inText, show };
}

/** The gold response: readings first (`A=50 B=60`), then the computation, then the answer. */
export function goldSolution(draft: Draft): string {
  const read = draft.givens.map((g) => `${g.name}=${g.value}`).join(' ');
  const think = [read, draft.compute].filter((s) => s !== '').join(' ');
  return `<think>${think}</think> \\boxed{${draft.answer}}`;
}
