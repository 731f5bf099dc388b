/**
 * Synthetic, deterministic run and compare directories in the formats the trainer writes
 * (docs/report.md), for the report's tests and its documentation screenshot. The numbers are
 * made up to look like the paper's story (sparse S on image digits, DAPO collapsing late,
 * PGPO with lower pg_var); they are not results.
 */
import { createCanvas } from '@napi-rs/canvas';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reshapeWeights } from '../../src/algo/reshape.ts';
import { classifyTokens } from '../../src/report/analyses.ts';
import { Rng } from '../../src/engine/rng.ts';

export interface FixtureRunOptions {
  readonly algo: string;
  readonly seed: number;
  readonly steps?: number;
  /** DAPO-like late collapse: accuracy falls and entropy spikes in the last third. */
  readonly collapse?: boolean;
}

const FAMILIES = ['geometry', 'chart'] as const;
const VARIANTS = ['vision-only', 'text-dominant'] as const;

/** A 48x48 PNG that shows a triangle (geometry) or bars (chart) and the values, as base64. */
function imagePng(family: string, values: readonly number[]): string {
  const c = createCanvas(48, 48);
  const g = c.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, 48, 48);
  g.strokeStyle = '#1f3a93';
  g.fillStyle = '#1f3a93';
  g.lineWidth = 2;
  if (family === 'geometry') {
    g.beginPath();
    g.moveTo(6, 40);
    g.lineTo(42, 40);
    g.lineTo(20, 10);
    g.closePath();
    g.stroke();
  } else {
    values.forEach((v, i) => g.fillRect(8 + i * 14, 44 - v / 3, 10, v / 3));
  }
  g.fillStyle = '#c0392b';
  g.font = '9px sans-serif';
  values.forEach((v, i) => g.fillText(String(v), 2 + i * 22, 9));
  return c.toBuffer('image/png').toString('base64');
}

/** Splits a response into token pieces the way a BPE tokenizer might: tags, up to 2 digits, words, single characters. */
export function tokenize(text: string): string[] {
  return text.match(/<\/?think>| \\boxed\{|\d{1,2}| ?[A-Za-z]+|./g) ?? [];
}

interface Example {
  family: string;
  variant: string;
  problem: string;
  answer: string;
  response: string;
  imageValues: number[];
  textValues: number[];
}

function makeExample(rng: Rng, correct: boolean): Example {
  const family = FAMILIES[rng.int(FAMILIES.length)];
  const variant = VARIANTS[rng.int(VARIANTS.length)];
  const a = 30 + rng.int(50);
  const b = 20 + rng.int(40);
  if (family === 'geometry') {
    const c = 180 - a - b;
    const given = variant === 'text-dominant';
    const problem = given ? `In the triangle, angle A is ${a} and angle B is ${b}. Find angle C.` : 'Find angle C of the triangle in the image.';
    const shown = correct ? c : c + 10;
    return {
      family,
      variant,
      problem,
      answer: String(c),
      response: `<think>A=${a} B=${b} 180-${a}-${b}=${shown}</think> \\boxed{${shown}}`,
      imageValues: [a, b],
      textValues: given ? [a, b] : [],
    };
  }
  const sum = a + b;
  const given = variant === 'text-dominant';
  const problem = given ? `The bars show ${a} and ${b}. What is their total?` : 'What is the total of the two bars?';
  const shown = correct ? sum : sum - 1;
  return { family, variant, problem, answer: String(sum), response: `<think>P=${a} Q=${b} ${a}+${b}=${shown}</think> \\boxed{${shown}}`, imageValues: [a, b], textValues: given ? [a, b] : [] };
}

/** S_t per token, by its class (analyses.ts): long-tailed, high on digits only the image shows, near zero on template text. */
const CLASS_SCALE: Record<string, number> = { 'image-digit': 0.8, 'text-digit': 0.02, 'computed-digit': 0.05, operator: 0.004, template: 2e-4 };

function dependency(rng: Rng, pieces: readonly string[], ex: Example): number[] {
  const classes = classifyTokens(pieces, ex.imageValues.map(String), ex.textValues.map(String));
  return classes.map((c) => CLASS_SCALE[c] * Math.exp(0.8 * rng.normal()) * (c === 'template' && rng.float() < 0.05 ? 50 : 1));
}

function rollout(rng: Rng, step: number, correct: boolean) {
  const ex = makeExample(rng, correct);
  const pieces = tokenize(ex.response);
  const dep = dependency(rng, pieces, ex);
  const weights = Array.from(reshapeWeights('pgpo', dep).weights, (w) => Math.round(w * 1e4) / 1e4);
  const reward = correct ? 1 : 0.1;
  return {
    step,
    family: ex.family,
    variant: ex.variant,
    problem: ex.problem,
    answer: ex.answer,
    image_png: imagePng(ex.family, ex.imageValues),
    pieces,
    dep: dep.map((x) => Number(x.toPrecision(4))),
    weights,
    advantage: correct ? 0.87 : -0.87,
    reward,
    accuracy: correct ? 1 : 0,
    image_values: ex.imageValues.map(String),
    text_values: ex.textValues.map(String),
  };
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const stepName = (s: number) => `step-${String(s).padStart(6, '0')}.jsonl`;

export function writeFixtureRun(dir: string, o: FixtureRunOptions): void {
  const steps = o.steps ?? 60;
  const rng = Rng.seeded(`${o.algo}-${o.seed}`);
  mkdirSync(join(dir, 'rollouts'), { recursive: true });
  mkdirSync(join(dir, 'tokens'), { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), `algorithm:\n  name: ${o.algo}\n  tau: 0.4\n  beta: 2.0\ntrainer:\n  seed: ${o.seed}\n  total_steps: ${steps}\n`);
  const pgpo = o.algo === 'pgpo';
  const metrics = [];
  for (let step = 1; step <= steps; step++) {
    const t = step / steps;
    const late = o.collapse && t > 0.66 ? (t - 0.66) / 0.34 : 0;
    const accuracy = Math.min(0.95, Math.max(0, 0.25 + 0.5 * Math.sqrt(t) - 0.45 * late + 0.04 * rng.normal()));
    const entropy = (0.9 - 0.4 * t + 1.6 * late * late) * (1 + 0.05 * rng.normal());
    const depMean = (pgpo ? 0.08 + 0.06 * t : 0.08 + 0.01 * t) * (1 + 0.05 * rng.normal());
    metrics.push({
      step,
      reward: 0.9 * accuracy + 0.1 * 0.98,
      accuracy,
      format: 0.98,
      entropy,
      response_length: Math.round(34 + 10 * t + 40 * late + 2 * rng.normal()),
      dep_mean: depMean,
      dep_top10_share: 0.62 + 0.03 * rng.normal(),
      dep_gini: 0.78 + 0.02 * rng.normal(),
      log1p_dep_mean: Math.log1p(depMean) * 0.8,
      weight_mean: 1,
      weight_std: pgpo ? 0.7 : 0,
      weight_max: pgpo ? 2.9 : 1,
      frac_amplified: pgpo ? 0.21 : 0,
      grad_norm: 0.4 + 0.1 * rng.float() + 2 * late,
      clip_frac: 0.02 + 0.01 * rng.float(),
      approx_kl: 0.001 + 0.001 * rng.float(),
      dropped_groups: rng.int(4),
      time_sample: 1.2,
      time_score: 0.3,
      time_update: 0.8,
      time_step: 2.3,
      pg_var: step % 5 === 0 ? (pgpo ? 0.9 : 1.5) * Math.exp(0.2 * rng.normal()) * (1 + late) : null,
      ...(pgpo && step % 5 === 0 ? { pg_var_uniform: 1.4 * Math.exp(0.2 * rng.normal()) } : {}),
      lr: 1e-6,
    });
  }
  writeFileSync(join(dir, 'metrics.jsonl'), jsonl(metrics));
  for (const step of [Math.round(steps / 2), steps]) {
    writeFileSync(join(dir, 'rollouts', stepName(step)), jsonl([0, 1, 2, 3].map((i) => rollout(rng, step, i % 2 === 0))));
  }
  const tokens = Array.from({ length: 40 }, () => {
    const r = rollout(rng, steps, rng.float() < 0.7);
    return { family: r.family, variant: r.variant, pieces: r.pieces, dep: r.dep, image_values: r.image_values, text_values: r.text_values };
  });
  writeFileSync(join(dir, 'tokens', stepName(steps)), jsonl(tokens));
  const acc = (x: number, n = 64) => ({ accuracy: Math.round(x * 1e4) / 1e4, n });
  const base = o.collapse ? 0.5 : 0.7;
  writeFileSync(
    join(dir, 'eval.json'),
    JSON.stringify({
      ckpt: `step-${String(steps).padStart(6, '0')}`,
      k: 8,
      temperature: 1,
      greedy: false,
      overall: acc(base, 256),
      by_family: { geometry: acc(base + 0.05, 128), chart: acc(base - 0.05, 128) },
      by_variant: { 'vision-only': acc(base - 0.1, 128), 'text-dominant': acc(base + 0.1, 128) },
      by_family_variant: {
        'geometry/vision-only': acc(base - 0.05),
        'geometry/text-dominant': acc(base + 0.15),
        'chart/vision-only': acc(base - 0.15),
        'chart/text-dominant': acc(base + 0.05),
      },
    }),
  );
}

/** A compare directory: runs/dapo-seed0 (collapsing), runs/pgpo-seed0, and compare.json. */
export function writeFixtureCompare(dir: string, options: { steps?: number } = {}): void {
  writeFixtureRun(join(dir, 'runs', 'dapo-seed0'), { algo: 'dapo', seed: 0, collapse: true, steps: options.steps });
  writeFixtureRun(join(dir, 'runs', 'pgpo-seed0'), { algo: 'pgpo', seed: 0, steps: options.steps });
  const cell = (mean: number) => ({ mean, lo: mean - 0.03, hi: mean + 0.03, n: 3 });
  writeFileSync(
    join(dir, 'compare.json'),
    JSON.stringify({
      algos: ['base', 'dapo', 'pgpo'],
      seeds: 3,
      columns: ['geometry/vision-only', 'geometry/text-dominant', 'chart/vision-only', 'chart/text-dominant', 'overall'],
      rows: [
        { algo: 'base', cells: [cell(0.21), cell(0.35), cell(0.18), cell(0.3), cell(0.26)] },
        { algo: 'dapo', cells: [cell(0.45), cell(0.65), cell(0.35), cell(0.55), cell(0.5)] },
        { algo: 'pgpo', cells: [cell(0.52), cell(0.66), { mean: 0.41, lo: 0.36, hi: 0.46, n: 3 }, cell(0.56), cell(0.54)] },
      ],
      budget: { steps: 60, minutes: 20 },
      date: '2026-05-01',
    }),
  );
}
