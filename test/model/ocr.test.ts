/** The reading head's targets (src/model/ocr.ts): each drawn character lands in the patch and half that hold its glyph centre. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelConfig } from '../../src/model/config.ts';
import { OCR_CLASSES, OCR_OUTPUTS } from '../../src/model/config.ts';
import { ocrTargets } from '../../src/model/ocr.ts';
import { glyphPlacements } from '../../src/tasks/raster.ts';
import { draw } from '../../src/tasks/scene.ts';

const small = modelConfig('small'); // 48 px, 8 px patches: 6 x 6
const K = OCR_CLASSES.length;
const hot = (t: Float32Array) => [...t.keys()].filter((i) => t[i] === 1).map((i) => ({ patch: Math.floor(i / OCR_OUTPUTS), slot: Math.floor((i % OCR_OUTPUTS) / K), ch: OCR_CLASSES[i % K] }));

test('a character marks its class in the patch and half holding its centre; unknown characters and off-image points mark nothing', () => {
  const t = ocrTargets(
    [
      { ch: '7', cx: 2.5, cy: 1.5 },
      { ch: 'b', cx: 13, cy: 9 },
      { ch: '~', cx: 20, cy: 20 },
      { ch: '1', cx: 48, cy: 3 },
    ],
    small,
  );
  assert.equal(t.length, 36 * OCR_OUTPUTS);
  assert.deepEqual(hot(t), [
    { patch: 0, slot: 0, ch: '7' },
    { patch: 7, slot: 1, ch: 'B' },
  ]);
});

test('the digits of a drawn number fall in distinct (patch, half) slots, left to right', () => {
  // 48 px: the font is drawn at 1 pixel per unit, so glyph centres are 4 pixels apart
  for (let x = 0; x < 20; x++) {
    const g = glyphPlacements({ marks: [draw.text(x, 10, '1234', 'left', 'top')] }, 48);
    assert.deepEqual(
      g.map((p) => p.ch),
      ['1', '2', '3', '4'],
    );
    const slots = hot(ocrTargets(g, small)).map((h) => h.patch * 2 + h.slot);
    assert.equal(new Set(slots).size, 4, `x=${x}: ${slots}`);
    assert.deepEqual(
      [...slots].sort((a, b) => a - b),
      slots,
    );
  }
});
