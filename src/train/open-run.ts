/**
 * How the RL trainer and SFT take their run folder, fresh or resumed, in one place: the lock and
 * the run's kind (run-dir.ts), the settings a resume may change (resume.ts), the checkpoint it
 * starts from — none when the run was stopped before its first one (it starts again from step
 * 0), the newest intact one named when the latest cannot be loaded — and metrics.jsonl cut
 * back to that checkpoint.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../data/atomic-write.ts';
import { ConfigError, loadYaml } from './config-merge.ts';
import { configToYaml, resolveConfig, type TrainConfig } from './config.ts';
import type { Policy, PolicyFactory } from '../core/policy.ts';
import { describeChange, RESUME_MAY_CHANGE, resumeChanges } from './resume.ts';
import { RunDirError, type CheckpointRef, type RunDir, type RunLock } from './run-dir.ts';

const POLICY_DIR = 'policy';
const STATE_FILE = 'trainer.json';

/** The command that continues a run of each kind (for messages). */
const COMMAND = { rl: 'pgpo train', sft: 'pgpo sft' } as const;

/** A checkpoint's trainer.json, validated: a cut or foreign file is an error naming it. */
export function readState<S>(dir: string, schema: z.ZodType<S>): S {
  const file = join(dir, STATE_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RunDirError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(err as Error).message})`}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RunDirError(`${file}: ${issue.path.join('.') || 'the top level'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Loads the policy of a checkpoint directory (`.../checkpoints/step-N`) or a bare policy dir. */
export async function loadCheckpointPolicy(factory: PolicyFactory, dir: string): Promise<Policy> {
  const inner = join(dir, POLICY_DIR);
  try {
    const { policy } = await factory.load(existsSync(inner) ? inner : dir);
    return policy;
  } catch (err) {
    // a damaged or foreign checkpoint is the input's fault (its messages name the file); a system error keeps its code
    if (typeof (err as NodeJS.ErrnoException).syscall === 'string') throw err;
    throw new RunDirError(`cannot load the checkpoint ${dir}: ${(err as Error).message}`);
  }
}

/** A checkpoint's policy and state, or why it cannot be loaded. */
async function tryLoad<S>(factory: PolicyFactory, ref: CheckpointRef, schema: z.ZodType<S>): Promise<{ policy: Policy; state: S } | { error: string }> {
  let policy: Policy | null = null;
  try {
    const state = readState(ref.dir, schema);
    policy = await loadCheckpointPolicy(factory, ref.dir);
    return { policy, state };
  } catch (err) {
    policy?.dispose();
    return { error: (err as Error).message };
  }
}

/**
 * The latest checkpoint's policy and state. One that cannot be loaded (a checksum mismatch, a
 * cut trainer.json) is an error naming the newest older one that loads and the exact command
 * that resumes from it (removing the broken ones, so latest() falls back to it).
 */
async function loadLatest<S>(rd: RunDir, kind: 'rl' | 'sft', factory: PolicyFactory, schema: z.ZodType<S>, latest: CheckpointRef): Promise<{ policy: Policy; state: S }> {
  const got = await tryLoad(factory, latest, schema);
  if ('policy' in got) return got;
  const older = rd
    .list()
    .filter((c) => c.step < latest.step)
    .reverse();
  const broken = [latest.dir];
  for (const c of older) {
    const ok = await tryLoad(factory, c, schema);
    if ('policy' in ok) {
      ok.policy.dispose();
      throw new RunDirError(
        `--resume ${rd.path}: ${got.error}; the newest intact checkpoint is ${basename(c.dir)}: resume from it with  rm -r ${broken.join(' ')} && ${COMMAND[kind]} --resume ${rd.path}`,
      );
    }
    broken.push(c.dir);
  }
  throw new RunDirError(`--resume ${rd.path}: ${got.error}; no older checkpoint loads either: start the run again from step 0 with  rm -r ${rd.checkpoints} && ${COMMAND[kind]} --resume ${rd.path}`);
}

export interface OpenedRun<S> {
  readonly lock: RunLock;
  /** The checkpoint's policy and state; null: a fresh start at step 0 (the caller makes the policy). */
  readonly resumed: { readonly policy: Policy; readonly state: S } | null;
}

/**
 * Takes `rd` for a run of `kind` with `config`. Fresh: the folder must hold no run (the caller
 * calls rd.init). Resume: the
 * recorded config may change only on RESUME_MAY_CHANGE keys (each change logged and recorded);
 * the latest checkpoint's policy and state are loaded, or none when the run stopped before its
 * first checkpoint; metrics.jsonl keeps only the lines up to that step. Any error releases the lock.
 * `check` runs on a loaded policy before anything in the folder changes.
 */
export async function openRun<S extends { step: number }>(opts: {
  readonly rd: RunDir;
  readonly kind: 'rl' | 'sft';
  readonly config: TrainConfig;
  readonly resume: boolean;
  readonly factory: PolicyFactory;
  readonly stateSchema: z.ZodType<S>;
  readonly log: (line: string) => void;
  readonly check?: (policy: Policy) => void;
}): Promise<OpenedRun<S>> {
  const { rd, kind, config } = opts;
  const lock = opts.rd.claim(kind);
  if (lock.note) opts.log(`note: ${lock.note}`);
  try {
    if (!opts.resume) {
      if (rd.holdsRun()) {
        const how = rd.latest() === null ? ` stopped before its first checkpoint: pass --resume ${rd.path} to start it again from step 0` : `: pass --resume ${rd.path} to continue it`;
        throw new RunDirError(`${rd.path} already holds a run${how}, or choose another --out`);
      }
      // the caller writes the run (rd.init) once its policy exists: a run that cannot start leaves none
      return { lock, resumed: null };
    }
    const changes = checkResumeConfig(rd, kind, config);
    const latest = rd.latest();
    const resumed = latest ? await loadLatest(rd, kind, opts.factory, opts.stateSchema, latest) : null;
    if (resumed) {
      try {
        opts.check?.(resumed.policy);
      } catch (err) {
        resumed.policy.dispose();
        throw err;
      }
    }
    const step = resumed?.state.step ?? 0;
    rd.truncateMetrics(step);
    if (changes.length) writeFileAtomic(rd.configPath, configToYaml(config));
    rd.recordKind(kind);
    for (const c of changes) opts.log(`--resume: ${describeChange(c)} (recorded in ${rd.configPath})`);
    return { lock, resumed };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/**
 * Records in run.json the engine that computes the run from here (Policy.engine), once its
 * policy exists. A run continued from a checkpoint repeats an uninterrupted one bit for bit only
 * on the engine that computed it (library, kernels, threads:
 * docs/model.md#blas-kernels-and-reproducibility): on another, this says so, once. A fresh run, one
 * started again from step 0, or one from before engines were recorded, just records it.
 */
export function recordEngine(rd: RunDir, engine: string | undefined, continued: boolean, log: (line: string) => void): void {
  if (!engine) return;
  const was = rd.engine();
  if (was === engine) return;
  if (continued && was !== null) {
    log(
      `--resume: ${rd.path} was computed on ${was} and continues on ${engine}: from here its numbers match an uninterrupted run's only to float rounding (docs/model.md#blas-kernels-and-reproducibility; recorded in ${rd.kindPath})`,
    );
  }
  rd.recordEngine(engine);
}

/** The allowed changes `config` makes to the run's recorded one; a disallowed one is an error naming the key and both values. */
function checkResumeConfig(rd: RunDir, kind: 'rl' | 'sft', config: TrainConfig) {
  if (!existsSync(rd.configPath)) throw new RunDirError(`--resume ${rd.path}: no config.yaml there (not a run directory)`);
  let recorded: TrainConfig;
  try {
    recorded = resolveConfig({ base: loadYaml(readFileSync(rd.configPath, 'utf8'), rd.configPath).value });
  } catch (err) {
    if (err instanceof ConfigError) throw new RunDirError(`${rd.configPath}: ${err.message.replace(`${rd.configPath}: `, '')}`);
    throw err;
  }
  const { allowed, refused } = resumeChanges(kind, recorded, config);
  if (refused) {
    const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
    throw new RunDirError(
      `--resume ${rd.path}: ${refused.key} is ${show(refused.was)} in ${rd.configPath}, ${show(refused.now)} here; a resumed run keeps its settings but for ${RESUME_MAY_CHANGE[kind].join(', ')}: drop it, or start a new run with --out`,
    );
  }
  return allowed;
}
