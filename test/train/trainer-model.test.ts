/**
 * The trainer on the real `tiny` model: every algorithm's two-step run through the CLI's own
 * code path, and exact resume after a real SIGKILL of a child `pgpo train` or `pgpo sft`
 * process: before the first checkpoint and in the middle of a checkpoint write.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ALGORITHMS, resolveConfig } from '../../src/train/config.ts';
import { RunDir, runMetrics } from '../../src/train/run-dir.ts';
import { loadProblems, policyFactory, reward } from '../../src/train/sources.ts';
import { train } from '../../src/train/trainer.ts';
import type { RewardFn } from '../../src/core/problem.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pgpo.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'pgpo-tiny-'));
const quiet = { log: () => {}, progressStream: { write: () => true } };

test('every algorithm runs two steps on the tiny model and logs its metrics', async () => {
  for (const algo of ALGORITHMS) {
    const config = resolveConfig({
      preset: 'tiny',
      algo,
      overrides: [
        ['trainer.log_rollouts_freq', '1'],
        ['algorithm.online_filtering', 'false'],
      ],
    });
    const problems = await loadProblems(config, 'train');
    const out = tmp();
    const res = await train({ config, out, factory: policyFactory(config), problems, reward: reward(), ...quiet });
    assert.equal(res.stopped, 'done', algo);
    const m = new RunDir(out).readMetrics();
    assert.deepEqual(
      m.map((r) => r.step),
      [1, 2],
      algo,
    );
    for (const key of ['reward', 'accuracy', 'entropy', 'response_length', 'time_sample', 'time_update']) assert.equal(typeof m[1][key], 'number', `${algo}: ${key}`);
    if (algo === 'pgpo') assert.equal(typeof m[1].dep_top10_share, 'number');
    assert.ok(existsSync(join(out, 'checkpoints', 'step-000002', 'trainer.json')), algo);
  }
});

test('worker.actor.optim.logit_scale_lr moves the logit scale at its own rate; 0 keeps it at exactly 1', async () => {
  const run = async (rate: string) => {
    const overrides: Array<[string, string]> = [
      ['algorithm.online_filtering', 'false'],
      ['trainer.log_rollouts_freq', '0'],
      ['worker.actor.optim.logit_scale_lr', rate],
    ];
    const config = resolveConfig({ preset: 'tiny', algo: 'pgpo', overrides });
    const out = tmp();
    // the untrained tiny policy earns no reward; a reward on the response's length parity gives
    // every group a spread, so every step has advantages to learn from
    const parity: RewardFn = (text) => ({ accuracy: text.length % 2, format: 0, reward: text.length % 2 });
    const res = await train({ config, out, factory: policyFactory(config), problems: await loadProblems(config, 'train'), reward: parity, ...quiet });
    assert.equal(res.stopped, 'done');
    const m = new RunDir(out).readMetrics();
    assert.ok(
      m.every((r) => (r.updates as number) > 0 && (r.grad_norm as number) > 0),
      'every step updated',
    );
    const { policy } = await policyFactory(config).load(join(out, 'checkpoints', 'step-000002', 'policy'));
    const w = await (policy as unknown as { weights(): Promise<Map<string, { data: Float32Array }>> }).weights();
    policy.dispose();
    return { scales: m.map((r) => r.logit_scale as number), norm1: m[0].grad_norm as number, scale: w.get('decoder.scale')!.data[0], head: w.get('decoder.head')!.data };
  };
  const held = await run('0');
  assert.deepEqual(held.scales, [1, 1]);
  assert.equal(held.scale, 1);
  // AdamW moves a weight by about its rate per step: two steps at 0.1 take the scale ~0.2 from 1,
  // where the weights' rate (tiny preset's lr) could not have moved it by 0.05
  const moved = await run('0.1');
  assert.ok(Math.abs(moved.scales[1] - 1) > 0.1, `logit_scale ${moved.scales}`);
  assert.equal(moved.scale, moved.scales[1]);
  assert.ok(
    moved.head.some((x, i) => x !== held.head[i]),
    'the weights trained in both runs',
  );
  // at 0 the scale is frozen, not merely given rate 0: its gradient stays out of the clipping norm
  // (as before it existed), so the first step's norm, over the same batch, is smaller
  assert.ok(held.norm1 < moved.norm1, `grad_norm at step 1: ${held.norm1} (held) vs ${moved.norm1}`);
});

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
}

const strip = (ms: Array<Record<string, unknown>>) => ms.map(runMetrics);

type KillPoint = 'checkpoint' | ((rd: RunDir) => boolean);

/**
 * Runs `pgpo args` writing to `dir` and SIGKILLs it at `at`: when the predicate holds (polled), or
 * in the middle of a checkpoint write — stopped (SIGSTOP) as soon as inotify reports a new
 * `.step-N.tmp` folder, killed if the folder is still there (the write unfinished), else let go
 * on to the next one. Resolves with what it saw once the process is dead.
 */
function killAt(args: string[], dir: string, at: KillPoint): Promise<{ step: number | null; midWrite: boolean }> {
  const rd = new RunDir(dir);
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore', env: { ...process.env, CI: 'true' } });
  return new Promise((resolve, reject) => {
    let watcher: FSWatcher | null = null;
    let midWrite = false;
    const kill = () => {
      clearInterval(timer);
      watcher?.close();
      child.kill('SIGKILL');
    };
    const timer = setInterval(() => {
      if (typeof at === 'function') {
        if (at(rd)) kill();
      } else if (!watcher && existsSync(rd.checkpoints)) {
        watcher = watch(rd.checkpoints, (_event, name) => {
          if (!name?.endsWith('.tmp') || child.exitCode !== null) return;
          child.kill('SIGSTOP');
          if (existsSync(join(rd.checkpoints, name))) {
            midWrite = true;
            kill();
          } else child.kill('SIGCONT');
        });
      }
    }, 5);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      watcher?.close();
      if (signal === 'SIGKILL') resolve({ step: rd.latest()?.step ?? null, midWrite });
      else reject(new Error(`${args[0]} exited (${code}) before it could be killed`));
    });
  });
}

const weightsAt = (dir: string, step: number) => readFileSync(join(dir, 'checkpoints', `step-${String(step).padStart(6, '0')}`, 'policy', 'model.safetensors'));

test('a run killed with SIGKILL before its first checkpoint and during a checkpoint write resumes to equal an uninterrupted run', async () => {
  const common = ['--preset', 'tiny', '--algo', 'pgpo', 'trainer.total_steps=3', 'algorithm.online_filtering=false', 'trainer.log_rollouts_freq=0'];
  const a = tmp();
  const ra = cli(['train', '--out', a, ...common, 'trainer.save_freq=1']);
  assert.equal(ra.status, 0, ra.stderr);

  const b = tmp();
  // killed while writing its first checkpoint: before it has one, in the middle of the write
  const killed = await killAt(['train', '--out', b, ...common, 'trainer.save_freq=1'], b, 'checkpoint');
  assert.ok(killed.midWrite, 'not killed during a checkpoint write');
  assert.equal(killed.step, null, 'killed after its first checkpoint');
  // resumed from step 0, the dead process's lock taken over
  const rb = cli(['train', '--resume', b]);
  assert.equal(rb.status, 0, rb.stderr);
  assert.match(rb.stderr, /note: took over .*lock from process \d+, which no longer runs/);
  assert.match(rb.stderr, /resuming .* from step \d/);
  assert.deepEqual(strip(new RunDir(b).readMetrics()), strip(new RunDir(a).readMetrics()));
  assert.ok(weightsAt(a, 3).equals(weightsAt(b, 3)), 'final weights are bit-identical');
});

test('an SFT run killed with SIGKILL during a checkpoint write resumes to equal an uninterrupted run', async () => {
  const common = ['--preset', 'tiny', 'sft.total_steps=2', 'sft.save_freq=1'];
  const a = tmp();
  const ra = cli(['sft', '--out', a, ...common]);
  assert.equal(ra.status, 0, ra.stderr);
  const b = tmp();
  const killed = await killAt(['sft', '--out', b, ...common], b, 'checkpoint');
  assert.ok(killed.midWrite, 'not killed during a checkpoint write');
  const rb = cli(['sft', '--resume', b]);
  assert.equal(rb.status, 0, rb.stderr);
  assert.deepEqual(strip(new RunDir(b).readMetrics()), strip(new RunDir(a).readMetrics()));
  assert.ok(weightsAt(a, 2).equals(weightsAt(b, 2)), 'final weights are bit-identical');
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
  const r = cli([
    'train',
    '--preset',
    'tiny',
    '--algo',
    'dapo',
    '--out',
    out,
    'trainer.total_steps=8',
    'trainer.max_nonfinite_in_row=2',
    'worker.actor.optim.lr=1e30',
    'worker.actor.max_grad_norm=null',
    'algorithm.online_filtering=false',
  ]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /stopped after 2 steps in a row with a non-finite loss or gradient/);
  const m = new RunDir(out).readMetrics();
  assert.ok(m.length < 8, `stopped early (${m.length} steps)`);
  assert.equal(m[m.length - 1].nonfinite_skips, 2);
});
