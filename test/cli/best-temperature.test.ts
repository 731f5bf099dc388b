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
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8' });

test('best temperature: the highest accuracy wins, a tie goes to the higher temperature', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-besttemp-'));
  const write = (t: number, acc: number) => {
    const f = join(dir, `t${t}.json`);
    writeFileSync(f, JSON.stringify({ k: 8, temperature: t, overall: { accuracy: acc, n: 256 }, format: 1, by_family: {}, by_variant: {}, problems: [] }));
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
  const none = run([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--evals needs/);
});
