/**
 * `npm run bench:model`: both backends of the policy side by side on this machine, printed as a
 * markdown table — a train step (forward + backward + AdamW) on one RL update batch, scoring in
 * both attention modes, KV-cache sampling — with the native engine's achieved GFLOP/s against the
 * sgemm bound: CBLAS sgemm on the model's own weight shapes at the batch's row count, measured in
 * the same run. FLOPs are the useful ones (real tokens, no padding; a backward counts twice a
 * forward). Inputs come from a seeded generator; first calls (jax-js compiles there) are
 * reported apart. Options: --preset tiny|small (default small), --reps N (default 3, best is
 * reported), --backends jax,native. The native engine runs first: a one-off timing found its
 * sampling ~5% slower after jax-js in the same process (which keeps jax-js's 2 GiB heap) than
 * before it (docs/performance.md). --paired (both backends): both policies stay loaded and each
 * pass's calls alternate between them, and the speed-up is the median of the pairs' ratios (with
 * their range; per token for sampling), for machines whose speed drifts within a run: on a shared
 * host the one-backend-after-the-other ratio can move 2x between runs (docs/performance.md). The
 * native engine then always runs with jax-js's heap loaded (the ~5% above, against it).
 */
import { cpus, totalmem } from 'node:os';
import { initEngine, engineSummary } from '../src/engine/jax.ts';
import { Rng } from '../src/engine/rng.ts';
import { makeRgbImage, type RgbImage } from '../src/core/image.ts';
import { VlmPolicy, type PresetName } from '../src/model/index.ts';
import { NativePolicy, nativeEngine } from '../src/model/native/policy.ts';
import { blas, gemm } from '../src/model/native/blas.ts';
import { planBatches } from '../src/model/native/plan.ts';
import { type ModelConfig, dims, modelConfig } from '../src/model/config.ts';
import { forwardFlops } from '../src/model/flops.ts';
import type { Policy, ScoreItem } from '../src/core/policy.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const preset = arg('preset', 'small') as PresetName;
const reps = Number(arg('reps', '3'));
const backends = arg('backends', 'jax,native').split(',') as Array<'jax' | 'native'>;
const paired = process.argv.includes('--paired');
if (paired && !(backends.includes('jax') && backends.includes('native'))) throw new Error('--paired needs both backends (--backends jax,native)');
const cfg: ModelConfig = modelConfig(preset);

// ------------------------------------------------------------------ inputs (the same for both)
const rng = Rng.seeded('bench:model');
const probe = await NativePolicy.create(preset, 1);
const V = probe.vocabSize;
const image = (): RgbImage =>
  makeRgbImage(
    cfg.image.size,
    cfg.image.size,
    Uint8Array.from({ length: cfg.image.size ** 2 * 3 }, () => rng.int(256)),
  );
const problem = (i: number) =>
  `<image>\nIn the figure, two angles of triangle ABC are ${40 + i} and ${60 + (i % 7)} degrees. What is the value of the third angle, in degrees? Give the answer as a number.`;
const randomResponse = (len: number) => Array.from({ length: len }, () => 4 + rng.int(V - 4));
function batch(prompts: number, group: number, resp: number): ScoreItem[] {
  const items: ScoreItem[] = [];
  for (let p = 0; p < prompts; p++) {
    const img = image();
    const prompt = probe.encodePrompt(problem(p));
    for (let r = 0; r < group; r++) items.push({ image: img, prompt, response: randomResponse(resp) });
  }
  return items;
}
const promptLen = probe.encodePrompt(problem(0)).length;
const trainItems = batch(16, 8, 48);
const trainGrad = trainItems.map((it) => Float32Array.from(it.response, () => rng.normal() * 1e-3));
const scoreItems = batch(20, 8, 48);
const sftItems = batch(32, 1, 40); // an SFT batch: 32 distinct problems, one gold response each
const sampleInputs = (prompts: number) => Array.from({ length: prompts }, (_, p) => ({ image: image(), prompt: probe.encodePrompt(problem(p)) }));
const sample160 = sampleInputs(20);
const sample128 = sampleInputs(16);

// ------------------------------------------------------------------ useful FLOPs
const { C } = dims(cfg);
/** Forward FLOPs of scoring `items` (real rows only). */
const forward = (items: readonly ScoreItem[], withImage: boolean) => planBatches(items, cfg, withImage, cfg.batching.tokensPerMicroBatch).reduce((f, mb) => f + forwardFlops(cfg, V, mb), 0);

// ------------------------------------------------------------------ the sgemm bound, same run
function sgemmRate(M: number, N: number, K: number): number {
  const a = new Float32Array(M * K).fill(0.01);
  const b = new Float32Array(K * N).fill(0.01);
  const c = new Float32Array(M * N);
  gemm(false, false, M, N, K, 1, a, K, b, N, 0, c, N);
  let t = Infinity;
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    for (let k = 0; k < 5; k++) gemm(false, false, M, N, K, 1, a, K, b, N, 0, c, N);
    t = Math.min(t, (performance.now() - s) / 5);
  }
  return (2 * M * N * K) / t / 1e6;
}
const trainRows = planBatches(trainItems, cfg, true, cfg.batching.tokensPerMicroBatch)[0].plan.rows;
const M = cfg.decoder.mlp;
const boundShapes: Array<[number, number, number]> = [
  [trainRows, 3 * C, C],
  [trainRows, C, C],
  [trainRows, M, C],
  [trainRows, C, M],
];
// the bound: the flop-weighted rate of the decoder's four weight products at the batch's rows
const boundRates = boundShapes.map(([m, n, k]) => ({ flops: 2 * m * n * k, rate: sgemmRate(m, n, k) }));
const bound = boundRates.reduce((a, r) => a + r.flops, 0) / boundRates.reduce((a, r) => a + r.flops / r.rate, 0);

// ------------------------------------------------------------------ the passes, per backend
const opt = { lr: 1e-4, weightDecay: 0.01, betas: [0.9, 0.999] as const, eps: 1e-8, maxGradNorm: 1 };
/** One pass: its table cells, the call timed, and what it times per backend. */
type Row = {
  what: string;
  shape: string;
  flops: number | null;
  /** The call; a sample call returns the tokens it generated (its throughput's numerator). */
  run: (pol: Policy) => Promise<number | void>;
  tokens: Record<string, number>;
  ms: Record<string, number>;
  first: Record<string, number>;
  ratios: number[];
};
const pass = (what: string, shape: string, flops: number | null, tokens: number, run: Row['run']): Row => ({
  what,
  shape,
  flops,
  run,
  tokens: { native: tokens, jax: tokens },
  ms: {},
  first: {},
  ratios: [],
});
const samplePass = (inputs: typeof sample160, maxNew: number, shape: string) =>
  pass('sample, KV cache, top-p 1', shape, null, 0, async (pol) =>
    (await pol.sample(inputs, { n: 8, temperature: 1, topP: 1, maxNewTokens: maxNew, seed: 7 })).reduce((s, r) => s + r.tokens.length, 0),
  );
const rows: Row[] = [
  pass('train step (fwd+bwd+AdamW), image mode', `128 seq (16 x 8), ${promptLen}+48 tok`, 3 * forward(trainItems, true), trainItems.length * 48, async (pol) => {
    await pol.backward(trainItems, trainGrad, { mode: 'image' });
    await pol.step(opt);
  }),
  pass('score, image mode', `160 seq (20 x 8), ${promptLen}+48 tok`, forward(scoreItems, true), scoreItems.length * 48, async (pol) => void (await pol.score(scoreItems, { mode: 'image' }))),
  pass('score, text-only mode', `160 seq (20 x 8), ${promptLen}+48 tok`, forward(scoreItems, false), scoreItems.length * 48, async (pol) => void (await pol.score(scoreItems, { mode: 'text-only' }))),
  samplePass(sample160, 64, '160 rollouts (20 x 8) x 64 new tok'),
  samplePass(sample128, 48, '128 rollouts (16 x 8) x 48 new tok'),
  pass('SFT step (teacher forcing + AdamW)', `32 examples, ${promptLen}+40 tok`, 3 * forward(sftItems, true), sftItems.length, async (pol) => {
    await pol.sftBackward(sftItems, 1 / 32);
    await pol.step(opt);
  }),
];
const rss: Record<string, number> = {};
let nativeBuffers = 0;
const makePolicy = async (backend: 'jax' | 'native'): Promise<Policy> => {
  if (backend === 'jax') await initEngine();
  return backend === 'jax' ? VlmPolicy.create(preset, 1) : NativePolicy.create(preset, 1);
};
/** Times one call of pass i on a backend into its row. */
async function timeCall(i: number, backend: 'jax' | 'native', pol: Policy): Promise<number> {
  const t = performance.now();
  const generated = await rows[i].run(pol);
  const ms = performance.now() - t;
  if (typeof generated === 'number') rows[i].tokens[backend] = generated;
  return ms;
}
const runOrder = [...backends].sort((a, b) => Number(b === 'native') - Number(a === 'native'));
if (!paired) {
  for (const backend of runOrder) {
    const before = process.resourceUsage().maxRSS;
    const pol = await makePolicy(backend);
    for (let i = 0; i < rows.length; i++) {
      rows[i].first[backend] = await timeCall(i, backend, pol);
      rows[i].ms[backend] = Infinity;
      for (let r = 0; r < reps; r++) rows[i].ms[backend] = Math.min(rows[i].ms[backend], await timeCall(i, backend, pol));
    }
    if (pol instanceof NativePolicy) nativeBuffers = pol.bufferBytes() / 2 ** 20;
    pol.dispose();
    rss[backend] = (process.resourceUsage().maxRSS - before) / 1024;
    process.stderr.write(`${backend} done\n`);
  }
} else {
  // both policies alive; each pass's calls alternate between them, so that a machine whose speed
  // drifts (shared hosts) slows both sides of a pair alike: the pairs' ratios, not the bests, are compared
  const pols = { native: await makePolicy('native'), jax: await makePolicy('jax') };
  for (let i = 0; i < rows.length; i++) {
    for (const k of runOrder) {
      rows[i].first[k] = await timeCall(i, k, pols[k]);
      rows[i].ms[k] = Infinity;
    }
    for (let r = 0; r < reps; r++) {
      const pair: Record<string, number> = {};
      for (const k of r % 2 === 0 ? runOrder : [...runOrder].reverse()) {
        pair[k] = await timeCall(i, k, pols[k]);
        rows[i].ms[k] = Math.min(rows[i].ms[k], pair[k]);
      }
      // per token for the sample passes: the two backends' rollouts may end at different lengths
      rows[i].ratios.push(pair.jax / rows[i].tokens.jax / (pair.native / rows[i].tokens.native));
    }
    process.stderr.write(`${rows[i].what}, ${rows[i].shape}: done\n`);
  }
  nativeBuffers = (pols.native as NativePolicy).bufferBytes() / 2 ** 20;
}

// ------------------------------------------------------------------ the table
/** The median of a pass's pair ratios and their range, e.g. "5.1x (4.6-5.8x)". */
function pairedRatio(ratios: readonly number[]): string {
  const sorted = [...ratios].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return `${median.toFixed(1)}x (${sorted[0].toFixed(1)}-${sorted[sorted.length - 1].toFixed(1)}x)`;
}
const b = blas();
console.log(`\n### ${preset}: ${probe.paramCount.toLocaleString('en-US')} parameters, vocabulary ${V}, ${cfg.image.size}x${cfg.image.size} images in ${dims(cfg).N} patches\n`);
console.log(
  `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; ${engineSummary()}; ${nativeEngine()}${b.kernelNote ? `\n\n${b.kernelNote}` : ''}`,
);
console.log(
  `sgemm bound (this run): ${bound.toFixed(0)} GFLOP/s, the decoder's weight products at ${trainRows} rows (${boundRates.map((r, i) => `${boundShapes[i].join('x')}: ${r.rate.toFixed(0)}`).join(', ')})\n`,
);
const has = (k: string) => backends.includes(k as 'jax');
console.log(
  `| pass | batch | ${backends.map((k) => `${k} (best of ${reps})`).join(' | ')} | ${has('jax') && has('native') ? (paired ? `speed-up (median of ${reps} pairs; range) | ` : 'speed-up | ') : ''}native throughput | native GFLOP/s | of sgemm bound | first call: ${backends.join(' / ')} |`,
);
console.log(`|---|---|${backends.map(() => '---:|').join('')}${has('jax') && has('native') ? '---:|' : ''}---:|---:|---:|---:|`);
for (const r of rows) {
  const nat = r.ms.native;
  const cells = [r.what, r.shape, ...backends.map((k) => `${r.ms[k].toFixed(0)} ms`)];
  if (has('jax') && has('native')) cells.push(paired ? pairedRatio(r.ratios) : `${(r.ms.jax / nat).toFixed(1)}x`);
  cells.push(nat ? `${((r.tokens.native / nat) * 1000).toFixed(0)} ${r.what.startsWith('SFT') ? 'examples' : 'tok'}/s` : '-');
  cells.push(nat && r.flops ? (r.flops / nat / 1e6).toFixed(0) : '-');
  cells.push(nat && r.flops ? `${((100 * r.flops) / nat / 1e6 / bound).toFixed(0)}%` : '-');
  cells.push(backends.map((k) => `${(r.first[k] / 1000).toFixed(1)} s`).join(' / '));
  console.log(`| ${cells.join(' | ')} |`);
}
console.log(
  `\npeak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB for the process${paired ? ' (both backends loaded at once)' : `; growth while each backend ran (in the order run): ${runOrder.map((k) => `${k} ${rss[k].toFixed(0)} MiB`).join(', ')}`}; native activation buffers ${nativeBuffers.toFixed(0)} MiB`,
);
process.exit(0);
