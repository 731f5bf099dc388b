/**
 * `pgpo compare` on the tiny preset: a base, two algorithms, two seeds, then `pgpo report` over
 * the comparison directory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pgpo.js');
const env = { ...process.env, CI: 'true' };
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env });

test('compare trains every arm per seed from one base, writes the table, and the report renders it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-compare-'));
  const suite = `data.suite.dir=${join(dir, 'suite')}`;
  const base = join(dir, 'base');
  const s = run(['sft', '--preset', 'tiny', '--out', base, suite]);
  assert.equal(s.status, 0, s.stderr);
  const out = join(dir, 'cmp');
  const compareArgs = [
    'compare',
    '--preset',
    'tiny',
    '--algos',
    'base,dapo,pgpo',
    '--seeds',
    '2',
    '--budget',
    '2',
    '--base',
    base,
    '--out',
    out,
    suite,
    'experiment.pg_var_freq=1',
    'algorithm.online_filtering=false',
  ];
  const c = run(compareArgs);
  assert.equal(c.status, 0, c.stderr);
  const table = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
  assert.deepEqual(
    table.rows.map((r: { algo: string }) => r.algo),
    ['base', 'dapo', 'pgpo'],
  );
  assert.equal(table.seeds, 2);
  assert.equal(table.columns[table.columns.length - 1], 'overall');
  for (const row of table.rows) assert.equal(row.cells[row.cells.length - 1].n, 2);
  for (const name of ['dapo-seed0', 'dapo-seed1', 'pgpo-seed0', 'pgpo-seed1']) assert.ok(existsSync(join(out, 'runs', name, 'eval.json')), name);
  assert.match(c.stdout, /\| pgpo \|/);
  // the same command again reuses every run; other training settings are refused, naming the run and the key
  const again = run(compareArgs);
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /training|evaluating/);
  // more sampling seeds pool into each run's replicate (runs reused); base@T rows and the differences come with them
  const more = run([...compareArgs, 'eval.seeds=2', '--base-temperature', '0.5']);
  assert.equal(more.status, 0, more.stderr);
  assert.doesNotMatch(more.stderr, /training/);
  for (const [name, file] of [
    ['dapo-seed0', 'eval-seed1000.json'],
    ['pgpo-seed1', 'eval-seed1001.json'],
    ['base@0.5-seed1', 'eval-seed1001.json'],
  ])
    assert.ok(existsSync(join(out, 'runs', name, file)), `${name}/${file}`);
  const t2 = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
  assert.deepEqual(
    t2.rows.map((r: { algo: string }) => r.algo),
    ['base@0.5', 'base', 'dapo', 'pgpo'],
  );
  assert.equal(t2.eval_seeds, 2);
  assert.equal(JSON.parse(readFileSync(join(out, 'runs', 'base@0.5-seed0', 'eval.json'), 'utf8')).temperature, 0.5);
  const pairs = t2.differences.map((d: { a: string; b: string }) => `${d.a}-${d.b}`);
  assert.deepEqual(pairs, ['dapo-base@0.5', 'dapo-base', 'pgpo-dapo', 'pgpo-base@0.5', 'pgpo-base']);
  // each difference is that of the two rows' overall means (mean over the runs, each pooled over its sampling seeds)
  const overall = (a: string) => t2.rows.find((r: { algo: string }) => r.algo === a).cells.at(-1).mean;
  for (const d of t2.differences) assert.ok(Math.abs(d.diff - (overall(d.a) - overall(d.b))) < 1e-12, JSON.stringify(d));
  assert.match(more.stdout, /\| pgpo − dapo \|/);
  assert.match(more.stdout, /answered the prior/);
  const other = run([...compareArgs, 'worker.actor.optim.logit_scale_lr=0']);
  assert.notEqual(other.status, 0);
  assert.match(other.stderr, /runs\/dapo-seed0\/config\.yaml: it was trained with worker\.actor\.optim\.logit_scale_lr = 0\.03, not 0; give another --out/);
  const bad = run(['compare', '--preset', 'tiny', '--algos', 'base,ppo', '--base', base, '--out', out]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown algorithm "ppo"/);
  // one trainer.seed for every run would make the seeds one run
  const seeded = run([...compareArgs, 'trainer.seed=3']);
  assert.equal(seeded.status, 2);
  assert.match(seeded.stderr, /trainer\.seed is set per run by compare/);
  // a budget below the runs' checkpoints is refused instead of evaluating the longer runs under it
  const shorter = run(compareArgs.map((a, i) => (compareArgs[i - 1] === '--budget' ? '1' : a)));
  assert.notEqual(shorter.status, 0);
  assert.match(shorter.stderr, /holds a checkpoint at step 2, past --budget 1/);

  // an ablation picks its arms by name; uniform (every weight 1) is trained as DAPO, so DAPO's runs
  // serve as its runs, and each ablated arm is set against full PGPO
  const abl = join(dir, 'ablation');
  for (const s of [0, 1]) {
    cpSync(join(out, 'runs', `pgpo-seed${s}`), join(abl, 'runs', `pgpo-seed${s}`), { recursive: true });
    cpSync(join(out, 'runs', `dapo-seed${s}`), join(abl, 'runs', `uniform-seed${s}`), { recursive: true });
  }
  // the same settings as compareArgs, as an ablation of two arms in its own folder
  const ablationArgs = compareArgs.flatMap((x) => (x === 'compare' ? [x, '--ablation'] : x === 'base,dapo,pgpo' ? ['pgpo,uniform'] : x === out ? [abl] : [x]));
  const a = run(ablationArgs);
  assert.equal(a.status, 0, a.stderr);
  assert.doesNotMatch(a.stderr, /training/);
  const ta = JSON.parse(readFileSync(join(abl, 'compare.json'), 'utf8'));
  assert.deepEqual(
    ta.rows.map((r: { algo: string }) => r.algo),
    ['pgpo', 'uniform'],
  );
  assert.deepEqual(
    ta.differences.map((d: { a: string; b: string }) => `${d.a}-${d.b}`),
    ['pgpo-uniform'],
  );
  const unknownArm = run(ablationArgs.map((x) => (x === 'pgpo,uniform' ? 'pgpo,no-gate' : x)));
  assert.equal(unknownArm.status, 2);
  assert.match(unknownArm.stderr, /unknown ablation arm "no-gate" \(have: pgpo, no-norm, suppress-only, boost-only, uniform,/);

  const r = run(['report', out, '--out', join(dir, 'report.html')]);
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  assert.ok(html.includes('pgpo') && html.includes('<svg'));
});
