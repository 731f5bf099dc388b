import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadInputs, loadRun, readTokenFile, RunDataError, tokenFiles } from '../../src/report/run-data.ts';
import { writeFixtureCompare, writeFixtureRun } from './fixture.ts';

describe('reading run and compare directories', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-rundata-'));
  it('reads a run: algorithm from config, seed from the name, metrics, rollouts, the last tokens file, eval', () => {
    const p = join(dir, 'pgpo-seed3');
    writeFixtureRun(p, { algo: 'pgpo', seed: 3, steps: 20 });
    const r = loadRun(p);
    assert.equal(r.algo, 'pgpo');
    assert.equal(r.seed, 3);
    assert.equal(r.metrics.length, 20);
    assert.equal(r.rollouts.length, 8);
    assert.equal(r.tokensStep, 20);
    assert.equal(r.tokens.length, 40);
    assert.equal(r.eval?.k, 8);
  });
  it('drops a metrics line cut by a crash, but names the file and line of any other bad line', () => {
    const p = join(dir, 'dapo-seed0');
    writeFixtureRun(p, { algo: 'dapo', seed: 0, steps: 12 });
    appendFileSync(join(p, 'metrics.jsonl'), '{"step": 13, "accur');
    assert.equal(loadRun(p).metrics.length, 12);
    writeFileSync(join(p, 'metrics.jsonl'), '{"step": 1}\n{"step": "two"}\n{"step": 3}\n');
    assert.throws(
      () => loadRun(p),
      (e: Error) => e instanceof RunDataError && /metrics\.jsonl:2: step/.test(e.message),
    );
    writeFileSync(join(p, 'metrics.jsonl'), '{"step": 1}\n');
    writeFileSync(join(p, 'tokens', 'step-000012.jsonl'), JSON.stringify({ family: 'f', variant: 'v', pieces: ['a', 'b'], dep: [0.1] }) + '\n');
    assert.throws(() => loadRun(p), /step-000012\.jsonl:1: dep has 1 values but pieces has 2/);
  });
  it("reads any tokens file of a run with its weights ([] when null or absent), and checks the weights' length", () => {
    const p = join(dir, 'tokens-run');
    mkdirSync(join(p, 'tokens'), { recursive: true });
    writeFileSync(join(p, 'metrics.jsonl'), '{"step": 1}\n');
    const rec = (weights: unknown) => JSON.stringify({ family: 'f', variant: 'v', pieces: ['a', 'b'], dep: [0.1, 0.2], ...(weights === undefined ? {} : { weights }) });
    writeFileSync(join(p, 'tokens', 'step-000001.jsonl'), [rec([0.5, 1.5]), rec(null), rec(undefined)].join('\n') + '\n');
    writeFileSync(join(p, 'tokens', 'step-000010.jsonl'), rec([1, 1]) + '\n');
    const files = tokenFiles(p);
    assert.deepEqual(
      files.map((f) => f.step),
      [1, 10],
    );
    assert.deepEqual(
      readTokenFile(files[0].file).map((r) => r.weights),
      [[0.5, 1.5], [], []],
    );
    assert.equal(loadRun(p).tokensStep, 10);
    assert.deepEqual(tokenFiles(join(dir, 'no-such-run')), []);
    writeFileSync(join(p, 'tokens', 'step-000010.jsonl'), rec([1]) + '\n');
    assert.throws(() => readTokenFile(join(p, 'tokens', 'step-000010.jsonl')), /step-000010\.jsonl:1: weights has 1 values but pieces has 2/);
  });
  it('reads a compare directory and its runs; rejects a row with the wrong number of cells', () => {
    const p = join(dir, 'cmp');
    writeFixtureCompare(p, { steps: 12 });
    const { compares, runs } = loadInputs([p]);
    assert.equal(compares.length, 1);
    assert.deepEqual(
      runs.map((r) => r.name),
      ['dapo-seed0', 'pgpo-seed0'],
    );
    assert.deepEqual(compares[0].table.differences, [], 'a compare.json from before the differences reads');
    assert.deepEqual(
      compares[0].evals.map((e) => `${e.arm}/${e.seed}`),
      ['dapo/0', 'pgpo/0'],
    );
    writeFileSync(join(p, 'compare.json'), JSON.stringify({ algos: ['a'], seeds: 1, columns: ['x', 'y'], rows: [{ algo: 'a', cells: [{ mean: 1, lo: 1, hi: 1, n: 1 }] }] }));
    assert.throws(() => loadInputs([p]), /rows\[0\] \(a\) has 1 cells for 2 columns/);
    assert.throws(() => loadInputs([join(dir, 'nope')]), /no such directory/);
  });
  it('names an unfinished comparison (runs/ but no compare.json yet) and how to report it', () => {
    const p = join(dir, 'cmp-unfinished');
    writeFixtureCompare(p, { steps: 12 });
    rmSync(join(p, 'compare.json'));
    assert.throws(() => loadInputs([p]), /not a run directory .*unfinished comparison \(no compare\.json yet\).*pgpo report \S*cmp-unfinished\/runs\/dapo-seed0 \S*cmp-unfinished\/runs\/pgpo-seed0$/);
  });
});
