/**
 * `pgpo reshape`: PGPO over a rollout file from any trainer. Reads the JSONL interchange
 * format (docs/rollouts.md), computes group advantages, per-token dependency and reshaped
 * weights, and writes every line back with `advantage`, `dependency`, `weights` and
 * `token_advantages` added. The whole input is validated before anything is written, and the
 * output is written atomically, so a bad line never leaves a partial file.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ADVANTAGE_ESTIMATORS, type AdvantageName } from '../../algo/advantage.ts';
import { AlgoInputError } from '../../algo/errors.ts';
import { DEFAULT_RESHAPE_BATCH, reshapeBatch, type ReshapeBatchSummary } from '../../algo/pgpo.ts';
import { RESHAPE_VARIANTS, type ReshapeVariant } from '../../algo/reshape.ts';
import { writeFileAtomic } from '../../data/atomic-write.ts';
import { decodeRollouts, formatReshapedLine, parseRollouts, RolloutFormatError } from '../../data/rollouts.ts';
import { CliError, numberFlag, stringFlag, type FlagSpec } from '../args.ts';
import { parseCommand, type Command } from '../command.ts';

const d = DEFAULT_RESHAPE_BATCH;
const flags: Record<string, FlagSpec> = {
  in: { type: 'string', description: 'input JSONL rollouts (- for stdin)' },
  out: { type: 'string', description: 'output JSONL (- for stdout)' },
  variant: { type: 'string', description: `${RESHAPE_VARIANTS.join('|')} (default ${d.variant})` },
  advantage: { type: 'string', description: `${ADVANTAGE_ESTIMATORS.join('|')} (default ${d.advantage})` },
  estimator: { type: 'string', description: `k3|k1|k2: dependency from logp_image/logp_text (default ${d.estimator})` },
  tau: { type: 'string', description: `gate threshold in [0, 1] (default ${d.reshape.tau})` },
  beta: { type: 'string', description: `amplification >= 0 (default ${d.reshape.beta})` },
  eps: { type: 'string', description: `min-max / gate stabiliser (default ${d.reshape.eps})` },
  quantile: { type: 'string', description: `pgpo-quantile: tau = this quantile of I (default ${d.reshape.quantile})` },
  floor: { type: 'string', description: `pgpo-floor: lowest gated weight (default ${d.reshape.floor})` },
  help: { type: 'boolean', description: 'show this help' },
};

const USAGE = 'pgpo reshape --in FILE --out FILE [--variant pgpo] [--advantage grpo] [--estimator k3] [--tau 0.4] [--beta 2.0]';

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new CliError(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** Whether --in and --out name one file (by path, or by inode: a link or another spelling). */
function sameFile(input: string, output: string): boolean {
  if (input === '-' || output === '-') return false;
  if (resolve(input) === resolve(output)) return true;
  try {
    const a = statSync(input);
    const b = statSync(output);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false; // the output does not exist yet
  }
}

export function summaryLine(s: ReshapeBatchSummary): string {
  const f = (x: number, n = 3) => (Number.isFinite(x) ? x.toFixed(n) : String(x));
  return (
    `reshaped ${s.responses} responses in ${s.groups} groups, ${s.tokens} tokens; ` +
    `sparsity: top-10% tokens carry ${f(100 * s.dependency.top10Share, 1)}% of dependency (gini ${f(s.dependency.gini)}); ` +
    `weights min/mean/max ${f(s.weights.min)}/${f(s.weights.mean)}/${f(s.weights.max)}, ${f(100 * s.weights.fractionAmplified, 1)}% amplified; ` +
    `${s.zeroAdvantageGroups} zero-advantage groups, ${s.fallbacks} fallbacks to weight 1`
  );
}

export const command: Command = {
  async run(argv) {
    const args = parseCommand(argv, { name: 'reshape', usage: USAGE, flags, overrides: false });
    if (!args) return 0;
    const input = stringFlag(args, 'in');
    const output = stringFlag(args, 'out');
    if (!input || !output) throw new CliError(`pgpo reshape: --in and --out are required\n${USAGE}`);
    const config = {
      variant: oneOf<ReshapeVariant>(stringFlag(args, 'variant', d.variant), RESHAPE_VARIANTS, 'variant'),
      advantage: oneOf<AdvantageName>(stringFlag(args, 'advantage', d.advantage), ADVANTAGE_ESTIMATORS, 'advantage'),
      estimator: oneOf(stringFlag(args, 'estimator', d.estimator), ['k3', 'k1', 'k2'] as const, 'estimator'),
      reshape: {
        tau: numberFlag(args, 'tau', d.reshape.tau, { min: 0, max: 1 }),
        beta: numberFlag(args, 'beta', d.reshape.beta, { min: 0 }),
        eps: numberFlag(args, 'eps', d.reshape.eps, { min: Number.MIN_VALUE }),
        quantile: numberFlag(args, 'quantile', d.reshape.quantile, { min: 0, max: 1 }),
        floor: numberFlag(args, 'floor', d.reshape.floor, { min: 0 }),
      },
      advantageEps: d.advantageEps,
    };

    if (sameFile(input, output)) throw new CliError(`pgpo reshape: --out ${output} is the input file; give another --out (the input is read whole, then the output written beside it)`);
    const source = input === '-' ? 'stdin' : input;
    let bytes: Buffer;
    try {
      bytes = readFileSync(input === '-' ? 0 : input);
    } catch (err) {
      throw new CliError(`pgpo reshape: cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let parsed;
    try {
      parsed = parseRollouts(decodeRollouts(bytes, source), source);
    } catch (err) {
      if (err instanceof RolloutFormatError) throw new CliError(`pgpo reshape: ${err.message}`);
      throw err;
    }
    if (parsed.records.length === 0) throw new CliError(`pgpo reshape: ${source} holds no rollouts`);
    let result;
    try {
      result = reshapeBatch(parsed.records, config);
    } catch (err) {
      if (err instanceof AlgoInputError) {
        const i = err.where.response;
        const where = i === undefined ? '' : `line ${parsed.lineNumbers[i]}, `;
        const field = err.where.field ? `field ${err.where.field}${err.where.position === undefined ? '' : `[${err.where.position}]`}: ` : '';
        throw new CliError(`pgpo reshape: ${source}: ${where}${field}${err.message}`);
      }
      throw err;
    }
    const body = parsed.lines.map((line, i) => formatReshapedLine(line, result.rollouts[i]) + '\n').join('');
    const summary = summaryLine(result.summary);
    if (output === '-') {
      process.stdout.write(body);
      process.stderr.write(summary + '\n');
    } else {
      writeFileAtomic(output, body);
      process.stdout.write(summary + '\n');
    }
    return 0;
  },
};
