import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeRgbImage } from '../../src/core/image.ts';
import { resolveConfig } from '../../src/train/config.ts';
import type { Problem } from '../../src/core/problem.ts';
import { RunDir } from '../../src/train/run-dir.ts';
import { drillAt, drillRungs, sft, sftBatchShares } from '../../src/train/sft.ts';
import { policyFactory } from '../../src/model/index.ts';
import { suiteInstances } from '../../src/train/sources.ts';
import { toyFactory } from './toy-policy.ts';

const problems: Problem[] = Array.from({ length: 6 }, (_, i) => ({ id: `p${i}`, problem: '<image>q', answer: 'a', solution: 'ab', image: makeRgbImage(8, 8), family: 'f', variant: 'v' }));
const quiet = { log: () => {}, progressStream: { write: () => true } };

test('SFT lowers the loss on the gold solutions and checkpoints; resume continues', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pgpo-sft-'));
  // the toy policy's 8-pixel images and tiny alphabet cannot take drills (tested below on the real model)
  const config = resolveConfig({
    preset: 'tiny',
    overrides: [
      ['sft.total_steps', '30'],
      ['sft.lr', '0.1'],
      ['sft.save_freq', '10'],
      ['sft.reading_drills', '0'],
      ['sft.arithmetic_drills', '0'],
    ],
  });
  const ctl = new AbortController();
  let n = 0;
  const stream = { write: () => (++n === 12 && ctl.abort(), true) };
  const first = await sft({ config, out, factory: toyFactory, problems, signal: ctl.signal, ...quiet, progressStream: stream });
  assert.equal(first.stopped, 'interrupted');
  assert.equal(first.state.step, 12);
  const second = await sft({ config, out, factory: toyFactory, problems, resume: true, ...quiet });
  assert.equal(second.state.step, 30);
  const m = new RunDir(out).readMetrics();
  assert.deepEqual(
    m.map((x) => x.step),
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  assert.ok((m[29].loss as number) < 0.5 * (m[0].loss as number), `loss ${m[0].loss} -> ${m[29].loss}`);
});

test('a batch is task problems plus the configured shares of reading and arithmetic drills', () => {
  const s = resolveConfig({
    overrides: [
      ['sft.batch_size', '32'],
      ['sft.reading_drills', '0.25'],
      ['sft.arithmetic_drills', '0.15'],
    ],
  }).sft;
  assert.deepEqual(sftBatchShares(s), { tasks: 19, reading: 8, arithmetic: 5 });
  assert.throws(
    () =>
      resolveConfig({
        overrides: [
          ['sft.reading_drills', '0.6'],
          ['sft.arithmetic_drills', '0.4'],
        ],
      }),
    /sft\.arithmetic_drills.*must be below 1/,
  );
  // drills are a pure function of (seed, kind, index): resume needs no drill state
  assert.equal(drillAt(1, 'reading', 5, { imageSize: 48 }).solution, drillAt(1, 'reading', 5, { imageSize: 48 }).solution);
  assert.notEqual(drillAt(1, 'reading', 5, { imageSize: 48 }).solution, drillAt(2, 'reading', 5, { imageSize: 48 }).solution);
  // the ladder world's arithmetic drills compute at every rung the run uses; the classic world keeps its own
  assert.equal(drillRungs(resolveConfig({}).data.suite), undefined);
  const ladder = resolveConfig({
    overrides: [
      ['data.suite.world', 'ladder'],
      ['data.suite.sft_rungs', '[2,1]'],
      ['data.suite.rl_rungs', '[4]'],
      ['data.suite.test_rungs', '[3,4]'],
    ],
  });
  assert.deepEqual(drillRungs(ladder.data.suite), [1, 2, 3, 4]);
  assert.match(drillAt(1, 'arithmetic', 5, { imageSize: 48, ladder: { rungs: [3], families: ['chart'] } }).problem, /^<image>Compute [0-9]+[+-][0-9]+-[0-9]+\.$/);
});

test('SFT with drills on the tiny model: a reading warm-up step, then the loss of each part of the batch', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pgpo-sft-drills-'));
  const config = resolveConfig({
    preset: 'tiny',
    overrides: [
      ['sft.total_steps', '3'],
      ['sft.batch_size', '6'],
      ['sft.reading_drills', '0.34'],
      ['sft.arithmetic_drills', '0.17'],
      ['sft.reading_warmup_steps', '1'],
    ],
  });
  await sft({ config, out, factory: policyFactory, problems: suiteInstances(config, 'train'), ...quiet });
  const m = new RunDir(out).readMetrics();
  assert.equal(m.length, 3);
  const positive = (x: Record<string, unknown>, k: string) => assert.ok(typeof x[k] === 'number' && Number.isFinite(x[k] as number) && (x[k] as number) > 0, `step ${x.step} ${k}: ${x[k]}`);
  // step 1 is the reading warm-up: the vision encoder's reading loss alone
  positive(m[0], 'loss_ocr');
  for (const k of ['loss', 'loss_task', 'loss_reading', 'loss_arithmetic']) assert.equal(m[0][k], null, k);
  for (const x of m.slice(1)) for (const k of ['loss', 'loss_task', 'loss_reading', 'loss_arithmetic', 'loss_ocr']) positive(x, k);
});
