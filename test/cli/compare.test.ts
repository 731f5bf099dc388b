/**
 * `pgpo compare` on the tiny preset: a base, two algorithms, two seeds, then `pgpo report` over
 * the comparison directory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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
  const other = run([...compareArgs, 'worker.actor.optim.logit_scale_lr=0']);
  assert.notEqual(other.status, 0);
  assert.match(other.stderr, /runs\/dapo-seed0\/config\.yaml: it was trained with worker\.actor\.optim\.logit_scale_lr = 0\.03, not 0; give another --out/);
  const bad = run(['compare', '--preset', 'tiny', '--algos', 'base,ppo', '--base', base, '--out', out]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown algorithm "ppo"/);

  const r = run(['report', out, '--out', join(dir, 'report.html')]);
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  assert.ok(html.includes('pgpo') && html.includes('<svg'));
});
