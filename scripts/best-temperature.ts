/**
 * The sampling temperature at which a policy scores best, from its evaluations at several
 * temperatures on a validation set (never the test rows): a table on stderr, the best temperature
 * alone on stdout (for scripts/exp-ladder.sh). Ties go to the higher temperature (the less sharpened).
 *   node --import tsx scripts/best-temperature.ts --evals val-t0.5.json,val-t0.7.json,val-t1.json
 */
import { CliError, parseArgs, stringFlag } from '../src/cli/args.ts';
import { readEvalReport } from '../src/eval/evaluate.ts';
import { runScript } from './script-errors.ts';

const USAGE = 'usage: best-temperature.ts --evals A.json,B.json[,...]';

runScript('best-temperature', () => {
  const args = parseArgs(process.argv.slice(2), { evals: { type: 'string', description: 'eval.json files of one policy at different temperatures, comma-separated' } }, 'best-temperature');
  if (args.positionals.length || args.overrides.length) throw new CliError(USAGE);
  const files = (stringFlag(args, 'evals') ?? '').split(',').filter((f) => f !== '');
  if (files.length === 0) throw new CliError(`--evals needs a comma-separated list of eval.json files\n${USAGE}`);
  const rows = files.map((f) => ({ file: f, r: readEvalReport(f) }));
  const temps = rows.map((x) => x.r.temperature);
  if (new Set(temps).size !== temps.length) throw new CliError(`two evaluations at the same temperature: ${temps.join(', ')}`);
  rows.sort((a, b) => a.r.temperature - b.r.temperature);
  let best = rows[0];
  for (const x of rows) if (x.r.overall.accuracy >= best.r.overall.accuracy) best = x;
  process.stderr.write(`temperature  accuracy  (avg@k on n rows)\n`);
  for (const x of rows)
    process.stderr.write(`${x.r.temperature.toFixed(2).padStart(11)}  ${(100 * x.r.overall.accuracy).toFixed(1).padStart(7)}%  (avg@${x.r.k} on ${x.r.overall.n})${x === best ? '  <- best' : ''}\n`);
  process.stdout.write(`${best.r.temperature}\n`);
});
