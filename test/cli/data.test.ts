// `pgpo data generate` and `pgpo data inspect` end to end in a child process, as a user runs them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDataset } from '../../src/data/index.ts';
import { generateSuite } from '../../src/tasks/index.ts';

const BIN = join(import.meta.dirname, '../../bin/pgpo.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'data', ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'pgpo-data-cli-'));

describe('pgpo data', () => {
  it('generates a parquet dataset that inspect summarises and the loader reads back exactly', async () => {
    const out = join(dir, 'pq');
    const g = run(['generate', '--out', out, '--n', '20', '--seed', '3']);
    assert.equal(g.status, 0, g.stderr);
    assert.match(g.stdout, /wrote 20 train problems/);
    const file = join(out, 'train.parquet');
    const i = run(['inspect', file, '--examples', '1']);
    assert.equal(i.status, 0, i.stderr);
    assert.match(i.stdout, /20 rows, 20 images/);
    assert.match(i.stdout, /geometry \/ text-dominant\s+1/);
    assert.match(i.stdout, /48x48 png\s+20/);
    assert.match(i.stdout, /solution: <think>/);
    const loaded = await loadDataset(file);
    const suite = generateSuite({ n: 20, seed: 3 });
    loaded.forEach((x, k) => {
      assert.equal(x.problem, suite[k].problem);
      assert.equal(x.problemKey, suite[k].problemKey);
      assert.deepEqual(x.image.data, suite[k].image.data);
    });
  });

  it('inspect counts distinct problems (problem keys), not rows: variants of one problem count once', () => {
    const out = join(dir, 'keys');
    assert.equal(run(['generate', '--out', out, '--n', '150', '--seed', '5', '--families', 'choice,geometry']).status, 0);
    const i = run(['inspect', join(out, 'train.parquet'), '--examples', '0']);
    assert.equal(i.status, 0, i.stderr);
    const suite = generateSuite({ n: 150, seed: 5, families: ['choice', 'geometry'] });
    const distinct = (f: string) => new Set(suite.filter((t) => t.family === f).map((t) => t.problemKey)).size;
    const total = new Set(suite.map((t) => t.problemKey)).size;
    assert.ok(total < 150, `the fixture repeats problems (${total} distinct in 150 rows)`);
    assert.match(i.stdout, new RegExp(`distinct problems \\(problem_key\\): ${total} in 150 rows\\n  choice\\s+${distinct('choice')}\\n  geometry\\s+${distinct('geometry')}\\n`));
  });

  it('generates JSONL with PNG files, honouring families, variants, split and image size', () => {
    const out = join(dir, 'js');
    const g = run(['generate', '--out', out, '--n', '6', '--format', 'jsonl', '--families', 'chart,counting', '--variants', 'vision-only', '--split', 'test', '--image-size', '64']);
    assert.equal(g.status, 0, g.stderr);
    assert.ok(existsSync(join(out, 'test.jsonl')));
    assert.equal(readdirSync(join(out, 'images')).length, 6);
    const i = run(['inspect', join(out, 'test.jsonl')]);
    assert.equal(i.status, 0, i.stderr);
    assert.match(i.stdout, /chart \/ vision-only\s+3/);
    assert.match(i.stdout, /64x64 png\s+6/);
  });

  it('generate --help: the usage line shows every flag, --difficulty included', () => {
    const r = run(['generate', '--help']);
    assert.equal(r.status, 0, r.stderr);
    const usage = r.stdout.split('\n').find((l) => l.includes('pgpo data generate'))!;
    for (const flag of ['--out', '--n', '--families', '--variants', '--split', '--seed', '--difficulty', '--format', '--image-size']) assert.ok(usage.includes(flag), `usage lacks ${flag}: ${usage}`);
  });

  it('rejects bad arguments with exit 2 and names the flag', () => {
    const r = run(['generate', '--out', dir, '--n', '5', '--families', 'geometry,poetry']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--families: unknown "poetry"/);
    const bad = run(['inspect', join(dir, 'nope.jsonl')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /nope\.jsonl: cannot read: ENOENT/);
  });
});
