/**
 * `npm run bench:train`: the time of one RL step of each algorithm on the `small` model, with its
 * breakdown (sampling, reward + extra scoring passes, update). Every algorithm starts from the
 * same policy with the same seed, so all of them train on the same sampled batch. Dynamic
 * sampling is off so that every step has the same amount of work. Starts from the pipeline's
 * base checkpoint when there is one (runs/pipeline/base), else from a fresh policy.
 * Each backend (worker.actor.backend) runs every algorithm; the table puts them side by side.
 *   node --import tsx bench/train.bench.ts [--steps 3] [--base DIR] [--backends jax,native] [--algos grpo,dapo,...]
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALGORITHMS, resolveConfig } from '../src/train/config.ts';
import { RunDir } from '../src/train/run-dir.ts';
import { loadProblems, policyFactory, reward } from '../src/train/sources.ts';
import { train } from '../src/train/trainer.ts';
import { blasSummary } from '../src/model/native/blas.ts';
import { cpus } from 'node:os';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const steps = Number(opt('steps', '3'));
const base = opt('base', 'runs/pipeline/base');
const useBase = existsSync(base) && new RunDir(base).latest() !== null;

const backends = opt('backends', 'jax,native').split(',');
const algos = opt('algos', ALGORITHMS.join(',')).split(',');

const rows: Array<{ backend: string; algo: string; sample: number; score: number; update: number; total: number }> = [];
for (const backend of backends)
  for (const algo of algos) {
    const config = resolveConfig({
      algo,
      overrides: [
        ['trainer.total_steps', String(steps + 1)],
        ['trainer.save_freq', '1000'],
        ['trainer.log_rollouts_freq', '0'],
        ['algorithm.online_filtering', 'false'],
        ['worker.actor.backend', backend],
        ...(useBase ? ([['worker.actor.init_checkpoint', base]] as Array<[string, string]>) : []),
      ],
    });
    const problems = await loadProblems(config, 'train');
    const out = mkdtempSync(join(tmpdir(), `pgpo-bench-${algo}-`));
    await train({ config, out, factory: policyFactory(config), problems, reward: reward(), log: () => {}, progressStream: { write: () => true } });
    // step 1 compiles the programs; steps 2.. are timed
    const m = new RunDir(out).readMetrics().slice(1);
    const avg = (k: string) => m.reduce((a, r) => a + (r[k] as number), 0) / m.length;
    rows.push({ backend, algo, sample: avg('time_sample'), score: avg('time_score'), update: avg('time_update'), total: avg('time_step') });
    process.stderr.write(`${backend} ${algo}: ${avg('time_step').toFixed(2)} s/step\n`);
  }
const cfg = resolveConfig({});
console.log(
  `\nOne RL step on \`small\`: ${cfg.data.rollout_batch_size} prompts x ${cfg.worker.rollout.n} rollouts, max ${cfg.worker.rollout.max_new_tokens} new tokens, mean of ${steps} steps after a warm-up step, ${useBase ? `from ${base}` : 'from a fresh policy'}.`,
);
console.log(`${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; node ${process.version}; native: ${blasSummary()}\n`);
console.log('| backend | algorithm | sampling (s) | reward + scoring (s) | update (s) | step (s) | vs DAPO | vs jax |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
const find = (backend: string, algo: string) => rows.find((r) => r.backend === backend && r.algo === algo);
for (const r of rows) {
  const dapo = find(r.backend, 'dapo');
  const jax = r.backend === 'jax' ? undefined : find('jax', r.algo);
  console.log(
    `| ${r.backend} | ${r.algo} | ${r.sample.toFixed(2)} | ${r.score.toFixed(2)} | ${r.update.toFixed(2)} | ${r.total.toFixed(2)} | ${dapo ? `${(r.total / dapo.total).toFixed(2)}x` : '-'} | ${jax ? `${(jax.total / r.total).toFixed(1)}x faster` : '-'} |`,
  );
}
