/**
 * Answer extraction: where in a model response the final answer sits. In order of trust: the
 * last `\boxed{…}` (braces matched, so `\boxed{\frac{1}{2}}` is whole), the last
 * `<answer>…</answer>`, and — only when the gold answer is a multiple-choice letter — a letter
 * the response states ("the answer is (B)"). Plain string scanning, no regex backtracking over
 * the whole response: the trainer calls this thousands of times per step.
 */

const BOX_COMMANDS = ['\\boxed', '\\fbox'] as const;

/**
 * The content of the last `\boxed{…}` (or `\fbox{…}`, or `\boxed 5`), or null if there is none
 * or its braces never close. `from` limits the search to text at or after that index.
 */
export function lastBoxed(text: string, from = 0): string | null {
  let best = -1;
  let cmd = '';
  for (const c of BOX_COMMANDS) {
    const i = text.lastIndexOf(c);
    if (i > best) {
      best = i;
      cmd = c;
    }
  }
  if (best < from) return null;
  let i = best + cmd.length;
  if (text[i] !== '{' && text[i] !== ' ') return null; // `\boxedx` is another command
  while (text[i] === ' ') i++;
  if (text[i] === '{') return matchBraces(text, i);
  // `\boxed 5`: mathruler accepts a space form; its content runs to the next space or `$`.
  let j = i;
  while (j < text.length && text[j] !== ' ' && text[j] !== '$' && text[j] !== '\n') j++;
  return j > i ? text.slice(i, j) : null;
}

/** The text between the `{` at `open` and its matching `}`, or null if it never closes. */
export function matchBraces(text: string, open: number): string | null {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 92 /* \ */) {
      i++; // an escaped brace (`\{`) neither opens nor closes
      continue;
    }
    if (ch === 123 /* { */) depth++;
    else if (ch === 125 /* } */ && --depth === 0) return text.slice(open + 1, i);
  }
  return null;
}

/** The content of the last complete `<answer>…</answer>`, trimmed, or null. */
export function lastAnswerTag(text: string): string | null {
  const close = text.lastIndexOf('</answer>');
  if (close < 0) return null;
  const open = text.lastIndexOf('<answer>', close);
  if (open < 0) return null;
  return text.slice(open + '<answer>'.length, close).trim();
}

/** Is the gold answer a multiple-choice letter (A-F)? */
export function isChoiceLetter(answer: string): boolean {
  return answer.length === 1 && answer >= 'A' && answer <= 'F';
}

const STATED_LETTER = /(?:answer|option|choice)\s*(?:is|:)?\s*:?\s*\(?([A-F])\)?(?![A-Za-z])/gi;

/**
 * A multiple-choice letter stated without a box: "The answer is (B)", "Answer: C", or a response
 * that is nothing but the letter. The last statement wins. Null when none.
 */
export function statedLetter(text: string): string | null {
  const bare = /^\s*\(?([A-F])\)?[.:]?\s*$/.exec(text);
  if (bare) return bare[1];
  let last: string | null = null;
  for (const m of text.matchAll(STATED_LETTER)) last = m[1].toUpperCase();
  return last;
}

export type ExtractedFrom = 'boxed' | 'answer-tag' | 'letter';

export interface Extracted {
  readonly text: string;
  readonly from: ExtractedFrom;
}

/**
 * The final answer of a response, or null when it states none. `gold` is only consulted to
 * decide whether a bare multiple-choice letter counts as an answer.
 */
export function extractAnswer(response: string, gold?: string): Extracted | null {
  const boxed = lastBoxed(response);
  if (boxed !== null) return { text: boxed, from: 'boxed' };
  const tagged = lastAnswerTag(response);
  if (tagged !== null) return { text: tagged, from: 'answer-tag' };
  if (gold !== undefined && isChoiceLetter(gold.trim())) {
    const letter = statedLetter(response);
    if (letter !== null) return { text: letter, from: 'letter' };
  }
  return null;
}
