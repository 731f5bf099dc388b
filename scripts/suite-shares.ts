/**
 * What the warm start and RL each get of the generated training split under the key split:
 * rows and distinct problems per family, for the suite settings given as overrides.
 *   node --import tsx scripts/suite-shares.ts data.suite.n_train=8000 experiment.rl_fraction=0.5
 * (docs/results.md cites it: at difficulty 1 most families hold only ~100-200 problems, so a split
 * leaves SFT far fewer of them.)
 */
import { parseArgs } from '../src/cli/args.ts';
import { CONFIG_FLAGS, configFrom } from '../src/cli/session.ts';
import { loadProblems } from '../src/train/sources.ts';

// the suite settings as every pgpo command takes them: key.path=value overrides, --preset, --config
const config = configFrom(parseArgs(process.argv.slice(2), CONFIG_FLAGS, 'suite-shares'));
const uses = config.experiment.rl_fraction > 0 ? (['sft', 'rl'] as const) : (['sft'] as const);
console.log(`n_train ${config.data.suite.n_train}, difficulty ${config.data.suite.difficulty}, rl_fraction ${config.experiment.rl_fraction}: rows / distinct problems`);
for (const use of uses) {
  const problems = await loadProblems(config, 'train', use);
  const rows = new Map<string, number>();
  const keys = new Map<string, Set<string>>();
  for (const p of problems) {
    rows.set(p.family, (rows.get(p.family) ?? 0) + 1);
    if (!keys.has(p.family)) keys.set(p.family, new Set());
    keys.get(p.family)!.add(p.problemKey ?? p.id);
  }
  const total = new Set(problems.map((p) => p.problemKey ?? p.id)).size;
  const cells = [...rows.keys()].sort().map((f) => `${f} ${rows.get(f)} / ${keys.get(f)!.size}`);
  console.log(`${use === 'sft' ? 'SFT' : 'RL '}: ${problems.length} / ${total}  (${cells.join(', ')})`);
}
