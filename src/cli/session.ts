/**
 * What the training commands share: the config from --preset/--algo/--config/overrides, the note
 * when a checkpoint's run used another suite, and Ctrl-C handling (first: finish the step, checkpoint, exit 130; second: quit at once).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, getPath, isPlainObject } from '../train/config-merge.ts';
import { readRunConfig, resolveConfig, type TrainConfig } from '../train/config.ts';
import { TrainError } from '../train/trainer.ts';
import { RunDir } from '../train/run-dir.ts';
import { CliError, stringFlag, type FlagSpec, type ParsedArgs } from './args.ts';

export const CONFIG_FLAGS: Record<string, FlagSpec> = {
  preset: { type: 'string', description: 'tiny|small|medium: sizes of model, data and run (default small)' },
  config: { type: 'string', description: 'YAML config file (EasyR1-like keys, see docs/training.md)' },
};

export function configFrom(args: ParsedArgs, algo?: string, base?: Record<string, unknown>): TrainConfig {
  try {
    return resolveConfig({ preset: stringFlag(args, 'preset'), algo, file: stringFlag(args, 'config'), overrides: args.overrides, base });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`config error: ${err.message}`);
    throw err;
  }
}

/**
 * For `--resume DIR`: the line to print instead of resuming when DIR's latest checkpoint already
 * reached `total` steps (the value of config key `key`); null when there is work left.
 */
export function completeRunNote(dir: string, total: number, key: string): string | null {
  // another kind's steps are not this run's: the kind error, not "raise the steps", which would continue it as this kind
  new RunDir(dir).checkKind(key.startsWith('sft.') ? 'sft' : 'rl');
  const step = new RunDir(dir).latest()?.step;
  if (step === undefined || step < total) return null;
  return `${dir} is already complete (${step} of ${total} steps); raise ${key}=${2 * Math.max(step, total)} to continue it`;
}

/** Runs `fn` with an AbortSignal wired to SIGINT/SIGTERM; maps known failures to exit codes. */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ctl.signal.aborted) {
      process.stderr.write(`\n${sig} again: quitting without a new checkpoint (the last one is intact)\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${sig}: finishing the current step, then writing a checkpoint (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again to quit at once)\n`);
    ctl.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(ctl.signal);
  } catch (err) {
    if (err instanceof TrainError || err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Runs `pgpo <args>` in a child process and resolves with its exit code. Long jobs chain stages
 * this way so that each stage starts on a fresh wasm heap (jax-js's grows with every new shape of
 * a process's lifetime; see docs/engine-notes.md). Ctrl-C reaches the child too (same process
 * group): it checkpoints and exits 130, and the parent then stops.
 */
export function runChild(args: readonly string[], opts: { quietStdout?: boolean } = {}): Promise<number> {
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'pgpo.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', opts.quietStdout ? 'ignore' : 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}

/** The flags a child stage needs to resolve the same config: --preset, --config, overrides. */
export function configArgs(args: ParsedArgs, extra: ReadonlyArray<readonly [string, string]> = []): string[] {
  const out: string[] = [];
  const preset = stringFlag(args, 'preset');
  const file = stringFlag(args, 'config');
  if (preset) out.push('--preset', preset);
  if (file) out.push('--config', file);
  for (const [k, v] of [...args.overrides, ...extra]) out.push(`${k}=${v}`);
  return out;
}

/** The suite settings that decide which problems an evaluation sees; RL also reads which rows and which share. */
export const EVAL_SUITE_KEYS = ['data.suite.world', 'data.suite.difficulty', 'data.suite.test_rungs', 'data.suite.seed', 'data.suite.families', 'data.suite.variants'] as const;
export const RL_SUITE_KEYS = [...EVAL_SUITE_KEYS, 'data.suite.n_train', 'experiment.rl_fraction', 'data.suite.rl_rungs'] as const;

/**
 * Where the run in `runDir` was trained on a suite other than the one `config` uses, a note
 * naming the keys (legitimate, but easy to do by accident: eval and train take the defaults and
 * the command line, not the run's config).
 */
export function suiteNote(runDir: string, config: TrainConfig, keys: readonly string[] = EVAL_SUITE_KEYS): string | null {
  const path = join(runDir, 'config.yaml');
  const theirs = readRunConfig(path);
  if (!isPlainObject(theirs) || !isPlainObject(getPath(theirs, ['data', 'suite'])) || config.data.train_files || config.data.val_files) return null;
  const at = (c: unknown, key: string) => getPath(c, key.split('.'));
  const differ = keys.filter((k) => at(theirs, k) !== undefined && JSON.stringify(at(theirs, k)) !== JSON.stringify(at(config, k)));
  if (!differ.length) return null;
  const was = differ.map((k) => `${k}=${JSON.stringify(at(theirs, k))}`).join(' ');
  const now = differ.map((k) => `${k.split('.').at(-1)} ${JSON.stringify(at(config, k))}`).join(', ');
  return `note: ${path} was trained with ${was}; this run uses ${now} (pass ${was} to use its suite)`;
}

/**
 * `--preset` given with `--resume` must be the one the run was made with (the pipeline resumes
 * its stages with its own command line): another one would change the run's sizes, so it is
 * refused, naming both. The presets differ in their model, so the run's model names its preset.
 */
export function checkResumePreset(command: string, args: ParsedArgs, runDir: string, runConfig: unknown): void {
  const preset = stringFlag(args, 'preset');
  if (!preset) return;
  const wanted = resolveConfig({ preset }).worker.actor.model;
  const model = isPlainObject(runConfig) && isPlainObject(runConfig.worker) && isPlainObject(runConfig.worker.actor) ? runConfig.worker.actor.model : undefined;
  if (model !== undefined && model !== wanted) {
    throw new CliError(`pgpo ${command}: --preset ${preset} does not match the run in ${runDir} (made with worker.actor.model=${model}); --resume keeps the sizes a run was made with: drop --preset`);
  }
}
