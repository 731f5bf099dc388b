// `pgpo data generate --world ladder` and what `pgpo data inspect` says of such a file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const BIN = join(import.meta.dirname, '../../bin/pgpo.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'data', ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'pgpo-data-ladder-'));

describe('pgpo data, ladder world', () => {
  it('writes rung and prior columns; inspect reports rows per rung, the space size per family and the prior rate', () => {
    const g = run(['generate', '--out', dir, '--n', '50', '--world', 'ladder', '--rungs', '1,5', '--format', 'jsonl']);
    assert.equal(g.status, 0, g.stderr);
    assert.match(g.stdout, /wrote 50 train problems \(seed 0, ladder rungs 1,5, 48px\)/);
    const i = run(['inspect', join(dir, 'train.jsonl'), '--examples', '0']);
    assert.equal(i.status, 0, i.stderr);
    assert.match(i.stdout, /rung 1: 25 rows; arithmetic 1,620,000, chart 1,619,100, choice 2,332,800,000, counting 7,988,854,202, geometry 2,430,000/);
    assert.match(i.stdout, /rung 5: 25 rows;/);
    assert.match(i.stdout, /language priors: \d+ rows carry one/);
  });
  it('refuses bad flags naming them', () => {
    assert.match(run(['generate', '--out', dir, '--n', '5', '--world', 'ladder', '--rungs', '0']).stderr, /--rungs: "0" is not a rung/);
    assert.match(run(['generate', '--out', dir, '--n', '5', '--rungs', '2']).stderr, /--rungs applies to --world ladder only/);
    assert.match(run(['generate', '--out', dir, '--n', '5', '--world', 'maze']).stderr, /--world must be classic or ladder/);
    assert.match(run(['generate', '--out', dir, '--n', '5', '--world', 'ladder', '--image-size', '32']).stderr, /at least 48 px/);
  });
});
