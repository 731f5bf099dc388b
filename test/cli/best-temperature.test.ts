/**
 * scripts/best-temperature.ts: the temperature of the best validation evaluation on stdout (ties
 * to the higher temperature), a table on stderr, one-line errors for bad input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'best-temperature.ts');
const row = (key: string) => ({ id: key, problem_key: key, family: 'chart', variant: 'text-lite', correct: 1, k: 8, sample: '' });
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8' });

test('best temperature: the highest accuracy wins, a tie goes to the higher temperature', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-besttemp-'));
  const write = (t: number, acc: number) => {
    const f = join(dir, `t${t}.json`);
    writeFileSync(f, JSON.stringify({ k: 8, temperature: t, overall: { accuracy: acc, n: 2 }, format: 1, by_family: {}, by_variant: {}, problems: [row('v1'), row('v2')] }));
    return f;
  };
  const files = [write(0.5, 0.3), write(0.7, 0.42), write(1, 0.35)];
  const r = run(['--evals', files.join(',')]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '0.7\n');
  assert.match(r.stderr, /0\.70\s+42\.0%.*<- best/);
  const tie = run(['--evals', [files[0], write(0.9, 0.3)].join(',')]);
  assert.equal(tie.stdout, '0.9\n');
  const same = run(['--evals', [files[0], files[0]].join(',')]);
  assert.equal(same.status, 2);
  assert.match(same.stderr, /same temperature/);
  // on rows outside the test only
  const test = join(dir, 'test.json');
  writeFileSync(test, JSON.stringify({ k: 8, temperature: 1, overall: { accuracy: 0, n: 1 }, format: 1, by_family: {}, by_variant: {}, problems: [row('v2')] }));
  const leak = run(['--evals', files.join(','), '--exclude', test]);
  assert.equal(leak.status, 2);
  assert.match(leak.stderr, /shares 1 problem\(s\) with the test rows/);
  // the best at the edge of the grid is flagged
  const edge = run(['--evals', [write(0.3, 0.9), ...files].join(',')]);
  assert.equal(edge.stdout, '0.3\n');
  assert.match(edge.stderr, /at the edge of the grid/);
  const none = run([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--evals needs/);
});
