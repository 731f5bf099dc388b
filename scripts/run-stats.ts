/**
 * Summary numbers of one or more run directories, read from their metrics.jsonl: the numbers
 * docs/results.md quotes about runs (time of steps, sampled groups, first -> last window means).
 *   node --import tsx scripts/run-stats.ts runs/p-split [--window 20] [--keys accuracy,entropy]
 *   node --import tsx scripts/run-stats.ts models/small-base --keys loss_reading --at 1100-1200,1901-2000
 * --window W: mean of the first and the last W steps that have the key (default min(20, steps/4),
 *   as results.md uses).
 * --at A-B,...: the mean of each key over steps A..B inclusive, with how many steps it averaged.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RunDir } from '../src/train/run-dir.ts';

class UsageError extends Error {}
const USAGE = 'usage: run-stats.ts RUN_DIR... [--window W] [--keys k1,k2] [--at A-B,...]';

interface Options {
  dirs: string[];
  window: number | null;
  keys: string[];
  at: Array<[number, number]>;
}

function parse(argv: string[]): Options {
  const o: Options = { dirs: [], window: null, keys: ['accuracy', 'entropy'], at: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--window') {
      const w = Number(value());
      if (!Number.isInteger(w) || w < 1) throw new UsageError(`--window: expected a positive integer, got "${argv[i]}"`);
      o.window = w;
    } else if (a === '--keys') o.keys = value().split(',').filter((k) => k !== '');
    else if (a === '--at')
      o.at = value()
        .split(',')
        .map((r) => {
          const m = /^(\d+)-(\d+)$/.exec(r);
          if (!m || Number(m[1]) > Number(m[2])) throw new UsageError(`--at: expected ranges A-B with A <= B, like 1100-1200; got "${r}"`);
          return [Number(m[1]), Number(m[2])] as [number, number];
        });
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}\n${USAGE}`);
    else o.dirs.push(a);
  }
  if (o.dirs.length === 0) throw new UsageError(USAGE);
  for (const d of o.dirs) if (!existsSync(join(d, 'metrics.jsonl'))) throw new UsageError(`${d}: no metrics.jsonl (not a run directory?)`);
  return o;
}

type Row = Record<string, unknown>;
const has = (r: Row, key: string): boolean => typeof r[key] === 'number' && Number.isFinite(r[key]);
const mean = (rows: Row[], key: string): string => {
  const xs = rows.filter((r) => has(r, key)).map((r) => r[key] as number);
  return xs.length === 0 ? '–' : (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3);
};
const sum = (rows: Row[], key: string): number => rows.reduce((a, r) => a + (has(r, key) ? (r[key] as number) : 0), 0);

let opts: Options;
try {
  opts = parse(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`run-stats: ${err.message}\n`);
  process.exit(2);
}
for (const dir of opts.dirs) {
  const rows = new RunDir(dir).readMetrics().filter((r) => typeof r.step === 'number');
  if (rows.length === 0) {
    console.log(`${dir}: no metrics`);
    continue;
  }
  const last = rows[rows.length - 1]!.step as number;
  const minutes = sum(rows, 'time_step') / 60;
  const parts = [`${dir}: ${rows.length} steps (last ${last}), ${minutes.toFixed(1)} min of steps`];
  if (rows.some((r) => typeof r.sampled_groups === 'number')) parts.push(`${sum(rows, 'sampled_groups')} sampled groups`);
  console.log(parts.join(', '));
  const w = opts.window ?? Math.max(1, Math.min(20, Math.floor(rows.length / 4)));
  for (const key of opts.keys) {
    const present = rows.filter((r) => has(r, key));
    if (present.length === 0) {
      console.log(`  ${key}: not in this run's metrics`);
      continue;
    }
    const line = [`  ${key}: first ${w} -> last ${w} steps with it ${mean(present.slice(0, w), key)} -> ${mean(present.slice(-w), key)}`];
    for (const [a, b] of opts.at) {
      const inRange = present.filter((r) => (r.step as number) >= a && (r.step as number) <= b);
      const short = inRange.length < b - a + 1 ? ` (${inRange.length} of ${b - a + 1} steps)` : '';
      line.push(`steps ${a}-${b}: ${mean(inRange, key)}${short}`);
    }
    console.log(line.join('; '));
  }
}
