/**
 * `npm run bench:model`: speed of the `small` policy on this machine, printed as a markdown
 * table — a train step (forward + backward + AdamW) on one RL update batch, scoring in both
 * attention modes, KV-cache sampling of 160 rollouts x 64 new tokens, peak memory, and each
 * one's achieved GFLOP/s beside jax-js's own rate on a large square matrix product (the
 * engine's ceiling). Inputs come from a seeded generator; first calls (compilation) are timed
 * apart. Options: --preset tiny|small (default small), --reps N (default 3, best is reported).
 */
import { cpus, totalmem } from 'node:os';
import { initEngine, jit, numpy as np, random, engineThreads } from '../src/engine/jax.ts';
import { Rng } from '../src/engine/rng.ts';
import { makeRgbImage, type RgbImage } from '../src/core/image.ts';
import { VlmPolicy, type PresetName } from '../src/model/index.ts';
import { packBatches } from '../src/model/batch.ts';
import { dims } from '../src/model/config.ts';
import { decodeStepFlops, scoreFlops, trainFlops } from '../src/model/flops.ts';
import type { ScoreItem } from '../src/core/policy.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const preset = arg('preset', 'small') as PresetName;
const reps = Number(arg('reps', '3'));

await initEngine();
const rng = Rng.seeded('bench:model');

async function best(fn: () => Promise<unknown>): Promise<{ first: number; best: number }> {
  let t = performance.now();
  await fn();
  const first = performance.now() - t;
  let b = Infinity;
  for (let i = 0; i < reps; i++) {
    t = performance.now();
    await fn();
    b = Math.min(b, performance.now() - t);
  }
  return { first, best: b };
}

// The engine's ceiling: a 1024 x 1024 x 1024 float32 matrix product, jitted.
const n = 1024;
const a = random.normal(random.key(1), [n, n]);
const b = random.normal(random.key(2), [n, n]);
const mm = jit((x: np.Array, y: np.Array) => np.matmul(x, y));
const ceiling = await best(async () => (await mm(a.ref, b.ref).data()).length);
// (best of `reps`, like every row: on a shared machine the best run is the least disturbed.)
const ceilingGflops = (2 * n ** 3) / ceiling.best / 1e6;

const pol = await VlmPolicy.create(preset, 1);
const cfg = pol.config;
const V = pol.vocabSize;
const image = (): RgbImage => makeRgbImage(pol.imageSize, pol.imageSize, Uint8Array.from({ length: pol.imageSize ** 2 * 3 }, () => rng.int(256)));
const problem = (i: number) =>
  `<image>\nIn the figure, two angles of triangle ABC are ${40 + i} and ${60 + (i % 7)} degrees. What is the value of the third angle, in degrees? Give the answer as a number.`;
const randomResponse = (len: number) => Array.from({ length: len }, () => 4 + rng.int(V - 4)); // no specials

// The RL shapes: P prompts x G rollouts, responses of `resp` tokens.
function batch(prompts: number, group: number, resp: number): ScoreItem[] {
  const items: ScoreItem[] = [];
  for (let p = 0; p < prompts; p++) {
    const img = image();
    const prompt = pol.encodePrompt(problem(p));
    for (let r = 0; r < group; r++) items.push({ image: img, prompt, response: randomResponse(resp) });
  }
  return items;
}
const promptLen = pol.encodePrompt(problem(0)).length;

const flopsOf = (items: ScoreItem[], withImage: boolean, f: typeof scoreFlops) =>
  packBatches(items, cfg, { withImage }).reduce((s, hb) => s + f(cfg, V, hb, withImage), 0);

const rows: string[][] = [];
const row = (what: string, shape: string, ms: number, work: string, flops: number, first: number) =>
  rows.push([what, shape, `${ms.toFixed(0)} ms`, work, `${(flops / ms / 1e6).toFixed(1)}`, `${((100 * flops) / ms / 1e6 / ceilingGflops).toFixed(0)}%`, `${(first / 1000).toFixed(1)} s`]);

// 1. Train step: backward over one RL update batch (16 prompts x 8 rollouts x 48 tokens) + AdamW.
{
  const items = batch(16, 8, 48);
  const d = items.map((it) => Float32Array.from(it.response, () => rng.normal() * 1e-3));
  const opt = { lr: 1e-4, weightDecay: 0.01, betas: [0.9, 0.999] as const, eps: 1e-8, maxGradNorm: 1 };
  const t = await best(async () => {
    await pol.backward(items, d, { mode: 'image' });
    await pol.step(opt);
  });
  const tokens = items.length * 48;
  row('train step (fwd+bwd+AdamW), image mode', `128 seq (16 x 8), ${promptLen}+48 tok`, t.best, `${((tokens / t.best) * 1000).toFixed(0)} resp tok/s`, flopsOf(items, true, trainFlops), t.first);
}

// 2. Scoring, both modes: 160 rollouts (20 prompts x 8) x 48 tokens.
const scoreItems = batch(20, 8, 48);
for (const mode of ['image', 'text-only'] as const) {
  const t = await best(() => pol.score(scoreItems, { mode }));
  const tokens = scoreItems.length * 48;
  row(`score, ${mode} mode`, `160 seq (20 x 8), ${promptLen}+48 tok`, t.best, `${((tokens / t.best) * 1000).toFixed(0)} resp tok/s`, flopsOf(scoreItems, mode === 'image', scoreFlops), t.first);
}

// 3. Sampling with the KV cache: 20 prompts x 8 rollouts x 64 new tokens (and the RL shape).
async function sampling(prompts: number, group: number, maxNew: number) {
  const inputs = Array.from({ length: prompts }, (_, p) => ({ image: image(), prompt: pol.encodePrompt(problem(p)) }));
  let generated = 0;
  let steps = 0;
  const t = await best(async () => {
    const ro = await pol.sample(inputs, { n: group, temperature: 1, topP: 1, maxNewTokens: maxNew, seed: 7 });
    generated = ro.reduce((s, r) => s + r.tokens.length, 0);
    steps = Math.max(...ro.map((r) => r.tokens.length));
  });
  const { N } = dims(cfg);
  const P = cfg.batching.promptBuckets.find((x) => x >= promptLen)!;
  const Tmax = cfg.batching.responseBuckets.find((x) => x >= maxNew)!;
  const rowsRun = prompts * group;
  const flops = scoreFlops(cfg, V, { G: prompts, R: 0, P, T: 0 }, true) + (steps - 1) * decodeStepFlops(cfg, V, rowsRun, N + P, Tmax);
  row(`sample, KV cache, top-p 1`, `${rowsRun} rollouts (${prompts} x ${group}) x ${maxNew} new tok`, t.best, `${((generated / t.best) * 1000).toFixed(0)} tok/s (${generated} tok)`, flops, t.first);
}
await sampling(20, 8, 64);
await sampling(16, 8, 48);

const rss = process.resourceUsage().maxRSS / 1024;
console.log(`\n### ${preset}: ${pol.paramCount.toLocaleString('en-US')} parameters, vocabulary ${V}, ${cfg.image.size}x${cfg.image.size} images in ${dims(cfg).N} patches\n`);
console.log(`jax-js ${'0.1.25'} wasm, ${engineThreads()} kernel threads; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}\n`);
console.log('| pass | batch | time (best of ' + reps + ') | throughput | GFLOP/s | of ceiling | first call (compile) |');
console.log('|---|---|---|---|---|---|---|');
console.log(`| engine ceiling: jitted matmul ${n}x${n}x${n} | - | ${ceiling.best.toFixed(1)} ms | - | ${ceilingGflops.toFixed(1)} | 100% | - |`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`\npeak RSS: ${rss.toFixed(0)} MiB`);
process.exit(0);
