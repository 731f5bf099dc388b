/**
 * What the training commands share: the config from --preset/--algo/--config/overrides, and
 * Ctrl-C handling (first: finish the step, checkpoint, exit 130; second: quit at once).
 */
import { ConfigError } from '../train/config-merge.ts';
import { resolveConfig, type TrainConfig } from '../train/config.ts';
import { TrainError } from '../train/trainer.ts';
import { CliError, stringFlag, type FlagSpec, type ParsedArgs } from './args.ts';

export const CONFIG_FLAGS: Record<string, FlagSpec> = {
  preset: { type: 'string', description: 'tiny|small: sizes of model, data and run (default small)' },
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
