// `pgpo sft --resume` and `pgpo train --resume` in a child process, as a user runs them: the cases that need no training.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configToYaml, resolveConfig } from '../../src/train/config.ts';

const BIN = join(import.meta.dirname, '../../bin/pgpo.js');

for (const [command, stepsKey] of [
  ['sft', 'sft.total_steps'],
  ['train', 'trainer.total_steps'],
] as const) {
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, command, ...args], { encoding: 'utf8' });
  describe(`pgpo ${command} --resume`, () => {
    it('on a directory without config.yaml exits 2 with one line naming it', () => {
      const dir = mkdtempSync(join(tmpdir(), `pgpo-${command}-cli-`));
      const r = run(['--resume', dir]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr, `pgpo ${command}: --resume ${dir}: no config.yaml there (not a run directory)\n`);
    });

    it('on a complete run says so and exits 0 without touching it', () => {
      const dir = mkdtempSync(join(tmpdir(), `pgpo-${command}-cli-`));
      const config = resolveConfig({ preset: 'tiny', overrides: [['data.suite.dir', join(dir, 'suite')]] });
      const n = command === 'sft' ? config.sft.total_steps : config.trainer.total_steps;
      writeFileSync(join(dir, 'config.yaml'), configToYaml(config));
      writeFileSync(join(dir, 'metrics.jsonl'), Array.from({ length: n }, (_, i) => JSON.stringify({ step: i + 1 }) + '\n').join(''));
      const step = `step-${String(n).padStart(6, '0')}`;
      mkdirSync(join(dir, 'checkpoints', step), { recursive: true });
      writeFileSync(join(dir, 'checkpoints', 'latest.json'), JSON.stringify({ step: n, dir: step }) + '\n');
      const before = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
      const r = run(['--resume', dir]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, `${dir} is already complete (${n} of ${n} steps); raise ${stepsKey}=${2 * n} to continue it\n`);
      assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'), before);
    });
  });
}
