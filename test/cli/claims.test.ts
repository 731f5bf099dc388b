/**
 * scripts/claims.ts on a tiny hand-made compare folder: pg_var per arm and per run, the sparsity of S
 * on the first and latest tokens file, S and weights by token class and by role, notes on arms without data,
 * --json, and one-line errors for bad input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'claims.ts');
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8' });
const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

// By class: A template, = operator, 5 image digit, \boxed{ template, 9 computed, } template.
// By role: A and = value name, 5 written value (correct: the image shows 5), \boxed{ template, 9 result, } template.
const pieces = ['A', '=', '5', ' \\boxed{', '9', '}'];
const record = (dep: number[], weights: number[]) => ({ family: 'geometry', variant: 'vision-only', pieces, dep, weights, image_values: ['5'], text_values: [] });

function writeCompare(dir: string): void {
  const runDir = (name: string, algo: string, metrics: unknown[]) => {
    const p = join(dir, 'runs', name);
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'config.yaml'), `algorithm:\n  name: ${algo}\n`);
    writeFileSync(join(p, 'metrics.jsonl'), jsonl(metrics));
    return p;
  };
  mkdirSync(dir, { recursive: true });
  const cell = { mean: 0.5, lo: null, hi: null, n: 1 };
  writeFileSync(
    join(dir, 'compare.json'),
    JSON.stringify({ algos: ['base', 'dapo', 'pgpo'], seeds: 1, columns: ['overall'], rows: ['base', 'dapo', 'pgpo'].map((algo) => ({ algo, cells: [cell] })) }),
  );
  mkdirSync(join(dir, 'runs', 'base-seed0'), { recursive: true });
  writeFileSync(join(dir, 'runs', 'base-seed0', 'eval.json'), JSON.stringify({ overall: { accuracy: 0.2, n: 10 } }));
  // dapo: pg_var 4 and 1, geometric mean 2; no tokens/
  runDir('dapo-seed0', 'dapo', [{ step: 1, pg_var: 4 }, { step: 2, pg_var: 1 }, { step: 3 }]);
  // pgpo: pg_var 2 and 0.5 (geometric mean 1) against uniform 4 and 1: paired ratio 0.5 on both steps
  const pgpo = runDir('pgpo-seed0', 'pgpo', [
    { step: 1, pg_var: 2, pg_var_uniform: 4 },
    { step: 2, pg_var: 0.5, pg_var_uniform: 1 },
  ]);
  mkdirSync(join(pgpo, 'tokens'));
  // step 1: all S on one token of 6 (top-10% share 1, Gini 5/6); step 2: S equal (1/6, Gini 0)
  writeFileSync(join(pgpo, 'tokens', 'step-000001.jsonl'), jsonl([record([0, 0, 4, 0, 0, 0], [0, 0, 6, 0, 0, 0])]));
  writeFileSync(join(pgpo, 'tokens', 'step-000002.jsonl'), jsonl([record([1, 1, 1, 1, 1, 1], [0.5, 1, 3, 0, 1.5, 0])]));
}

test('claims: pg_var, sparsity, S and weights by class and by role of a compare folder, as tables and JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-claims-'));
  const cmp = join(dir, 'cmp');
  writeCompare(cmp);
  const out = join(dir, 'claims.json');
  const r = run([cmp, '--json', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\| dapo \| 1 \| 2 \| 2\.00 \| 2\.50 \| – \| 0 \|/);
  assert.match(r.stdout, /\| pgpo \| 1 \| 2 \| 1\.00 \| 1\.25 \| 0\.500 \| 2 \|/);
  assert.match(r.stdout, /PGPO \/ DAPO ratio of geometric means: \*\*0\.500\*\* \(per seed index, different batches after step 1: seed 0: 0\.500\)/);
  assert.match(r.stdout, /\| pgpo \| first \(step 1\) \| 1 \| 6 \| 0\.667 \| 100\.0% \| 0\.833 \|/);
  assert.match(r.stdout, /\| pgpo \| latest \(step 2\) \| 1 \| 6 \| 1\.000 \| 16\.7% \| 0\.000 \|/);
  assert.match(r.stdout, /\| digits read from the image \| 1 \| 3\.000 \| 3\.000 \| 100\.0% \| 100\.0% \| 50\.0% \|/);
  assert.match(r.stdout, /\| all tokens \| 6 \| 1\.000 \| {2}\| 33\.3% \| {2}\| 100\.0% \|/);
  // by role on the latest file: S all 1 (total 6), weights 0.5 1 3 0 1.5 0 (total 6)
  assert.match(r.stdout, /\| value name \| 2 \| 1\.000 \| 1\.000 \| 33\.3% \| 0\.750 \| 0\.750 \| 0\.0% \| 0\.0% \| 25\.0% \|/);
  assert.match(r.stdout, /\| written value \| 1 \| 1\.000 \| 1\.000 \| 16\.7% \| 3\.000 \| 3\.000 \| 100\.0% \| 100\.0% \| 50\.0% \|/);
  assert.match(r.stdout, /\| written value: correct \| 1 \| 1\.000 \| 1\.000 \| 16\.7% \| 3\.000 \| 3\.000 \| 100\.0% \| 100\.0% \| 50\.0% \|/);
  assert.match(r.stdout, /\| written value: misread \| 0 \| – \| – \| 0\.0% \| – \| – \| – \| – \| 0\.0% \|/);
  assert.match(r.stdout, /\| result \| 1 \| 1\.000 \| 1\.000 \| 16\.7% \| 1\.500 \| 1\.500 \| 100\.0% \| 100\.0% \| 25\.0% \|/);
  assert.match(r.stdout, /\| template \| 2 \| 1\.000 \| 1\.000 \| 33\.3% \| 0\.000 \| 0\.000 \| 0\.0% \| 0\.0% \| 0\.0% \|/);
  assert.match(r.stdout, /\| all tokens \| 6 \| 1\.000 \| {2}\| 100\.0% \| 1\.000 \| {2}\| 33\.3% \| {2}\| 100\.0% \|/);
  assert.match(r.stdout, /evaluated only, not trained \(no run directory\): base/);
  assert.match(r.stdout, /no tokens\/ files .*: dapo/);

  const j = JSON.parse(readFileSync(out, 'utf8')).folders[0];
  const arm = (name: string) => j.pgVariance.byArm.find((s: { algo: string }) => s.algo === name);
  close(arm('dapo').geoMean, 2);
  assert.equal(arm('dapo').pairedRatio, null); // NaN in JSON
  close(arm('pgpo').pairedRatio, 0.5);
  close(j.pgVariance.pgpoOverDapo, 0.5);
  close(j.sparsity[0].first.gini, 5 / 6);
  close(j.sparsity[0].latest.top10Share, 1 / 6);
  const byClass = Object.fromEntries(j.byClass[0].pooled.map((s: { cls: string }) => [s.cls, s]));
  close(byClass.template.meanS, 1);
  close(byClass['image-digit'].shareOfS, 1 / 6);
  const weights = Object.fromEntries(j.weightsByClass[0].pooled.map((s: { cls: string }) => [s.cls, s]));
  close(weights.template.meanWeight, 0.5 / 3);
  close(weights['computed-digit'].boosted, 1);
  const role = j.byRole[0];
  assert.equal(role.arm, 'pgpo');
  const depRole = Object.fromEntries(role.dependency.map((s: { row: string }) => [s.row, s]));
  const weightRole = Object.fromEntries(role.weights.map((s: { row: string }) => [s.row, s]));
  close(depRole['value-name'].shareOfS, 2 / 6);
  close(weightRole['written-correct'].shareOfWeight, 0.5);
  close(weightRole.result.meanWeight, 1.5);
  assert.equal(role.perRun.length, 1);
});

test('claims: one-line errors naming the folder or file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-claims-'));
  const none = run([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^claims: usage: claims\.ts COMPARE_DIR/);
  const notCompare = run([dir]);
  assert.equal(notCompare.status, 2);
  assert.match(notCompare.stderr, /pgpo-claims-\w+: no compare\.json/);
  const cmp = join(dir, 'cmp');
  writeCompare(cmp);
  writeFileSync(join(cmp, 'runs', 'pgpo-seed0', 'tokens', 'step-000001.jsonl'), JSON.stringify(record([1], [])) + '\n{}\n');
  const bad = run([cmp]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /tokens\/step-000001\.jsonl:1: dep has 1 values but pieces has 6\n$/);
});
