/**
 * The ladder world's transfer table: accuracy per rung, and the share of misleading-prior samples
 * that answered the prior, per arm, from ladder evaluations over rungs 1-5 (scripts/exp-ladder.sh
 * step 6). Files group into arms by name: `…-seedN.json` files of one arm are its replicates
 * (accuracy: mean over them with min-max; prior share: pooled over their samples).
 *   node --import tsx scripts/rung-table.ts runs/ladder-eval/base-rungs.json runs/ladder-eval/rungs-frozen-*.json
 */
import { basename } from 'node:path';
import { CliError, parseArgs } from '../src/cli/args.ts';
import { readEvalReport, type EvalReport } from '../src/eval/evaluate.ts';
import { runScript } from './script-errors.ts';

const USAGE = 'usage: rung-table.ts EVAL.json... (ladder evaluations over several rungs; -seedN files of one arm are pooled)';

/** `rungs-frozen-dapo-seed2.json` -> `frozen dapo`; `base-rungs-t0.2.json` -> `base@0.2`; `base-rungs.json` -> `base`. */
function armOf(file: string): string {
  const name = basename(file, '.json').replace(/-seed\d+$/, '');
  const t = /^base-rungs-t([\d.]+)$/.exec(name);
  if (t) return `base@${t[1]}`;
  if (name === 'base-rungs') return 'base';
  return name.replace(/^rungs-/, '').replace(/-/g, ' ');
}

runScript('rung-table', () => {
  const args = parseArgs(process.argv.slice(2), {}, 'rung-table');
  if (!args.positionals.length || args.overrides.length) throw new CliError(USAGE);
  const arms = new Map<string, Array<{ file: string; r: EvalReport }>>();
  for (const file of args.positionals) {
    const r = readEvalReport(file);
    if (!r.by_rung) throw new CliError(`${file}: no accuracy per rung (by_rung): not an evaluation of the ladder world`);
    const arm = armOf(file);
    arms.set(arm, [...(arms.get(arm) ?? []), { file, r }]);
  }
  const rungs = [...new Set([...arms.values()].flat().flatMap((x) => Object.keys(x.r.by_rung ?? {})))].sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')));
  for (const [arm, xs] of arms) {
    const rows = xs.map((x) => x.r.problems.map((p) => p.id).join('\n'));
    if (rows.some((r) => r !== rows[0])) throw new CliError(`${arm}: ${xs.map((x) => x.file).join(', ')} evaluated different rows; replicates must share the test rows`);
  }
  const pct = (x: number) => (100 * x).toFixed(1);
  const lines = [`accuracy (avg@k, %) per rung; replicates: mean (min-max)`, '', `| arm | runs | ${rungs.join(' | ')} |`, `|---|---:|${rungs.map(() => '---:').join('|')}|`];
  for (const [arm, xs] of arms) {
    const cells = rungs.map((g) => {
      const v = xs.map((x) => x.r.by_rung?.[g]?.accuracy).filter((a): a is number => typeof a === 'number');
      if (!v.length) return '–';
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      return v.length > 1 ? `${pct(mean)} (${pct(Math.min(...v))}-${pct(Math.max(...v))})` : pct(mean);
    });
    lines.push(`| ${arm} | ${xs.length} | ${cells.join(' | ')} |`);
  }
  lines.push('', `answered the misleading prior (% of the samples whose problem has one; pooled over runs; n = samples)`, '');
  lines.push(`| arm | ${rungs.join(' | ')} |`, `|---|${rungs.map(() => '---:').join('|')}|`);
  for (const [arm, xs] of arms) {
    const cells = rungs.map((g) => {
      const parts = xs.map((x) => x.r.prior_by_rung?.[g]).filter((p): p is { n: number; rate: number } => !!p && p.n > 0);
      const n = parts.reduce((a, p) => a + p.n, 0);
      return n ? `${pct(parts.reduce((a, p) => a + p.rate * p.n, 0) / n)} (n=${n})` : '–';
    });
    lines.push(`| ${arm} | ${cells.join(' | ')} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
});
