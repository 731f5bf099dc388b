import assert from 'node:assert/strict';
import { test } from 'node:test';
import { priorCounts } from '../../src/eval/prior.ts';
import { formatEvalTable, summarizeRows } from '../../src/eval/evaluate.ts';

const r = (a: string) => `<think>x=1</think> \\boxed{${a}}`;

test('priorCounts: where the prior misleads, splits samples into prior / correct / other; agreeing ones counted apart', () => {
  const c = priorCounts([
    { answer: 'B', priorAnswer: 'C', response: r('C') }, // answered the prior
    { answer: 'B', priorAnswer: 'C', response: r('B') }, // read the figure
    { answer: 'B', priorAnswer: 'C', response: r('A') }, // neither
    { answer: 'B', priorAnswer: 'C', response: 'no answer' }, // neither
    { answer: 'blue', priorAnswer: 'red', response: r('red') }, // words compare as words
    { answer: '5', priorAnswer: '5', response: r('5') }, // prior right: not a test of reading
    { answer: 'C', priorAnswer: 'C', response: r('A') },
    { answer: '7', response: r('7') }, // no prior: not counted
  ]);
  assert.deepEqual({ ...c }, { n: 7, misleading: 5, answeredPrior: 2, correct: 1, other: 2, priorRate: 2 / 5, accuracyAgainstPrior: 1 / 5, agreeing: 2, correctWhenPriorRight: 1 });
});

test('priorCounts: no prior instances gives NaN rates, not zero', () => {
  const c = priorCounts([{ answer: '3', response: r('3') }]);
  assert.equal(c.n, 0);
  assert.ok(Number.isNaN(c.priorRate) && Number.isNaN(c.accuracyAgainstPrior));
});

test('eval reports on the ladder: accuracy per rung and the share of prior answers, pooled as summarizeRows pools; classic reports unchanged', () => {
  const row = (id: string, rung: number | undefined, correct: number, answeredPrior?: number) => ({
    id,
    family: 'chart',
    variant: 'vision-only',
    correct,
    k: 4,
    sample: '',
    ...(rung !== undefined ? { rung } : {}),
    ...(answeredPrior !== undefined ? { answered_prior: answeredPrior } : {}),
  });
  const s = summarizeRows([row('a', 1, 4), row('b', 1, 2, 1), row('c', 5, 0, 3), row('d', 5, 1)]);
  assert.deepEqual(s.by_rung, { 'rung 1': { accuracy: 0.75, n: 2 }, 'rung 5': { accuracy: 0.125, n: 2 } });
  assert.deepEqual(s.prior, { n: 8, rate: 0.5 });
  assert.deepEqual(s.prior_by_rung, { 'rung 1': { n: 4, rate: 0.25 }, 'rung 5': { n: 4, rate: 0.75 } });
  const table = formatEvalTable([['base', { k: 4, temperature: 1, greedy: false, format: 1, problems: [], ...s }]]);
  assert.match(table, /rung 5\s+12\.5%/);
  assert.match(table, /answered the prior\s+50\.0%/);
  const classic = summarizeRows([row('a', undefined, 4)]);
  assert.equal('by_rung' in classic || 'prior' in classic, false);
  assert.doesNotMatch(formatEvalTable([['base', { k: 4, temperature: 1, greedy: false, format: 1, problems: [], ...classic }]]), /rung|prior/);
});
