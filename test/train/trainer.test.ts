/**
 * The trainer's logic on a pure-JS toy policy (fast): every algorithm runs and logs the metrics,
 * Ctrl-C style interruption + resume reproduces an uninterrupted run exactly, the NaN guard
 * skips, counts and stops. The same properties on the real model, with a SIGKILLed child
 * process, are in trainer-model.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeRgbImage } from '../../src/core/image.ts';
import { ALGORITHMS, resolveConfig, type TrainConfig } from '../../src/train/config.ts';
import type { Problem, RewardFn } from '../../src/core/problem.ts';
import { RunDir, runMetrics } from '../../src/train/run-dir.ts';
import { train } from '../../src/train/trainer.ts';
import { ToyPolicy, toyFactory } from './toy-policy.ts';

function problems(n: number): Problem[] {
  return Array.from({ length: n }, (_, i) => {
    const img = makeRgbImage(8, 8);
    img.data.fill((i * 61) % 256);
    return { id: `p${i}`, problem: `<image>q${i}`, answer: String(i % 3), image: img, family: ['a', 'b'][i % 2], variant: 'v', imageValues: [String(i % 3)], textValues: [] };
  });
}

/** A learnable toy reward: correct when the response length has the answer's parity. */
const reward: RewardFn = (text, answer) => {
  const accuracy = text.length % 2 === Number(answer) % 2 ? 1 : 0;
  const format = text.length <= 6 ? 1 : 0;
  return { accuracy, format, reward: 0.9 * accuracy + 0.1 * format };
};

function config(algo: string, overrides: Array<[string, string]> = []): TrainConfig {
  return resolveConfig({
    preset: 'tiny',
    algo,
    overrides: [
      ['worker.actor.optim.lr', '0.05'],
      ['experiment.pg_var_freq', '1'],
      ['experiment.pg_var_chunks', '2'],
      ['data.rollout_batch_size', '4'],
      ['algorithm.max_filter_rounds', '1'],
      ['trainer.log_rollouts_freq', '1'],
      ...overrides,
    ],
  });
}

const tmp = () => mkdtempSync(join(tmpdir(), 'pgpo-trainer-'));
const quiet = { log: () => {}, progressStream: { write: () => true } };

for (const algo of ALGORITHMS) {
  test(`a two-step ${algo} run completes and writes the metrics`, async () => {
    const out = tmp();
    const res = await train({ config: config(algo), out, factory: toyFactory, problems: problems(12), reward, ...quiet });
    assert.equal(res.stopped, 'done');
    const metrics = new RunDir(out).readMetrics();
    assert.equal(metrics.length, 2);
    for (const key of [
      'step',
      'reward',
      'accuracy',
      'format',
      'entropy',
      'response_length',
      'grad_norm',
      'clip_frac',
      'approx_kl',
      'dropped_groups',
      'time_sample',
      'time_score',
      'time_update',
      'time_step',
    ]) {
      assert.ok(key in metrics[1], `metrics lack ${key}`);
    }
    if (algo === 'pgpo') {
      assert.equal(typeof metrics[0].pg_var, 'number', 'pg_var measured at step 1');
      assert.equal(typeof metrics[0].pg_var_uniform, 'number');
      for (const key of ['dep_mean', 'dep_top10_share', 'log1p_dep_mean', 'weight_mean', 'weight_std', 'frac_amplified']) assert.ok(key in metrics[1], `pgpo metrics lack ${key}`);
      assert.ok(readdirSync(join(out, 'tokens')).length > 0, 'pgpo writes per-token dependencies');
    }
    assert.ok(existsSync(join(out, 'config.yaml')));
    assert.ok(existsSync(join(out, 'checkpoints', 'step-000002', 'policy', 'toy.json')));
    const ex = readFileSync(join(out, 'rollouts', 'step-000001.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(ex.length > 0 && typeof ex[0].image_png === 'string' && Array.isArray(ex[0].pieces));
  });
}

test('interrupting and resuming reproduces an uninterrupted run exactly', async () => {
  const cfg = config('pgpo', [
    ['trainer.total_steps', '4'],
    ['trainer.save_freq', '10'],
  ]);
  const a = tmp();
  await train({ config: cfg, out: a, factory: toyFactory, problems: problems(12), reward, ...quiet });

  const b = tmp();
  const ctl = new AbortController();
  let steps = 0;
  const counting = {
    ...quiet,
    progressStream: {
      write: () => {
        if (++steps === 2) ctl.abort(); // "Ctrl-C" during step 2: it finishes, checkpoints, stops
        return true;
      },
    },
  };
  const first = await train({ config: cfg, out: b, factory: toyFactory, problems: problems(12), reward, signal: ctl.signal, ...counting });
  assert.equal(first.stopped, 'interrupted');
  assert.equal(first.state.step, 2);
  const second = await train({ config: cfg, out: b, factory: toyFactory, problems: problems(12), reward, resume: true, ...quiet });
  assert.equal(second.stopped, 'done');

  const strip = (ms: Array<Record<string, unknown>>) => ms.map(runMetrics);
  assert.deepEqual(strip(new RunDir(b).readMetrics()), strip(new RunDir(a).readMetrics()));
  const wa = JSON.parse(readFileSync(join(a, 'checkpoints', 'step-000004', 'policy', 'toy.json'), 'utf8'));
  const wb = JSON.parse(readFileSync(join(b, 'checkpoints', 'step-000004', 'policy', 'toy.json'), 'utf8'));
  assert.deepEqual(wb.W, wa.W);
  assert.deepEqual(wb.m, wa.m);
});

test('a run resumed on another engine says so once and records it; resumed on the same one it says nothing', async () => {
  const out = tmp();
  const runJson = () => JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  await train({
    config: config('dapo', [
      ['trainer.total_steps', '2'],
      ['trainer.save_freq', '2'],
    ]),
    out,
    factory: toyFactory,
    problems: problems(12),
    reward,
    ...quiet,
  });
  assert.deepEqual(runJson(), { kind: 'rl', engine: 'toy engine 1' });
  const on = (engine: string) => ({
    ...toyFactory,
    async load(dir: string) {
      const r = await toyFactory.load(dir);
      (r.policy as ToyPolicy).engine = engine;
      return r;
    },
  });
  const resume = async (engine: string, steps: string) => {
    const lines: string[] = [];
    const c = config('dapo', [
      ['trainer.total_steps', steps],
      ['trainer.save_freq', '2'],
    ]);
    await train({ config: c, out, factory: on(engine), problems: problems(12), reward, resume: true, ...quiet, log: (l) => lines.push(l) });
    return lines.filter((l) => l.includes('engine'));
  };
  const moved = await resume('toy engine 2', '4');
  assert.equal(moved.length, 1, moved.join('\n'));
  assert.match(moved[0], /was computed on toy engine 1 and continues on toy engine 2: from here its numbers match an uninterrupted run's only to float rounding/);
  assert.equal(runJson().engine, 'toy engine 2');
  assert.deepEqual(await resume('toy engine 2', '6'), []);
});

test('a restart request checkpoints the run, and resuming it in a fresh start matches an uninterrupted run', async () => {
  const cfg = config('dapo', [
    ['trainer.total_steps', '4'],
    ['trainer.save_freq', '10'],
  ]);
  const a = tmp();
  await train({ config: cfg, out: a, factory: toyFactory, problems: problems(12), reward, engineStats: () => ({ heap_mib: 7 }), ...quiet });
  assert.ok(
    new RunDir(a).readMetrics().every((m) => m.heap_mib === 7),
    'engine stats land in every metrics line',
  );

  const b = tmp();
  let asked = 0;
  const first = await train({ config: cfg, out: b, factory: toyFactory, problems: problems(12), reward, restartWhen: () => (++asked === 3 ? 'heap full' : null), ...quiet });
  assert.equal(first.stopped, 'restart');
  assert.equal(first.reason, 'heap full');
  assert.equal(first.state.step, 3);
  assert.equal(new RunDir(b).latest()?.step, 3, 'checkpointed where it stopped, although save_freq is 10');
  const second = await train({ config: cfg, out: b, factory: toyFactory, problems: problems(12), reward, resume: true, restartWhen: () => 'heap full', ...quiet });
  assert.equal(second.stopped, 'done', 'never asked after the last step: the run ends normally');
  const strip = (ms: Array<Record<string, unknown>>) => ms.map(runMetrics);
  assert.deepEqual(strip(new RunDir(b).readMetrics()), strip(new RunDir(a).readMetrics()));
});

test('a fresh run refuses a directory that already holds one', async () => {
  const out = tmp();
  await train({ config: config('dapo'), out, factory: toyFactory, problems: problems(12), reward, ...quiet });
  await assert.rejects(train({ config: config('dapo'), out, factory: toyFactory, problems: problems(12), reward, ...quiet }), /already holds a run.*--resume/);
});

test('the NaN guard skips non-finite updates, counts them, and stops after max_nonfinite_in_row', async () => {
  const out = tmp();
  const poisoned = {
    ...toyFactory,
    async create(preset: 'tiny' | 'small', seed: number) {
      const p = (await toyFactory.create(preset, seed)) as ToyPolicy;
      p.poison = true;
      return p;
    },
  };
  const lines: string[] = [];
  const cfg = config('dapo', [
    ['trainer.total_steps', '10'],
    ['trainer.max_nonfinite_in_row', '3'],
    ['algorithm.online_filtering', 'false'],
  ]);
  const res = await train({ config: cfg, out, factory: poisoned, problems: problems(12), reward, progressStream: quiet.progressStream, log: (l) => lines.push(l) });
  assert.equal(res.stopped, 'nonfinite');
  assert.equal(res.state.step, 3);
  assert.match(res.reason!, /3 steps in a row.*gradient norm was NaN/);
  const metrics = new RunDir(out).readMetrics();
  assert.deepEqual(
    metrics.map((m) => m.nonfinite_skips),
    [1, 2, 3],
  );
  assert.deepEqual(
    metrics.map((m) => m.updates),
    [0, 0, 0],
  );
  assert.ok(lines.some((l) => l.includes('update skipped')));
});

test('non-finite log-probs from the extra scoring pass (PGPO text-only, VPPO perturbed) skip the step instead of crashing it', async () => {
  for (const [algo, mode, field] of [
    ['pgpo', 'text-only', /text-only log-probs were not finite/],
    ['vppo', 'image', /perturbed-image log-probs were not finite/],
  ] as const) {
    const out = tmp();
    const nanScoring = {
      ...toyFactory,
      async create(preset: 'tiny' | 'small', seed: number) {
        const p = (await toyFactory.create(preset, seed)) as ToyPolicy;
        const score = p.score.bind(p);
        // sampling stays finite; only the step's second scoring pass in `mode` returns NaN
        p.score = async (items, opts) => {
          const s = await score(items, opts);
          return opts.mode === mode ? { ...s, logp: s.logp.map((r) => r.map(() => NaN)) } : s;
        };
        return p;
      },
    };
    const cfg = config(algo, [
      ['trainer.total_steps', '2'],
      ['trainer.max_nonfinite_in_row', '2'],
      ['algorithm.online_filtering', 'false'],
    ]);
    const res = await train({ config: cfg, out, factory: nanScoring, problems: problems(12), reward, ...quiet });
    assert.equal(res.stopped, 'nonfinite', algo);
    assert.match(res.reason!, field, algo);
    assert.deepEqual(
      new RunDir(out).readMetrics().map((m) => m.updates),
      [0, 0],
      algo,
    );
  }
});

test('a step in which every group was dropped says so once per run and writes no empty rollout log', async () => {
  const out = tmp();
  const lines: string[] = [];
  const flat: RewardFn = () => ({ accuracy: 0, format: 0, reward: 0 }); // every group: equal rewards
  const cfg = config('dapo', [['trainer.total_steps', '3']]);
  const res = await train({ config: cfg, out, factory: toyFactory, problems: problems(12), reward: flat, progressStream: quiet.progressStream, log: (l) => lines.push(l) });
  assert.equal(res.stopped, 'done');
  const metrics = new RunDir(out).readMetrics();
  assert.deepEqual(
    metrics.map((m) => [m.kept_groups, m.updates, m.nonfinite_skips]),
    [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ],
  );
  const said = lines.filter((l) => l.includes('every sampled group'));
  assert.equal(said.length, 1, lines.join('\n'));
  assert.match(said[0], /^step 1: every sampled group had equal accuracies \(nothing to learn from\); is the policy warm-started\? \(--init\)$/);
  assert.deepEqual(existsSync(join(out, 'rollouts')) ? readdirSync(join(out, 'rollouts')) : [], []);
});

test('the placebo control samples what the real run samples and trains on rewards shuffled within groups', async () => {
  const steps: Array<[string, string]> = [['trainer.total_steps', '1']];
  const real = tmp();
  const placebo = tmp();
  await train({ config: config('dapo', steps), out: real, factory: toyFactory, problems: problems(12), reward, ...quiet });
  await train({ config: config('dapo', [...steps, ['experiment.placebo', 'true']]), out: placebo, factory: toyFactory, problems: problems(12), reward, ...quiet });
  const [a] = new RunDir(real).readMetrics();
  const [b] = new RunDir(placebo).readMetrics();
  // the same rollouts, rewards and kept groups are logged (the shuffle only feeds the advantages)
  for (const key of ['reward', 'accuracy', 'response_length', 'sampled_groups', 'kept_groups', 'dropped_groups']) assert.equal(b[key], a[key], key);
  assert.ok((a.kept_groups as number) > 0, 'no group was kept: nothing to shuffle');
  // ... but the update differs
  const weights = (dir: string) => readFileSync(join(dir, 'checkpoints', 'step-000001', 'policy', 'toy.json'), 'utf8');
  assert.notEqual(weights(placebo), weights(real), 'the placebo run made the same update as the real one');
  assert.notEqual(b.loss, a.loss);
});

test('experiment.freeze and experiment.optimizer reach the update: a frozen parameter stays, sgd updates differently from adamw', async () => {
  const steps: Array<[string, string]> = [['trainer.total_steps', '1']];
  const runs = { adamw: tmp(), sgd: tmp(), frozen: tmp() };
  await train({ config: config('dapo', steps), out: runs.adamw, factory: toyFactory, problems: problems(12), reward, ...quiet });
  await train({ config: config('dapo', [...steps, ['experiment.optimizer', 'sgd']]), out: runs.sgd, factory: toyFactory, problems: problems(12), reward, ...quiet });
  await train({ config: config('dapo', [...steps, ['experiment.freeze', '[W]']]), out: runs.frozen, factory: toyFactory, problems: problems(12), reward, ...quiet });
  const weights = (dir: string) => JSON.parse(readFileSync(join(dir, 'checkpoints', 'step-000001', 'policy', 'toy.json'), 'utf8')) as { W: number[]; U: number[] };
  const init = tmp();
  await train({ config: config('dapo', [...steps, ['experiment.freeze', '[W, U]']]), out: init, factory: toyFactory, problems: problems(12), reward, ...quiet });
  const [a, s, f, i] = [weights(runs.adamw), weights(runs.sgd), weights(runs.frozen), weights(init)];
  assert.notDeepEqual(a.W, i.W, 'the adamw run did not move W');
  assert.deepEqual(f.W, i.W, 'a frozen W moved');
  assert.notDeepEqual(f.U, i.U, 'U did not move when only W was frozen');
  // the same learning rate: SGD's first step is lr * clip * g, AdamW's about lr * sign(g)
  assert.notDeepEqual(s.W, i.W, 'the sgd run did not move W');
  assert.notDeepEqual(s.W, a.W, 'sgd made the adamw update');
});

test('an experiment.freeze prefix that names no parameter stops the run before it starts, leaving no run folder', async () => {
  const out = tmp();
  await assert.rejects(
    train({ config: config('dapo', [['experiment.freeze', '[W, V]']]), out, factory: toyFactory, problems: problems(12), reward, ...quiet }),
    /experiment\.freeze: "V" names no parameter \(top-level groups: W, U\)/,
  );
  assert.ok(!existsSync(join(out, 'config.yaml')), 'a run folder was written for a run that cannot start');
});

test('--resume with the other experiment.optimizer stops before the first step, naming the key; the run is left as it was', async () => {
  const out = tmp();
  await train({ config: config('dapo', [['trainer.total_steps', '2']]), out, factory: toyFactory, problems: problems(12), reward, ...quiet });
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
  let sampled = false;
  const watching = {
    ...toyFactory,
    load: async (dir: string) => {
      const loaded = await toyFactory.load(dir);
      const p = loaded.policy as unknown as { sample: (...a: unknown[]) => unknown };
      const sample = p.sample.bind(p);
      p.sample = (...a: unknown[]) => ((sampled = true), sample(...a));
      return loaded;
    },
  };
  await assert.rejects(
    train({
      config: config('dapo', [
        ['trainer.total_steps', '3'],
        ['experiment.optimizer', 'sgd'],
      ]),
      out,
      resume: true,
      factory: watching,
      problems: problems(12),
      reward,
      ...quiet,
    }),
    // the run's recorded settings refuse it first (resume.ts); the optimizer state would too
    /--resume .*: experiment\.optimizer is "adamw" in .*config\.yaml, "sgd" here; a resumed run keeps its settings/,
  );
  assert.equal(sampled, false, 'the resumed run sampled before refusing');
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), metrics);
  // the same optimizer continues it
  await train({ config: config('dapo', [['trainer.total_steps', '3']]), out, resume: true, factory: toyFactory, problems: problems(12), reward, ...quiet });
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 3);
});
