/**
 * What one RL step hands the policy's backward, checked against expected values worked out here
 * from the toy policy's raw log-probs and the paper's formulas (not through src/algo):
 *   - PGPO: dLoss/dlogp = -A_i w~_t / N (token-mean, ratio 1), w~ from k3 S_t by hand; with every
 *     weight 1 (variant none) the update is DAPO's exactly;
 *   - VPPO: -(A_i f_i m_t) / N - coef / N, with the trajectory factors and top-40% mask by hand;
 *   - PAPO: the perception KL's and double entropy's gradients on both branches;
 *   - the sampling temperature reaches every pass, and scoring at it reproduces the rollout's
 *     log-probs, so the first update's ratio is exactly 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computePolicyLoss } from '../../src/algo/index.ts';
import { makeRgbImage } from '../../src/core/image.ts';
import { Rng } from '../../src/engine/rng.ts';
import { resolveConfig, type TrainConfig } from '../../src/train/config.ts';
import type { ScoreItem, ScoreOptions, Scored } from '../../src/core/policy.ts';
import { ProblemStream } from '../../src/train/problems.ts';
import type { Problem, RewardFn } from '../../src/core/problem.ts';
import { rlStep, type StepResult } from '../../src/train/rl-step.ts';
import { ToyPolicy } from './toy-policy.ts';

const problems: Problem[] = Array.from({ length: 8 }, (_, i) => {
  const img = makeRgbImage(8, 8);
  for (let k = 0; k < img.data.length; k++) img.data[k] = (i * 37 + k * 11) % 256;
  return { id: `p${i}`, problem: `<image>q${i}`, answer: String(i % 2), image: img, family: 'a', variant: 'v', imageValues: [], textValues: [] };
});
/** Correct when the response length has the answer's parity: groups of mixed rewards. */
const reward: RewardFn = (text, answer) => {
  const accuracy = text.length % 2 === Number(answer) % 2 ? 1 : 0;
  return { accuracy, format: 1, reward: 0.9 * accuracy + 0.1 };
};

interface Call {
  readonly items: readonly ScoreItem[];
  readonly temperature: number | undefined;
}

/** The toy policy, recording what every score and backward call got. */
class Recording extends ToyPolicy {
  scores: Array<Call & { readonly opts: ScoreOptions; readonly out: Scored }> = [];
  backwards: Array<Call & { readonly dLogp: Float32Array[]; readonly dEntropy?: readonly Float32Array[] }> = [];
  static of(seed: number): Recording {
    const p = ToyPolicy.fresh(seed);
    return new Recording(p.W.slice(), p.U.slice());
  }
  override async score(items: readonly ScoreItem[], opts: ScoreOptions): Promise<Scored> {
    const out = await super.score(items, opts);
    this.scores.push({ items, opts, temperature: opts.temperature, out });
    return out;
  }
  override async backward(items: readonly ScoreItem[], dLogp: readonly Float32Array[], opts: { mode: 'image' | 'text-only'; dEntropy?: readonly Float32Array[]; temperature?: number }): Promise<void> {
    this.backwards.push({ items, dLogp: [...dLogp], dEntropy: opts.dEntropy, temperature: opts.temperature });
    return super.backward(items, dLogp, opts);
  }
}

function config(algo: string, overrides: Array<[string, string]> = []): TrainConfig {
  // one mini-batch, so the step makes exactly one update at ratio 1
  return resolveConfig({
    preset: 'tiny',
    algo,
    overrides: [
      ['data.rollout_batch_size', '4'],
      ['worker.actor.global_batch_size', '4'],
      ['worker.rollout.n', '4'],
      ['worker.rollout.max_new_tokens', '6'],
      ['algorithm.max_filter_rounds', '3'],
      ...overrides,
    ],
  });
}

async function step(cfg: TrainConfig, policy: ToyPolicy, refPolicy: ToyPolicy | null = null): Promise<StepResult> {
  return rlStep({ config: cfg, policy, refPolicy, reward, stream: new ProblemStream(problems, 5), cursor: 0, rng: Rng.seeded(3).fork('step:1'), lr: cfg.worker.actor.optim.lr });
}

/** GRPO advantages by hand: (r - mean) / (sample std + 1e-6) within each group, 0 for all-equal groups. */
function grpoAdvantages(res: StepResult): number[] {
  return res.rollouts.map((r) => {
    const rs = res.rollouts.filter((o) => o.group === r.group).map((o) => o.reward);
    if (rs.every((x) => x === rs[0])) return 0;
    const m = rs.reduce((a, b) => a + b, 0) / rs.length;
    const sd = Math.sqrt(rs.reduce((a, b) => a + (b - m) ** 2, 0) / (rs.length - 1));
    return (r.reward - m) / (sd + 1e-6);
  });
}

/** PGPO.md §2-4 by hand: k3 -> log1p -> min-max -> gate (tau, beta) -> rescale to the length. */
function pgpoWeights(logpImage: ArrayLike<number>, logpText: ArrayLike<number>, tau = 0.4, beta = 2, eps = 1e-8): number[] {
  const S = Array.from(logpImage, (li, t) => {
    const r = Math.exp(logpText[t] - li);
    return r - 1 - Math.log(r);
  });
  const c = S.map((s) => Math.log1p(Math.max(0, s)));
  const lo = Math.min(...c);
  const hi = Math.max(...c);
  if (!(hi - lo > eps)) return c.map(() => 1);
  const w = c.map((x) => (x - lo) / (hi - lo + eps)).map((I) => (I < tau ? I / (tau + eps) : 1 + (beta * (I - tau)) / (1 - tau + eps)));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => (x * w.length) / sum);
}

function assertRowsClose(actual: readonly ArrayLike<number>[], expected: readonly ArrayLike<number>[], what: string, tol = 1e-6): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((row, i) => {
    assert.equal(row.length, expected[i].length, `${what}[${i}]`);
    for (let t = 0; t < row.length; t++) assert.ok(Math.abs(row[t] - expected[i][t]) <= tol * (1 + Math.abs(expected[i][t])), `${what}[${i}][${t}]: ${row[t]} vs ${expected[i][t]}`);
  });
}

const tokensOf = (res: StepResult) => res.rollouts.reduce((n, r) => n + r.rollout.tokens.length, 0);

test('PGPO: the gradient handed to backward is -A_i w~_t / N with w~ from the text-only pass, computed by hand', async () => {
  const policy = Recording.of(11);
  const res = await step(config('pgpo'), policy);
  assert.equal(res.metrics.updates, 1);
  const A = grpoAdvantages(res);
  assert.ok(
    A.some((a) => a !== 0),
    'the fixture needs a group with mixed rewards',
  );
  const textOnly = await ToyPolicy.fresh(11).score(
    res.rollouts.map((r) => r.item),
    { mode: 'text-only' },
  );
  const N = tokensOf(res);
  const expected = res.rollouts.map((r, i) => pgpoWeights(r.rollout.logp, textOnly.logp[i]).map((w) => (-A[i] * w) / N));
  assert.equal(policy.backwards.length, 1);
  assertRowsClose(policy.backwards[0].dLogp, expected, 'dLogp');
  // and the weights are not all 1: the test would not tell PGPO from DAPO otherwise
  assert.ok(res.rollouts.some((r) => r.weights!.some((w) => Math.abs(w - 1) > 0.1)));
});

test('PGPO with every weight 1 (variant none) makes exactly the update DAPO makes', async () => {
  const a = Recording.of(11);
  const b = Recording.of(11);
  const ra = await step(config('pgpo', [['algorithm.pgpo.variant', 'none']]), a);
  const rb = await step(config('dapo'), b);
  assert.equal(ra.metrics.updates, 1);
  assert.deepEqual(a.backwards[0].dLogp, b.backwards[0].dLogp);
  assert.deepEqual([...a.W], [...b.W]);
  assert.deepEqual([...a.U], [...b.U]);
  assert.equal(ra.metrics.loss, rb.metrics.loss);
  // while the default PGPO moves the weights elsewhere
  const c = Recording.of(11);
  await step(config('pgpo'), c);
  assert.notDeepEqual([...c.W], [...b.W]);
});

test('VPPO: dependency against the blackened images, trajectory factors, top-40% mask and the entropy penalty, by hand', async () => {
  const policy = Recording.of(12);
  const res = await step(config('vppo'), policy);
  assert.equal(res.metrics.updates, 1);
  const A = grpoAdvantages(res);
  const pert = policy.scores[0];
  assert.ok(
    pert.items.some((it, i) => it.image.data.some((x, k) => x !== res.rollouts[i].item.image.data[k])),
    'the perturbed pass scores other images',
  );
  const S = res.rollouts.map((r, i) =>
    Array.from(r.rollout.logp, (li, t) => {
      const d = pert.out.logp[i][t] - li;
      return Math.min(10, Math.max(0, Math.exp(d) - 1 - d));
    }),
  );
  const means = S.map((row) => row.reduce((a, b) => a + b, 0) / row.length);
  const lo = Math.min(...means);
  const hi = Math.max(...means);
  const n = means.map((m) => (m - lo) / (hi - lo));
  const mu = n.reduce((a, b) => a + b, 0) / n.length;
  const M = 0.9 + 0.1 / (mu + 1e-8);
  const f = n.map((x) => 0.9 + x * (M - 0.9));
  const N = tokensOf(res);
  const expected = S.map((row, i) => {
    const k = Math.ceil(row.length * 0.4 - 1e-12);
    const top = new Set(
      row
        .map((s, t) => [s, t])
        .sort((x, y) => y[0] - x[0] || x[1] - y[1])
        .slice(0, k)
        .map((x) => x[1]),
    );
    return row.map((_, t) => (-A[i] * f[i] * (top.has(t) ? 1 : 0) - 0.06) / N);
  });
  assertRowsClose(policy.backwards[0].dLogp, expected, 'dLogp');
  assert.ok(Math.abs((res.metrics.vppo_factor_mean as number) - 1) < 1e-6);
});

test('PAPO: the perception KL and the double entropy reach both branches with the gradients their formulas give', async () => {
  const policy = Recording.of(13);
  const res = await step(config('papo'), policy);
  assert.equal(res.metrics.updates, 1);
  const A = grpoAdvantages(res);
  const N = tokensOf(res);
  const masked = policy.scores.find((s) => s.opts.entropy && s.items.some((it, i) => it.image.data.some((x, k) => x !== res.rollouts[i].item.image.data[k])))!;
  assert.ok(masked, 'a pass over the masked images, with entropies');
  const [orig, br] = policy.backwards;
  assert.equal(policy.backwards.length, 2);
  const d = res.rollouts.map((r, i) => Array.from(r.rollout.logp, (li, t) => masked.out.logp[i][t] - li));
  // L = L_pg - 0.01 agg(e^d - d - 1) + 0.03 agg(H) + 0.03 agg(H_masked), d = logp_masked - logp
  assertRowsClose(
    orig.dLogp,
    d.map((row, i) => row.map((x) => (-A[i] + 0.01 * Math.expm1(x)) / N)),
    'dLogp original',
  );
  assertRowsClose(
    br.dLogp,
    d.map((row) => row.map((x) => (-0.01 * Math.expm1(x)) / N)),
    'dLogp masked',
  );
  assertRowsClose(
    orig.dEntropy!,
    d.map((row) => row.map(() => 0.03 / N)),
    'dEntropy original',
  );
  assertRowsClose(
    br.dEntropy!,
    d.map((row) => row.map(() => 0.03 / N)),
    'dEntropy masked',
  );
  assert.deepEqual(br.items, masked.items);
});

test('worker.actor.policy_loss reaches the update: after the first update ppo-clip clips tokens, vanilla never does', async () => {
  const run = async (loss: string) =>
    step(
      config('pgpo', [
        ['worker.actor.policy_loss', loss],
        ['worker.actor.ppo_epochs', '4'],
        ['worker.actor.optim.lr', '0.5'],
        ['worker.actor.max_grad_norm', 'null'],
      ]),
      Recording.of(11),
    );
  const clip = await run('ppo-clip');
  const vanilla = await run('vanilla');
  assert.ok((clip.metrics.clip_frac as number) > 0, `ppo-clip clip_frac ${clip.metrics.clip_frac}`);
  assert.equal(vanilla.metrics.clip_frac, 0);
  assert.notEqual(clip.metrics.loss, vanilla.metrics.loss);
});

test('worker.rollout.temperature reaches every scoring and backward pass (update, extra passes, reference)', async () => {
  for (const algo of ['pgpo', 'vppo', 'papo', 'grpo']) {
    const policy = Recording.of(14);
    const ref = Recording.of(14);
    const res = await step(
      config(algo, [
        ['worker.rollout.temperature', '0.7'],
        ['worker.actor.ppo_epochs', '2'],
        ['experiment.pg_var_freq', '1'],
      ]),
      policy,
      algo === 'grpo' ? ref : null,
    );
    assert.ok(res.metrics.updates! >= 1, algo);
    const calls = [...policy.scores, ...policy.backwards, ...ref.scores];
    assert.ok(calls.length >= 3, algo);
    for (const c of calls) assert.equal(c.temperature, 0.7, algo);
    if (algo === 'grpo') assert.equal(ref.scores.length, 1);
  }
});

test('a tempered rollout: its log-probs and entropies are score at that temperature, so the first ratio is exactly 1', async () => {
  const policy = ToyPolicy.fresh(15);
  const prompts = problems.slice(0, 2).map((p) => ({ image: p.image, prompt: policy.encodePrompt(p.problem) }));
  const ro = await policy.sample(prompts, { n: 3, temperature: 0.6, topP: 1, maxNewTokens: 8, seed: 4, entropy: true });
  const items = ro.map((r, i) => ({ ...prompts[Math.floor(i / 3)], response: r.tokens }));
  const at = await policy.score(items, { mode: 'image', entropy: true, temperature: 0.6 });
  const at1 = await policy.score(items, { mode: 'image', entropy: true });
  ro.forEach((r, i) => {
    assert.deepEqual(r.logp, at.logp[i]);
    assert.deepEqual(r.entropy, at.entropy![i]);
  });
  const advantages = ro.map((r) => new Float64Array(r.tokens.length).fill(1));
  const opts = { aggregation: 'token-mean' as const, clipLow: 0.2, clipHigh: 0.28, dualClip: 3 };
  const tempered = computePolicyLoss('ppo-clip', { logpNew: at.logp, logpOld: ro.map((r) => r.logp), advantages }, opts);
  assert.equal(tempered.approxKl, 0);
  assert.equal(tempered.clipFraction, 0);
  // scoring at temperature 1 (the old behaviour) would start the update off the ratio 1
  const untempered = computePolicyLoss('ppo-clip', { logpNew: at1.logp, logpOld: ro.map((r) => r.logp), advantages }, opts);
  assert.ok(untempered.approxKl > 1e-3);
});

test('backward at a temperature is the gradient of the tempered log-probs (finite differences on the toy)', async () => {
  const policy = ToyPolicy.fresh(16);
  const item = { image: problems[0].image, prompt: policy.encodePrompt('q'), response: policy.encode('ab1') };
  const f = async () => (await policy.score([item], { mode: 'image', temperature: 0.5 })).logp[0].reduce((a, b) => a + b, 0);
  await policy.backward([item], [new Float32Array(3).fill(1)], { mode: 'image', temperature: 0.5 });
  const g = await policy.gradVector();
  policy.zeroGrad();
  const j = item.prompt[item.prompt.length - 1] * policy.vocabSize + item.response[0];
  const h = 1e-4;
  policy.W[j] += h;
  const up = await f();
  policy.W[j] -= 2 * h;
  const down = await f();
  policy.W[j] += h;
  // float32 log-probs: a loose tolerance
  assert.ok(Math.abs((up - down) / (2 * h) - g[j]) < 2e-2, `${(up - down) / (2 * h)} vs ${g[j]}`);
});
