// Large renderings for people: a PNG of the requested size, from the same scene the model sees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { generateSuite, renderPng } from '../../src/tasks/index.ts';

test('renderPng draws a scene as a PNG of the requested size', async () => {
  const [x] = generateSuite({ n: 1, seed: 0 });
  const png = await renderPng(x.scene, 256);
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  const meta = await sharp(png).metadata();
  assert.equal(meta.width, 256);
  assert.equal(meta.height, 256);
  await assert.rejects(renderPng(x.scene, 8), /render size/);
});
