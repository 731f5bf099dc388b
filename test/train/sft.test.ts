import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeRgbImage } from '../../src/data/image.ts';
import { resolveConfig } from '../../src/train/config.ts';
import type { Problem } from '../../src/train/problems.ts';
import { RunDir } from '../../src/train/run-dir.ts';
import { sft } from '../../src/train/sft.ts';
import { toyFactory } from './toy-policy.ts';

const problems: Problem[] = Array.from({ length: 6 }, (_, i) => ({ id: `p${i}`, problem: '<image>q', answer: 'a', solution: 'ab', image: makeRgbImage(8, 8), family: 'f', variant: 'v' }));
const quiet = { log: () => {}, progressStream: { write: () => true } };

test('SFT lowers the loss on the gold solutions and checkpoints; resume continues', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pgpo-sft-'));
  const config = resolveConfig({ preset: 'tiny', overrides: [['sft.total_steps', '30'], ['sft.lr', '0.1'], ['sft.save_freq', '10']] });
  const ctl = new AbortController();
  let n = 0;
  const stream = { write: () => (++n === 12 && ctl.abort(), true) };
  const first = await sft({ config, out, factory: toyFactory, problems, signal: ctl.signal, ...quiet, progressStream: stream });
  assert.equal(first.stopped, 'interrupted');
  assert.equal(first.state.step, 12);
  const second = await sft({ config, out, factory: toyFactory, problems, resume: true, ...quiet });
  assert.equal(second.state.step, 30);
  const m = new RunDir(out).readMetrics();
  assert.deepEqual(m.map((x) => x.step), Array.from({ length: 30 }, (_, i) => i + 1));
  assert.ok((m[29].loss as number) < 0.5 * (m[0].loss as number), `loss ${m[0].loss} -> ${m[29].loss}`);
});
