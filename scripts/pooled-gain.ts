/**
 * The paired gain of a trained policy over its base, each evaluated several times (other sampling
 * seeds: `pgpo eval --seed N --out FILE`), with every row's samples pooled (avg@8 x 3 seeds =
 * avg@24): the gain with both sides re-drawn (docs/training.md, "Before trusting a gain").
 *   node --import tsx scripts/pooled-gain.ts --base b1.json,b2.json,b3.json --trained t1.json,t2.json,t3.json
 */
import { formatGain, poolReports } from '../src/eval/compare.ts';
import { EvalReportError, readEvalReport, type EvalReport } from '../src/eval/evaluate.ts';

const USAGE = 'usage: pooled-gain.ts --base A.json[,B.json...] --trained X.json[,Y.json...]';

function files(argv: string[], flag: string): string[] {
  const i = argv.indexOf(flag);
  const list = i < 0 ? undefined : argv[i + 1];
  if (list === undefined || list.startsWith('--')) throw new EvalReportError(`${flag} needs a comma-separated list of eval.json files\n${USAGE}`);
  return list.split(',').filter((f) => f !== '');
}

try {
  const argv = process.argv.slice(2);
  const unknown = argv.filter((a, i) => a.startsWith('-') && a !== '--base' && a !== '--trained' && !(i > 0 && (argv[i - 1] === '--base' || argv[i - 1] === '--trained')));
  if (unknown.length) throw new EvalReportError(`unknown option ${unknown[0]}\n${USAGE}`);
  const read = (list: string[]): EvalReport[] => list.map((f) => readEvalReport(f));
  const base = read(files(argv, '--base'));
  const trained = read(files(argv, '--trained'));
  const seeds = (rs: EvalReport[]) => rs.map((r) => String((r as { seed?: unknown }).seed ?? '?')).join(', ');
  const pct = (r: EvalReport) => `${(100 * r.overall.accuracy).toFixed(1)}%`;
  console.log(`base: ${base.map(pct).join(', ')} (seeds ${seeds(base)}); trained: ${trained.map(pct).join(', ')} (seeds ${seeds(trained)})`);
  console.log(`pooled, avg@${base.reduce((a, r) => a + r.k, 0)} vs avg@${trained.reduce((a, r) => a + r.k, 0)}: ${formatGain(poolReports(base), poolReports(trained))}`);
} catch (err) {
  if (!(err instanceof EvalReportError)) throw err;
  process.stderr.write(`pooled-gain: ${err.message}\n`);
  process.exit(2);
}
