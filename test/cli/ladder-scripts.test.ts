/**
 * scripts/rung-table.ts (accuracy per rung per arm, replicates grouped by file name, prior share
 * pooled over samples) and scripts/memorisation-gap.ts (training stream vs held-out problems,
 * Welch over problems), on hand-made eval files whose answers are computed by hand.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const script = (name: string) => join(import.meta.dirname, '..', '..', 'scripts', name);
const run = (name: string, args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', script(name), ...args], { encoding: 'utf8' });
const row = (key: string, correct: number) => ({ id: key, problem_key: key, family: 'chart', variant: 'text-lite', correct, k: 8, sample: '' });
const report = (extra: object, problems = [row('a', 1)]) => ({ k: 8, temperature: 1, overall: { accuracy: 0.1, n: problems.length }, format: 1, by_family: {}, by_variant: {}, problems, ...extra });

test('rung table: replicates of an arm averaged with their range, prior shares pooled by samples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-rungs-'));
  const write = (name: string, r1: number, r2: number, prior: { n: number; rate: number }) => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify(report({ by_rung: { 'rung 1': { accuracy: r1, n: 10 }, 'rung 2': { accuracy: r2, n: 10 } }, prior_by_rung: { 'rung 2': prior } })));
    return f;
  };
  const files = [
    write('base-rungs.json', 0.3, 0.1, { n: 8, rate: 0.5 }),
    write('rungs-frozen-dapo-seed0.json', 0.2, 0.1, { n: 10, rate: 0.2 }),
    write('rungs-frozen-dapo-seed1.json', 0.4, 0.3, { n: 30, rate: 0.6 }),
  ];
  const r = run('rung-table.ts', files);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\| base \| 1 \| 30\.0 \| 10\.0 \|/);
  // mean of 20% and 40%, range 20-40; prior: (0.2*10 + 0.6*30) / 40 = 50%
  assert.match(r.stdout, /\| frozen dapo \| 2 \| 30\.0 \(20\.0-40\.0\) \| 20\.0 \(10\.0-30\.0\) \|/);
  assert.match(r.stdout, /\| frozen dapo \| – \| 50\.0 \(n=40\) \|/);
  // replicates of one arm must share their rows
  const odd = join(dir, 'rungs-frozen-dapo-seed2.json');
  writeFileSync(odd, JSON.stringify(report({ by_rung: { 'rung 1': { accuracy: 0.1, n: 10 } } }, [row('zz', 1)])));
  const mixed = run('rung-table.ts', [...files, odd]);
  assert.equal(mixed.status, 2);
  assert.match(mixed.stderr, /frozen dapo: .* evaluated different rows/);
  const classic = join(dir, 'classic.json');
  writeFileSync(classic, JSON.stringify(report({})));
  const bad = run('rung-table.ts', [classic]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /classic\.json: no accuracy per rung/);
});

test('memorisation gap: training stream minus held out over problems, refusing shared problems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-memo-'));
  const train = join(dir, 'train.json');
  const held = join(dir, 'held.json');
  // per-problem accuracies 4/8, 2/8 (mean 0.375) against 2/8, 0/8 (mean 0.125): +25.0 points,
  // each side's variance 0.03125 over 2 problems, se^2 = 0.03125, df = 2: half-width 4.303 * 0.1768 = 0.761
  writeFileSync(train, JSON.stringify({ split: 'train', use: 'sft', ckpt: 'base', ...report({}, [row('t1', 4), row('t2', 2)]) }));
  writeFileSync(held, JSON.stringify({ split: 'test', ckpt: 'base', ...report({}, [row('h1', 2), row('h2', 0)]) }));
  const r = run('memorisation-gap.ts', ['--train', train, '--heldout', held]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\| SFT trained on − held out \| \+25\.0 \| -51\.1 to \+101\.1 \| not told apart \|/);
  const leak = join(dir, 'leak.json');
  writeFileSync(leak, JSON.stringify({ split: 'test', ckpt: 'base', ...report({}, [row('t2', 0)]) }));
  const shared = run('memorisation-gap.ts', ['--train', train, '--heldout', leak]);
  assert.equal(shared.status, 2);
  assert.match(shared.stderr, /share 1 problem\(s\) \(e\.g\. t2\)/);
  const swapped = run('memorisation-gap.ts', ['--train', held, '--heldout', train]);
  assert.equal(swapped.status, 2);
  assert.match(swapped.stderr, /an evaluation of the test split; --train wants one of --split train/);
  // the training side must be the problems a stage visited, of the same checkpoint
  const unvisited = join(dir, 'unvisited.json');
  writeFileSync(unvisited, JSON.stringify({ split: 'train', ckpt: 'base', ...report({}, [row('u1', 1)]) }));
  assert.match(run('memorisation-gap.ts', ['--train', unvisited, '--heldout', held]).stderr, /not an evaluation of the problems a stage visited/);
  const other = join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ split: 'test', ckpt: 'trained', ...report({}, [row('h1', 2)]) }));
  assert.match(run('memorisation-gap.ts', ['--train', train, '--heldout', other]).stderr, /different checkpoints \(base and trained\)/);
});
