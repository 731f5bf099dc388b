/**
 * Where a wrong answer goes wrong, read off the house format: the gold solution's `<think>` part
 * opens with the readings (`A=80 B=40`, the given values by name) and then computes. A sample
 * whose readings all equal the gold ones but whose answer is wrong erred in the computation; one
 * with a reading that differs misread (from the image or the text). This is what tells perception
 * errors from reasoning errors in docs/results.md.
 */

export type ErrorClass = 'correct' | 'computation' | 'misread' | 'unformatted';
export const ERROR_CLASSES: readonly ErrorClass[] = ['correct', 'computation', 'misread', 'unformatted'];

/**
 * The text inside a response's first `<think>` part; null when there is none. `unclosed` also takes
 * a part the response never closed (to its end): a reading probe scores what was written.
 */
export function thinkPart(response: string, o: { unclosed?: boolean } = {}): string | null {
  const m = (o.unclosed ? /<think>([\s\S]*?)(?:<\/think>|$)/ : /<think>([\s\S]*?)<\/think>/).exec(response);
  return m ? m[1] : null;
}

/** `name=value` readings of a `<think>` part, in order; null when there is no `<think>…</think>`. */
export function readings(response: string): string[] | null {
  const part = thinkPart(response);
  if (part === null) return null;
  return part.match(/(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*=-?\d+(?:\.\d+)?/g) ?? [];
}

/**
 * The class of one sample: `correct` if the reward's accuracy says so; else `unformatted` without
 * a `<think>` part, `computation` if its readings equal the gold solution's (same names and
 * values, in any order), else `misread`.
 */
export function classifyError(sample: string, goldSolution: string, correct: boolean): ErrorClass {
  if (correct) return 'correct';
  const got = readings(sample);
  if (got === null) return 'unformatted';
  const want = readings(goldSolution) ?? [];
  const key = (xs: string[]) => [...xs].sort().join(' ');
  return key(got) === key(want) ? 'computation' : 'misread';
}
