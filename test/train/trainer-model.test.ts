/**
 * The trainer on the real `tiny` model: every algorithm's two-step run through the CLI's own
 * code path, and exact resume after a real SIGKILL of a child `pgpo train` process.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ALGORITHMS, resolveConfig } from '../../src/train/config.ts';
import { RunDir, runMetrics } from '../../src/train/run-dir.ts';
import { loadProblems, policyFactory, reward } from '../../src/train/sources.ts';
import { train } from '../../src/train/trainer.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pgpo.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'pgpo-tiny-'));
const quiet = { log: () => {}, progressStream: { write: () => true } };

test('every algorithm runs two steps on the tiny model and logs its metrics', async () => {
  for (const algo of ALGORITHMS) {
    const config = resolveConfig({ preset: 'tiny', algo, overrides: [['trainer.log_rollouts_freq', '1'], ['algorithm.online_filtering', 'false']] });
    const problems = await loadProblems(config, 'train');
    const out = tmp();
    const res = await train({ config, out, factory: policyFactory, problems, reward: reward(), ...quiet });
    assert.equal(res.stopped, 'done', algo);
    const m = new RunDir(out).readMetrics();
    assert.deepEqual(m.map((r) => r.step), [1, 2], algo);
    for (const key of ['reward', 'accuracy', 'entropy', 'response_length', 'time_sample', 'time_update']) assert.equal(typeof m[1][key], 'number', `${algo}: ${key}`);
    if (algo === 'pgpo') assert.equal(typeof m[1].dep_top10_share, 'number');
    assert.ok(existsSync(join(out, 'checkpoints', 'step-000002', 'trainer.json')), algo);
  }
});

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
}

const strip = (ms: Array<Record<string, unknown>>) => ms.map(runMetrics);

test('a run killed with SIGKILL and resumed equals an uninterrupted run', async () => {
  const common = ['--preset', 'tiny', '--algo', 'pgpo', 'trainer.total_steps=5', 'trainer.save_freq=1', 'algorithm.online_filtering=false', 'trainer.log_rollouts_freq=0'];
  const a = tmp();
  const ra = cli(['train', '--out', a, ...common]);
  assert.equal(ra.status, 0, ra.stderr);

  const b = tmp();
  const child = spawn(process.execPath, [BIN, 'train', '--out', b, ...common], { stdio: 'ignore', env: { ...process.env, CI: 'true' } });
  const rd = new RunDir(b);
  const killedAt = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const latest = rd.latest();
      if (latest && latest.step >= 2) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve(latest.step);
      }
    }, 20);
    child.on('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`child exited (${code}) before it could be killed`));
    });
  });
  await new Promise((r) => child.once('exit', r));
  assert.ok(killedAt < 5, 'killed before the end');

  const rb = cli(['train', '--resume', b]);
  assert.equal(rb.status, 0, rb.stderr);
  assert.match(rb.stderr, /resuming .* from step \d/);
  assert.deepEqual(strip(rd.readMetrics()), strip(new RunDir(a).readMetrics()));
  const weights = (dir: string) => readFileSync(join(dir, 'checkpoints', 'step-000005', 'policy', 'model.safetensors'));
  assert.ok(weights(a).equals(weights(b)), 'final weights are bit-identical');
});

test('config errors name the key and exit 2 before anything runs', () => {
  const out = tmp();
  const r = cli(['train', '--preset', 'tiny', '--out', out, 'algorithm.pgpo.tua=0.3']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown config key "algorithm\.pgpo\.tua".*known keys under algorithm\.pgpo: .*tau/);
  const r2 = cli(['train', '--preset', 'tiny', '--out', out, 'worker.rollout.temperature=-1']);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /worker\.rollout\.temperature.*command line/);
  assert.ok(!existsSync(join(out, 'config.yaml')), 'nothing written');
});

test('the NaN guard stops a diverging run on the real model, with the reason', () => {
  const out = tmp();
  // an absurd learning rate overflows the weights after the first update: the loss becomes NaN
  const r = cli(['train', '--preset', 'tiny', '--algo', 'dapo', '--out', out, 'trainer.total_steps=8', 'trainer.max_nonfinite_in_row=2', 'worker.actor.optim.lr=1e30', 'worker.actor.max_grad_norm=null', 'algorithm.online_filtering=false']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /stopped after 2 steps in a row with a non-finite loss or gradient/);
  const m = new RunDir(out).readMetrics();
  assert.ok(m.length < 8, `stopped early (${m.length} steps)`);
  assert.equal(m[m.length - 1].nonfinite_skips, 2);
});
