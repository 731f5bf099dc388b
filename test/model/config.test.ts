import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradTokens, PRESETS, validateConfig, type ModelConfig } from '../../src/model/config.ts';

test('the gradient micro-batch budget: the config, else its preset (checkpoints written before the field), else the scoring budget', () => {
  assert.equal(gradTokens(PRESETS.small), 2048);
  const { gradTokensPerMicroBatch: _drop, ...older } = PRESETS.small.batching;
  assert.equal(gradTokens({ ...PRESETS.small, batching: older }), 2048, 'an old small checkpoint gets the preset value');
  assert.equal(gradTokens({ ...PRESETS.small, preset: 'custom', batching: older } as ModelConfig), 4096);
  assert.equal(gradTokens({ ...PRESETS.small, batching: { ...older, gradTokensPerMicroBatch: 512 } }), 512);
});

test('a non-positive micro-batch budget is rejected, naming the field', () => {
  assert.throws(() => validateConfig({ ...PRESETS.small, batching: { ...PRESETS.small.batching, gradTokensPerMicroBatch: 0 } }), /batching\.gradTokensPerMicroBatch \(0\)/);
  validateConfig(PRESETS.small);
});
