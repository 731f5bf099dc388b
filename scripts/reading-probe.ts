/**
 * Does a checkpoint read? Reading drills (greedy) and ladder problems per rung (avg over k samples
 * at T = 1), each with the real figure and with a blank one (src/eval/reading-probe.ts says how
 * each number is counted). A policy that reads loses most of its score without the figure.
 *   node --import tsx scripts/reading-probe.ts --ckpt models/ladder-base [--drills 200] [--drill-numbers 6] [--rungs 1,2,3] [--n 200] [--k 4] [--seed 4321]
 */
import { CliError, numberFlag, parseArgs, stringFlag } from '../src/cli/args.ts';
import { readingProbe } from '../src/eval/reading-probe.ts';
import { policyFactoryFor } from '../src/model/backends.ts';
import { RUNGS, type Rung } from '../src/tasks/ladder.ts';
import { loadCheckpointPolicy } from '../src/train/open-run.ts';
import { resolveLatest } from '../src/train/trainer.ts';
import { runScript } from './script-errors.ts';

const USAGE = 'usage: reading-probe.ts --ckpt DIR [--drills 200] [--drill-numbers 6] [--rungs 1,2,3] [--n 200] [--k 4] [--seed 4321]';

runScript('reading-probe', async () => {
  const args = parseArgs(
    process.argv.slice(2),
    {
      ckpt: { type: 'string', description: 'checkpoint directory, or a run directory (its latest checkpoint)' },
      drills: { type: 'string', description: 'reading drills (0: none; default 200)' },
      'drill-numbers': { type: 'string', description: 'most numbers a drill holds, 1-6 (default 6: the standard drill)' },
      rungs: { type: 'string', description: 'ladder rungs to probe, comma-separated (default 1,2,3; "none" for none)' },
      n: { type: 'string', description: 'problems per rung (default 200)' },
      k: { type: 'string', description: 'samples per problem at T = 1 (default 4)' },
      seed: { type: 'string', description: 'the probe stream and sampling seed (default 4321: apart from the suite test set)' },
    },
    'reading-probe',
  );
  const ckpt = stringFlag(args, 'ckpt');
  if (!ckpt || args.positionals.length || args.overrides.length) throw new CliError(USAGE);
  const rungsText = stringFlag(args, 'rungs', '1,2,3');
  const rungs = rungsText === 'none' ? [] : rungsText.split(',').map((s) => Number(s.trim()));
  const bad = rungs.find((r) => !RUNGS.includes(r as Rung));
  if (bad !== undefined) throw new CliError(`--rungs: ${JSON.stringify(rungsText)} holds ${bad}; rungs are ${RUNGS.join(', ')}`);
  const opts = {
    drills: numberFlag(args, 'drills', 200, { integer: true, min: 0 }),
    drillNumbers: numberFlag(args, 'drill-numbers', 6, { integer: true, min: 1, max: 6 }),
    rungs: rungs as Rung[],
    problems: numberFlag(args, 'n', 200, { integer: true, min: 1 }),
    k: numberFlag(args, 'k', 4, { integer: true, min: 1 }),
    seed: numberFlag(args, 'seed', 4321, { integer: true }),
    maxNewTokens: 48,
  };
  const policy = await loadCheckpointPolicy(policyFactoryFor('native'), resolveLatest(ckpt));
  const res = await readingProbe(policy, opts);
  policy.dispose();
  const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');
  const out: string[] = [`reading probe of ${resolveLatest(ckpt)}`, ''];
  if (res.drills.length) {
    out.push(`reading drills (${opts.drills}, up to ${opts.drillNumbers} numbers each, greedy)`, '', '| figure | numbers read | digits read |', '|---|---:|---:|');
    for (const d of res.drills) out.push(`| ${d.image} | ${pct(d.numberAccuracy)}% | ${pct(d.digitAccuracy)}% |`);
    out.push('');
  }
  if (res.rungs.length) {
    out.push(`ladder problems (${opts.problems} per rung, ${opts.k} samples each at T = 1)`, '');
    out.push('| rung | figure | accuracy | format | values only the figure shows, written | values the text gives, written | misleading prior answered |', '|---:|---|---:|---:|---:|---:|---:|');
    for (const r of res.rungs)
      out.push(`| ${r.rung} | ${r.image} | ${pct(r.accuracy)}% | ${pct(r.format)}% | ${pct(r.figureValuesWritten)}% | ${pct(r.textValuesWritten)}% | ${r.priorAnswered} of ${r.priorWrongSamples} |`);
  }
  process.stdout.write(out.join('\n') + '\n');
});
