/**
 * Did the policy memorise its training problems? Its accuracy on the problems its stage trained on
 * (`pgpo eval --split train --use sft`: the first n it visited) against held-out test problems of
 * the same rungs, problem by problem: the difference of the mean per-problem accuracy with a 95% Welch
 * interval over problems (the two sets share no problem, so it is not paired). A memorised base
 * scores above its held-out level; one that reads scores the same within this interval.
 *   node --import tsx scripts/memorisation-gap.ts --train base-train-sft.json --heldout base-test-r12.json
 */
import { CliError, parseArgs, stringFlag } from '../src/cli/args.ts';
import { armDifference, formatDifferences } from '../src/eval/compare.ts';
import { readEvalReport } from '../src/eval/evaluate.ts';
import { runScript } from './script-errors.ts';

const USAGE = 'usage: memorisation-gap.ts --train TRAIN_EVAL.json --heldout TEST_EVAL.json';

runScript('memorisation-gap', () => {
  const args = parseArgs(
    process.argv.slice(2),
    {
      train: { type: 'string', description: 'an eval.json of training-split problems (pgpo eval --split train)' },
      heldout: { type: 'string', description: 'an eval.json of held-out problems of the same distribution' },
    },
    'memorisation-gap',
  );
  const [trainFile, heldFile] = [stringFlag(args, 'train'), stringFlag(args, 'heldout')];
  if (!trainFile || !heldFile || args.positionals.length || args.overrides.length) throw new CliError(USAGE);
  const train = readEvalReport(trainFile);
  const held = readEvalReport(heldFile);
  // `split` is what pgpo eval records beside the report's fields
  const splitOf = (r: object) => (r as { split?: string }).split ?? 'test';
  if (splitOf(train) !== 'train') throw new CliError(`${trainFile}: an evaluation of the ${splitOf(train)} split; --train wants one of --split train`);
  if (splitOf(held) !== 'test') throw new CliError(`${heldFile}: an evaluation of the ${splitOf(held)} split; --heldout wants one of the test split`);
  const key = (p: { problem_key?: string; id: string }) => p.problem_key ?? `id:${p.id}`;
  const heldKeys = new Set(held.problems.map(key));
  const shared = train.problems.filter((p) => heldKeys.has(key(p)));
  if (shared.length) throw new CliError(`${trainFile} and ${heldFile} share ${shared.length} problem(s) (e.g. ${shared[0].id}): held-out problems must be new`);
  if (train.k !== held.k || train.temperature !== held.temperature)
    throw new CliError(`the two evaluations differ in k or temperature (${train.k}, ${train.temperature} vs ${held.k}, ${held.temperature})`);
  // the same policy, the problems its stage trained on, and the same rungs on both sides
  const extra = (r: object) => r as { use?: string; ckpt?: string };
  const use = extra(train).use;
  if (use !== 'sft' && use !== 'rl') throw new CliError(`${trainFile}: not an evaluation of the problems a stage visited; make it with pgpo eval --split train --use sft (or rl)`);
  if (extra(train).ckpt !== extra(held).ckpt) throw new CliError(`the two evaluations are of different checkpoints (${extra(train).ckpt} and ${extra(held).ckpt})`);
  const rungs = (r: typeof train) =>
    Object.keys(r.by_rung ?? {})
      .sort()
      .join(', ');
  if (rungs(train) !== rungs(held)) throw new CliError(`the two evaluations cover different rungs (${rungs(train) || 'none'} vs ${rungs(held) || 'none'}): compare like with like`);
  const perProblem = (r: typeof train) => r.problems.map((p) => p.correct / p.k);
  const seen = `${use === 'sft' ? 'SFT' : 'RL'} trained on`;
  process.stdout.write(`problems ${seen}: ${train.problems.length}, held out: ${held.problems.length} (avg@${train.k}, T=${train.temperature})\n\n`);
  process.stdout.write(formatDifferences([armDifference(seen, perProblem(train), 'held out', perProblem(held))]) + '\n');
  process.stdout.write(`\n(accuracy: ${seen} ${(100 * train.overall.accuracy).toFixed(1)}%, held out ${(100 * held.overall.accuracy).toFixed(1)}%)\n`);
});
