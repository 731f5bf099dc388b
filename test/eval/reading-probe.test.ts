import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blankLike, readingProbe, scoreDrillResponse, valuesWritten } from '../../src/eval/reading-probe.ts';
import { makeRgbImage } from '../../src/core/image.ts';
import { NativePolicy } from '../../src/model/native/policy.ts';

test('scoreDrillResponse: numbers and digits by cell position; empty cells are not scored', () => {
  const cells = ['4', '-', '38', '125', '-', '-'];
  assert.deepEqual(scoreDrillResponse(cells, '<think>4 - 38 125 - -</think> \\boxed{3}'), { numbers: 3, numbersRight: 3, digits: 6, digitsRight: 6 });
  // a shifted answer reads nothing right from the shift on; a wrong last digit keeps the others
  assert.deepEqual(scoreDrillResponse(cells, '<think>4 38 125 - - -</think>'), { numbers: 3, numbersRight: 1, digits: 6, digitsRight: 1 });
  assert.deepEqual(scoreDrillResponse(cells, '<think>4 - 39 120 - -'), { numbers: 3, numbersRight: 1, digits: 6, digitsRight: 4 });
  assert.deepEqual(scoreDrillResponse(cells, 'no think at all'), { numbers: 3, numbersRight: 0, digits: 6, digitsRight: 0 });
});

test('valuesWritten counts whole numbers only, a negative value by its digits; blankLike is white and leaves the image alone', () => {
  assert.equal(valuesWritten(['12', '3', '45'], '<think>x=12 y=123 12+123=135</think>'), 1);
  assert.equal(valuesWritten(['12', '3'], 'x=12 y=3'), 2);
  assert.equal(valuesWritten(['-21', '57'], '<think>57-21=36</think>'), 2);
  const img = makeRgbImage(2, 2, new Uint8Array(12).fill(7));
  assert.deepEqual([...blankLike(img).data], new Array(12).fill(255));
  assert.equal(img.data[0], 7, 'the original is untouched');
});

test('readingProbe on a fresh small policy: both views of each drill set and rung, rates in [0, 1], counts consistent', async () => {
  const policy = await NativePolicy.create('small', 1);
  const res = await readingProbe(policy, { drills: 4, rungs: [1, 3], problems: 25, k: 1, seed: 5, maxNewTokens: 8 });
  policy.dispose();
  assert.deepEqual(
    res.drills.map((d) => d.image),
    ['image', 'blank'],
  );
  assert.deepEqual(
    res.rungs.map((r) => `${r.rung}:${r.image}`),
    ['1:image', '1:blank', '3:image', '3:blank'],
  );
  for (const r of res.rungs) {
    assert.equal(r.samples, 25);
    // 25 problems span the five variants: some values only in the figure, some in the text
    for (const x of [r.accuracy, r.format, r.figureValuesWritten, r.textValuesWritten]) assert.ok(x >= 0 && x <= 1, `${x}`);
    assert.ok(r.priorAnswered <= r.priorWrongSamples && r.priorWrongSamples <= r.samples);
  }
  for (const d of res.drills) assert.ok(d.numberAccuracy >= 0 && d.numberAccuracy <= 1 && d.digitAccuracy >= 0 && d.digitAccuracy <= 1);
});
