/**
 * A validation set for choosing RL settings without looking at the test: rows of a generated
 * test-split pool whose problem (problem_key) is not among the test file's. The split is drawn by
 * problem key, so none of them is a training problem either. At difficulty 1 the test split's
 * problem space outside the test file is mostly charts, so charts are capped at one row per
 * problem and `--charts` problems; other families keep up to `--per-problem` rows (variants).
 *   npx pgpo data generate --out runs/val-pool --n 5000 --split test --seed 777 --format jsonl
 *   node --import tsx scripts/holdout-val.ts --pool runs/val-pool/test.jsonl --exclude data/suite/test.parquet --out runs/valset2
 *   npx pgpo eval --ckpt RUN --n 356 data.val_files=runs/valset2/val.jsonl
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CliError, numberFlag, parseArgs, stringFlag } from '../src/cli/args.ts';
import { readDataset } from '../src/data/dataset.ts';
import { runScript } from './script-errors.ts';

const USAGE = 'usage: holdout-val.ts --pool POOL.jsonl --exclude TEST_FILE --out DIR [--charts 200] [--per-problem 4]';
type Row = { id: string; problem_key: string; family: string; variant: string; images: string[] };

runScript('holdout-val', async () => {
  const a = parseArgs(
    process.argv.slice(2),
    {
      pool: { type: 'string', description: 'a JSONL test-split pool (pgpo data generate --split test --format jsonl)' },
      exclude: { type: 'string', description: 'the test file whose problems are left out (parquet or JSONL)' },
      out: { type: 'string', description: 'output folder: val.jsonl and images/' },
      charts: { type: 'string', description: 'most chart problems kept (default 200)' },
      'per-problem': { type: 'string', description: 'most rows per non-chart problem (default 4)' },
    },
    'holdout-val',
  );
  const pool = stringFlag(a, 'pool');
  const exclude = stringFlag(a, 'exclude');
  const out = stringFlag(a, 'out');
  if (!pool || !exclude || !out) throw new CliError(USAGE);
  const maxCharts = numberFlag(a, 'charts', 200, { integer: true, min: 0 });
  const perProblem = numberFlag(a, 'per-problem', 4, { integer: true, min: 1 });
  const testKeys = new Set((await readDataset(exclude)).map((r) => String(r.fields.problem_key)));
  if (testKeys.has('undefined')) throw new CliError(`${exclude}: rows without a problem_key column (a generated suite has one)`);
  if (!pool.endsWith('.jsonl')) throw new CliError(`--pool: expected a .jsonl file (its images are copied), got ${pool}`);
  // every column as written, so the rows go out as they came in
  const rows = (await readDataset(pool)).map((r) => r.fields as unknown as Row);
  const seen = new Map<string, number>();
  const variants = new Set<string>();
  let charts = 0;
  const kept: Row[] = [];
  for (const r of rows) {
    if (!r.problem_key || !r.family) throw new CliError(`${pool}: a row without problem_key or family (id ${r.id})`);
    if (testKeys.has(r.problem_key) || variants.has(`${r.problem_key}/${r.variant}`)) continue;
    const n = seen.get(r.problem_key) ?? 0;
    const chart = r.family === 'chart';
    if (n >= (chart ? 1 : perProblem) || (chart && n === 0 && charts >= maxCharts)) continue;
    if (chart) charts++;
    seen.set(r.problem_key, n + 1);
    variants.add(`${r.problem_key}/${r.variant}`);
    kept.push(r);
  }
  kept.sort((x, y) => (x.id < y.id ? -1 : 1)); // ids are content hashes: a mixed order, so a prefix mixes families
  mkdirSync(join(out, 'images'), { recursive: true });
  for (const r of kept) for (const im of r.images) copyFileSync(join(dirname(pool), im), join(out, im));
  writeFileSync(join(out, 'val.jsonl'), kept.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const fam = new Map<string, number>();
  for (const r of kept) fam.set(r.family, (fam.get(r.family) ?? 0) + 1);
  console.log(`wrote ${kept.length} rows of ${seen.size} problems (none in ${exclude}) to ${join(out, 'val.jsonl')}: ${[...fam].map(([f, n]) => `${f} ${n}`).join(', ')}`);
});
