import assert from 'node:assert/strict';
import { test } from 'node:test';
import { priorCounts } from '../../src/eval/prior.ts';

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
