/**
 * What `--resume` may change. A resumed run continues the one in its folder: a setting that
 * changes what a step computes (the algorithm, the init checkpoint and so the KL reference, the
 * model, the data...) would make it another run under the old one's name, so it is refused,
 * naming the key and both values. Only how long it runs, what it writes beside its training and
 * the engine that computes it (worker.actor.backend: the same function, rounded differently in
 * the last bits) may change; each change is reported and recorded in config.yaml.
 */
import { isPlainObject } from './config-merge.ts';
import type { TrainConfig } from './config.ts';

/** Keys (or whole sections) a resumed run may change, by kind. */
export const RESUME_MAY_CHANGE = {
  rl: [
    'trainer.total_steps',
    'trainer.save_freq',
    'trainer.save_limit',
    'trainer.log_rollouts_freq',
    'trainer.log_examples',
    'trainer.max_nonfinite_in_row',
    'data.suite.dir',
    'data.suite.n_test',
    'data.val_files',
    'eval',
    'worker.actor.backend',
  ],
  sft: ['sft.total_steps', 'sft.save_freq', 'trainer.save_limit', 'data.rollout_batch_size', 'data.suite.dir', 'data.suite.n_test', 'data.val_files', 'eval', 'worker.actor.backend'],
} as const;

/**
 * What SFT reads; its other keys (RL's) may differ on resume, since they change nothing it
 * computes (the pipeline resumes a warm start with the command line of the whole job).
 */
const SFT_READS = ['sft', 'data', 'experiment.rl_fraction', 'worker.actor.model', 'worker.actor.optim.betas', 'worker.actor.optim.eps', 'trainer.seed', 'trainer.save_limit'];

export interface ConfigChange {
  readonly key: string;
  readonly was: unknown;
  readonly now: unknown;
}

/** Every leaf (dotted key) where `a` and `b` differ; arrays are leaves. */
export function configChanges(a: unknown, b: unknown, path: readonly string[] = []): ConfigChange[] {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => configChanges(a[k], b[k], [...path, k]));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ key: path.join('.'), was: a, now: b }];
}

const under = (key: string, prefixes: readonly string[]) => prefixes.some((p) => key === p || key.startsWith(p + '.'));

/** Whether a resumed run of `kind` may change `key`. */
export function mayChangeOnResume(kind: 'rl' | 'sft', key: string): boolean {
  if (under(key, RESUME_MAY_CHANGE[kind])) return true;
  return kind === 'sft' && !under(key, SFT_READS);
}

/**
 * The changes `now` makes to the run's recorded config `was`: returns the allowed ones; the
 * first that is not allowed is returned as `refused` (the caller words the error).
 */
export function resumeChanges(kind: 'rl' | 'sft', was: TrainConfig, now: TrainConfig): { allowed: ConfigChange[]; refused: ConfigChange | null } {
  const all = configChanges(was, now);
  return { allowed: all.filter((c) => mayChangeOnResume(kind, c.key)), refused: all.find((c) => !mayChangeOnResume(kind, c.key)) ?? null };
}

/** `key 2 -> 4` for the note a resumed run prints. */
export const describeChange = (c: ConfigChange): string => `${c.key} ${JSON.stringify(c.was)} -> ${JSON.stringify(c.now)}`;
