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
import { CliError, numberFlag, parseArgs, stringFlag } from '../src/cli/args.ts';
import { runScript } from './script-errors.ts';
import { RunDir } from '../src/train/run-dir.ts';

const USAGE = 'usage: run-stats.ts RUN_DIR... [--window W] [--keys k1,k2] [--at A-B,...]';
type Row = Record<string, unknown>;

function ranges(spec: string | undefined): Array<[number, number]> {
  return (spec ?? '')
    .split(',')
    .filter((r) => r !== '')
    .map((r) => {
      const m = /^(\d+)-(\d+)$/.exec(r);
      if (!m || Number(m[1]) > Number(m[2])) throw new CliError(`--at: expected ranges A-B with A <= B, like 1100-1200; got "${r}"`);
      return [Number(m[1]), Number(m[2])];
    });
}

const has = (r: Row, key: string): boolean => typeof r[key] === 'number' && Number.isFinite(r[key]);
const mean = (rows: Row[], key: string): string => (rows.length === 0 ? '–' : (rows.reduce((a, r) => a + (r[key] as number), 0) / rows.length).toFixed(3));
const sum = (rows: Row[], key: string): number => rows.reduce((a, r) => a + (has(r, key) ? (r[key] as number) : 0), 0);

function report(dir: string, keys: string[], window: number | undefined, at: Array<[number, number]>): void {
  const rd = new RunDir(dir);
  const rows = rd.readMetrics().filter((r) => typeof r.step === 'number');
  const parts = [`${dir}: ${rows.length} steps (last ${rows.at(-1)?.step ?? '–'}), ${(rd.secondsOfSteps() / 60).toFixed(1)} min of steps`];
  if (rows.some((r) => has(r, 'sampled_groups'))) parts.push(`${sum(rows, 'sampled_groups')} sampled groups`);
  console.log(parts.join(', '));
  const w = window ?? Math.max(1, Math.min(20, Math.floor(rows.length / 4)));
  for (const key of keys) {
    const present = rows.filter((r) => has(r, key));
    if (present.length === 0) {
      console.log(`  ${key}: not in this run's metrics`);
      continue;
    }
    const line = [`  ${key}: first ${w} -> last ${w} steps with it ${mean(present.slice(0, w), key)} -> ${mean(present.slice(-w), key)}`];
    for (const [a, b] of at) {
      const inRange = present.filter((r) => (r.step as number) >= a && (r.step as number) <= b);
      const short = inRange.length < b - a + 1 ? ` (${inRange.length} of ${b - a + 1} steps)` : '';
      line.push(`steps ${a}-${b}: ${mean(inRange, key)}${short}`);
    }
    console.log(line.join('; '));
  }
}

runScript('run-stats', () => {
  const args = parseArgs(
    process.argv.slice(2),
    {
      window: { type: 'string', description: 'steps in the first/last window' },
      keys: { type: 'string', description: 'comma-separated metric keys' },
      at: { type: 'string', description: 'comma-separated step ranges A-B' },
    },
    'run-stats',
  );
  const dirs = args.positionals;
  if (dirs.length === 0 || args.overrides.length > 0) throw new CliError(USAGE);
  for (const d of dirs) if (!existsSync(join(d, 'metrics.jsonl'))) throw new CliError(`${d}: no metrics.jsonl (not a run directory?)`);
  const window = args.flags.window === undefined ? undefined : numberFlag(args, 'window', 0, { integer: true, min: 1 });
  const keys = (stringFlag(args, 'keys') ?? 'accuracy,entropy').split(',').filter((k) => k !== '');
  const at = ranges(stringFlag(args, 'at'));
  for (const d of dirs) report(d, keys, window, at);
});
