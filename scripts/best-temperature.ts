/**
 * The sampling temperature at which a policy scores best, from its evaluations at several
 * temperatures on a validation set (never the test rows): a table on stderr, the best temperature
 * alone on stdout (for scripts/exp-ladder.sh). Ties go to the higher temperature (the less sharpened).
 * With --exclude TEST.json, an evaluation sharing a problem with the test rows is refused; a best
 * temperature at the edge of the grid is flagged (the optimum may lie beyond it).
 *   node --import tsx scripts/best-temperature.ts --evals val-t0.5.json,val-t0.7.json,val-t1.json --exclude test-eval.json
 */
import { CliError, parseArgs, stringFlag } from '../src/cli/args.ts';
import { readEvalReport, type EvalReport } from '../src/eval/evaluate.ts';
import { runScript } from './script-errors.ts';

const USAGE = 'usage: best-temperature.ts --evals A.json,B.json[,...] [--exclude TEST_EVAL.json]';

runScript('best-temperature', () => {
  const args = parseArgs(
    process.argv.slice(2),
    {
      evals: { type: 'string', description: 'eval.json files of one policy at different temperatures, comma-separated' },
      exclude: { type: 'string', description: 'an eval.json of the test rows: refuse a validation row of the same problem' },
    },
    'best-temperature',
  );
  if (args.positionals.length || args.overrides.length) throw new CliError(USAGE);
  const files = (stringFlag(args, 'evals') ?? '').split(',').filter((f) => f !== '');
  if (files.length === 0) throw new CliError(`--evals needs a comma-separated list of eval.json files\n${USAGE}`);
  const rows = files.map((f) => ({ file: f, r: readEvalReport(f) }));
  const temps = rows.map((x) => x.r.temperature);
  if (new Set(temps).size !== temps.length) throw new CliError(`two evaluations at the same temperature: ${temps.join(', ')}`);
  const rowsOf = (r: EvalReport) => r.problems.map((p) => p.id).join('\n');
  for (const x of rows)
    if (x.r.k !== rows[0].r.k || rowsOf(x.r) !== rowsOf(rows[0].r)) throw new CliError(`${x.file} evaluated other rows or another k than ${rows[0].file}: compare temperatures on the same rows`);
  const exclude = stringFlag(args, 'exclude');
  if (exclude) {
    const test = new Set(readEvalReport(exclude).problems.map((p) => p.problem_key ?? `id:${p.id}`));
    const shared = rows[0].r.problems.filter((p) => test.has(p.problem_key ?? `id:${p.id}`));
    if (shared.length) throw new CliError(`${rows[0].file} shares ${shared.length} problem(s) with the test rows of ${exclude} (e.g. ${shared[0].id}): choose on rows outside the test`);
  }
  rows.sort((a, b) => a.r.temperature - b.r.temperature);
  let best = rows[0];
  for (const x of rows) if (x.r.overall.accuracy >= best.r.overall.accuracy) best = x;
  process.stderr.write(`temperature  accuracy  (avg@k on n rows)\n`);
  for (const x of rows)
    process.stderr.write(`${x.r.temperature.toFixed(2).padStart(11)}  ${(100 * x.r.overall.accuracy).toFixed(1).padStart(7)}%  (avg@${x.r.k} on ${x.r.overall.n})${x === best ? '  <- best' : ''}\n`);
  if (rows.length > 2 && (best === rows[0] || best === rows[rows.length - 1]))
    process.stderr.write(`note: the best temperature is at the edge of the grid; the optimum may lie beyond ${best.r.temperature}\n`);
  process.stdout.write(`${best.r.temperature}\n`);
});
