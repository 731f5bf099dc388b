/**
 * The RL trainer loop: run directory, resume, checkpoints, the NaN guard, Ctrl-C, progress.
 * One step's work is rl-step.ts. Exact resume rests on two facts: every random choice of step k
 * comes from root.fork('step:k') (nothing carried over from earlier steps), and the checkpoint
 * holds everything else that changes: weights, optimizer moments, the data cursor and counters.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../data/atomic-write.ts';
import { optimizerMismatch } from '../engine/adamw.ts';
import { Rng } from '../engine/rng.ts';
import { namesUnder } from '../engine/tree.ts';
import { configToYaml, type TrainConfig } from './config.ts';
import { measuresPgVar } from './experiment.ts';
import { exampleLines, tokenLines } from './logging.ts';
import { loadCheckpointPolicy, openRun, recordEngine } from './open-run.ts';
import type { Policy, PolicyFactory } from '../core/policy.ts';
import { ProblemStream } from './problems.ts';
import type { Problem, RewardFn } from '../core/problem.ts';
import { Progress } from './progress.ts';
import { rlStep } from './rl-step.ts';
import { RunDir, type RunLock } from './run-dir.ts';
import { learningRate } from './schedule.ts';

export interface TrainerState {
  /** Last completed step. */
  readonly step: number;
  /** Next position in the problem stream. */
  readonly cursor: number;
  readonly nonfiniteInRow: number;
  readonly nonfiniteTotal: number;
}

export interface TrainOptions {
  readonly config: TrainConfig;
  readonly out: string;
  readonly factory: PolicyFactory;
  readonly problems: readonly Problem[];
  readonly reward: RewardFn;
  /** Continue the run in `out` from its latest checkpoint. */
  readonly resume?: boolean;
  /** Aborting it stops after the current step, with a checkpoint. */
  readonly signal?: AbortSignal;
  /**
   * Asked after every step: a reason (not null) checkpoints the run and stops it with 'restart',
   * for a fresh process to resume. The CLI asks it of the wasm heap, which never shrinks.
   */
  readonly restartWhen?: () => string | null;
  /** Numbers from the machinery running the model, added to every metrics line (e.g. heap size). */
  readonly engineStats?: () => Record<string, number>;
  readonly progressStream?: ConstructorParameters<typeof Progress>[0]['stream'];
  readonly log?: (line: string) => void;
}

export type StopReason = 'done' | 'interrupted' | 'nonfinite' | 'restart';

export interface TrainResult {
  readonly stopped: StopReason;
  readonly reason: string | null;
  readonly state: TrainerState;
  readonly checkpoint: string | null;
}

export class TrainError extends Error {
  override name = 'TrainError';
}

export { loadCheckpointPolicy };

const STATE_FILE = 'trainer.json';
const POLICY_DIR = 'policy';
const count = z.number().int().min(0);
const stateSchema = z.object({ step: count, cursor: count, nonfiniteInRow: count, nonfiniteTotal: count });

async function initialPolicy(config: TrainConfig, factory: PolicyFactory): Promise<Policy> {
  const init = config.worker.actor.init_checkpoint;
  if (init === null) return factory.create(config.worker.actor.model, config.trainer.seed);
  if (!existsSync(init)) throw new TrainError(`worker.actor.init_checkpoint: ${init} does not exist`);
  const policy = await loadCheckpointPolicy(factory, resolveLatest(init));
  policy.resetOptimizer();
  return policy;
}

/** An experiment.freeze prefix that names no parameter is an error now, not at the first update (which a run may never reach). */
function checkFrozen(policy: Policy, config: TrainConfig): void {
  const frozen = config.experiment.freeze;
  if (!frozen.length || !policy.parameterNames) return;
  try {
    namesUnder(policy.parameterNames(), frozen, 'experiment.freeze');
  } catch (err) {
    throw new TrainError((err as Error).message);
  }
}

/** The run directory of a checkpoint (`RUN/checkpoints/step-N`), or `path` itself when it is one. */
export function runDirOf(path: string): string {
  return existsSync(join(path, 'config.yaml')) ? path : dirname(dirname(resolveLatest(path)));
}

/** A run directory resolves to its latest checkpoint; a checkpoint directory to itself. */
export function resolveLatest(path: string): string {
  const rd = new RunDir(path);
  const latest = rd.latest();
  return latest ? latest.dir : path;
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { config } = opts;
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const rd = new RunDir(opts.out);
  // another optimizer cannot continue the checkpoint's moments: say so now, not after the first sampling
  const check = (p: Policy) => {
    checkFrozen(p, config);
    const held = p.optimizerHeld?.();
    const mismatch = held ? optimizerMismatch(held, config.experiment.optimizer) : null;
    if (mismatch) throw new TrainError(`--resume ${opts.out}: ${mismatch}`);
  };
  const { lock, resumed } = await openRun({ rd, kind: 'rl', config, resume: Boolean(opts.resume), factory: opts.factory, stateSchema, log, check });
  let state: TrainerState = resumed?.state ?? { step: 0, cursor: 0, nonfiniteInRow: 0, nonfiniteTotal: 0 };
  let policy: Policy | null = resumed?.policy ?? null;
  let refPolicy: Policy | null = null;
  try {
    if (!policy) {
      policy = await initialPolicy(config, opts.factory);
      checkFrozen(policy, config);
    }
    const usesRef = config.algorithm.use_kl_loss && config.algorithm.kl_coef > 0;
    refPolicy = usesRef ? await initialPolicy(config, opts.factory) : null;
  } catch (err) {
    policy?.dispose();
    lock.release();
    throw err;
  }
  // a fresh run's folder is written only once its policy exists: a run that cannot start leaves none
  if (!opts.resume) rd.init(configToYaml(config), 'rl');
  else log(`resuming ${opts.out} from step ${state.step} (cursor ${state.cursor})${resumed ? '' : ' (it stopped before its first checkpoint)'}`);
  recordEngine(rd, policy.engine, resumed !== null, log);
  return runLoop(opts, rd, state, policy, refPolicy, lock, log);
}

async function runLoop(opts: TrainOptions, rd: RunDir, start: TrainerState, policy: Policy, refPolicy: Policy | null, lock: RunLock, log: (line: string) => void): Promise<TrainResult> {
  const { config } = opts;
  let state = start;

  const stream = new ProblemStream(opts.problems, config.trainer.seed);
  const root = Rng.seeded(config.trainer.seed).fork('rl');
  const total = config.trainer.total_steps;
  const progress = new Progress({ total, label: `${config.algorithm.name}`, stream: opts.progressStream });
  let lastCheckpoint: string | null = rd.latest()?.dir ?? null;

  const save = async (s: TrainerState) => {
    const ref = await rd.saveCheckpoint(s.step, config.trainer.save_limit, async (dir) => {
      await policy.save(join(dir, POLICY_DIR), { step: s.step, algorithm: config.algorithm.name });
      writeFileSync(join(dir, STATE_FILE), JSON.stringify(s, null, 2) + '\n');
    });
    lastCheckpoint = ref.dir;
  };

  let stopped: StopReason = 'done';
  let reason: string | null = null;
  let saidNoSignal = false;
  try {
    while (state.step < total) {
      const step = state.step + 1;
      const t0 = performance.now();
      const res = await rlStep({
        config,
        policy,
        refPolicy,
        reward: opts.reward,
        stream,
        cursor: state.cursor,
        rng: root.fork(`step:${step}`),
        lr: learningRate(config.worker.actor.optim, step, total),
        measurePgVar: measuresPgVar(config, step),
      });
      const nonfiniteInRow = res.nonfinite ? state.nonfiniteInRow + 1 : 0;
      state = { step, cursor: res.cursor, nonfiniteInRow, nonfiniteTotal: state.nonfiniteTotal + (res.nonfinite ? 1 : 0) };
      rd.appendMetrics({ step, ...res.metrics, nonfinite_skips: state.nonfiniteTotal, time_step: (performance.now() - t0) / 1000, ...opts.engineStats?.() });
      const every = config.trainer.log_rollouts_freq;
      if (every > 0 && (step % every === 0 || step === 1)) {
        await writeRolloutLogs(rd.path, step, res.rollouts, policy, config.trainer.log_examples);
      }
      if (res.nonfinite) log(`step ${step}: update skipped, ${res.nonfiniteReason} (${nonfiniteInRow} in a row)`);
      else if (res.metrics.updates === 0 && !saidNoSignal) {
        // every group dropped by the filter (cap reached): the step passes without an update; say it once
        saidNoSignal = true;
        const equal = config.algorithm.filter_key === 'accuracy' ? 'accuracies' : 'rewards';
        const hint = config.worker.actor.init_checkpoint === null ? '; is the policy warm-started? (--init)' : '';
        log(`step ${step}: every sampled group had equal ${equal} (nothing to learn from)${hint}`);
      }
      progress.update(step, { reward: res.metrics.reward ?? NaN, acc: res.metrics.accuracy ?? NaN, len: res.metrics.response_length ?? NaN });
      if (nonfiniteInRow >= config.trainer.max_nonfinite_in_row) {
        stopped = 'nonfinite';
        reason = `stopped after ${nonfiniteInRow} steps in a row with a non-finite loss or gradient (trainer.max_nonfinite_in_row = ${config.trainer.max_nonfinite_in_row}); last: ${res.nonfiniteReason}`;
        break;
      }
      if (opts.signal?.aborted) {
        stopped = 'interrupted';
        break;
      }
      const restart = step < total ? (opts.restartWhen?.() ?? null) : null;
      if (restart !== null) {
        stopped = 'restart';
        reason = restart;
        break;
      }
      if (step % config.trainer.save_freq === 0 || step === total) await save(state);
    }
    if (stopped === 'interrupted' || stopped === 'restart') {
      await save(state);
      if (stopped === 'interrupted') progress.log(`interrupted: checkpoint written at step ${state.step}; continue with --resume ${opts.out}`);
    }
  } finally {
    progress.finish();
    policy.dispose();
    refPolicy?.dispose();
    lock.release();
  }
  if (stopped === 'nonfinite') log(reason!);
  return { stopped, reason, state, checkpoint: lastCheckpoint };
}

async function writeRolloutLogs(runDir: string, step: number, rollouts: Parameters<typeof exampleLines>[0], policy: Policy, examples: number): Promise<void> {
  const name = `step-${String(step).padStart(6, '0')}.jsonl`;
  const ex = await exampleLines(rollouts, policy, examples, step);
  if (ex.length) {
    mkdirSync(join(runDir, 'rollouts'), { recursive: true });
    writeFileAtomic(join(runDir, 'rollouts', name), ex.join(''));
  }
  const tok = tokenLines(rollouts, policy);
  if (tok.length) {
    mkdirSync(join(runDir, 'tokens'), { recursive: true });
    writeFileAtomic(join(runDir, 'tokens', name), tok.join(''));
  }
}
