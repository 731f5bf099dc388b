/**
 * The paired gain of a trained policy over its base, each evaluated several times (other sampling
 * seeds: `pgpo eval --seed N --out FILE`), with every row's samples pooled (avg@8 x 3 seeds =
 * avg@24): the gain with both sides re-drawn (docs/training.md, "Before trusting a gain").
 *   node --import tsx scripts/pooled-gain.ts --base b1.json,b2.json,b3.json --trained t1.json,t2.json,t3.json
 */
import { CliError, parseArgs, stringFlag } from '../src/cli/args.ts';
import { runScript } from './script-errors.ts';
import { formatGain, poolReports } from '../src/eval/compare.ts';
import { readEvalReport, type EvalReport } from '../src/eval/evaluate.ts';

const USAGE = 'usage: pooled-gain.ts --base A.json[,B.json...] --trained X.json[,Y.json...]';

runScript('pooled-gain', () => {
  const args = parseArgs(
    process.argv.slice(2),
    {
      base: { type: 'string', description: "the base's eval.json files, comma-separated" },
      trained: { type: 'string', description: "the trained policy's eval.json files, comma-separated" },
    },
    'pooled-gain',
  );
  const read = (flag: string): EvalReport[] => {
    const list =
      stringFlag(args, flag)
        ?.split(',')
        .filter((f) => f !== '') ?? [];
    if (list.length === 0) throw new CliError(`--${flag} needs a comma-separated list of eval.json files\n${USAGE}`);
    return list.map((f) => readEvalReport(f));
  };
  if (args.positionals.length || args.overrides.length) throw new CliError(USAGE);
  const base = read('base');
  const trained = read('trained');
  const seeds = (rs: EvalReport[]) => rs.map((r) => String((r as { seed?: unknown }).seed ?? '?')).join(', ');
  const pct = (r: EvalReport) => `${(100 * r.overall.accuracy).toFixed(1)}%`;
  console.log(`base: ${base.map(pct).join(', ')} (seeds ${seeds(base)}); trained: ${trained.map(pct).join(', ')} (seeds ${seeds(trained)})`);
  console.log(`pooled, avg@${base.reduce((a, r) => a + r.k, 0)} vs avg@${trained.reduce((a, r) => a + r.k, 0)}: ${formatGain(poolReports(base), poolReports(trained))}`);
});
