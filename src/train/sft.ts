/**
 * Supervised warm start: teacher forcing on the gold solutions (`<think>…</think> \boxed{…}`)
 * of the generated suite, so RL starts from a policy that knows the format and reads some
 * values right. A share of every batch is drills (src/tasks/drills.ts): reading random numbers
 * in an image, and the suite's arithmetic without a figure — what a pretrained VLM would bring.
 * Same run directory, checkpoints, resume and Ctrl-C as the RL trainer.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { configToYaml, type TrainConfig } from './config.ts';
import type { Policy, PolicyFactory, ScoreItem } from '../core/policy.ts';
import { ProblemStream } from './problems.ts';
import type { Problem } from '../core/problem.ts';
import { Progress } from './progress.ts';
import { RunDir } from './run-dir.ts';
import { learningRate } from './schedule.ts';
import { openRun, recordEngine } from './open-run.ts';
import { TrainError } from './trainer.ts';
import { Rng } from '../engine/rng.ts';
import { arithmeticDrill, ladderArithmeticDrill, readingDrill, type Drill } from '../tasks/drills.ts';
import type { Rung } from '../tasks/ladder.ts';
import { glyphPlacements } from '../tasks/raster.ts';
import type { Difficulty, FamilyName } from '../tasks/types.ts';

export interface SftOptions {
  readonly config: TrainConfig;
  readonly out: string;
  readonly factory: PolicyFactory;
  readonly problems: readonly Problem[];
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  readonly progressStream?: ConstructorParameters<typeof Progress>[0]['stream'];
  readonly log?: (line: string) => void;
}

interface SftState {
  readonly step: number;
  readonly cursor: number;
}
const stateSchema = z.object({ step: z.number().int().min(0), cursor: z.number().int().min(0) });

export interface SftResult {
  readonly stopped: 'done' | 'interrupted';
  readonly state: SftState;
  readonly checkpoint: string | null;
}

/** The gold response of a problem as the policy's tokens, eos included. */
export function goldItem(policy: Policy, p: Problem): ScoreItem {
  if (p.solution === undefined) throw new TrainError(`problem ${p.id} has no gold solution: SFT needs the generated suite`);
  return { image: p.image, prompt: policy.encodePrompt(p.problem), response: [...policy.encode(p.solution), policy.eos] };
}

function drillItem(policy: Policy, d: Drill): ScoreItem {
  return { image: d.image, prompt: policy.encodePrompt(d.problem), response: [...policy.encode(d.solution), policy.eos] };
}

/** How a batch of `batch_size` splits into task problems and the two kinds of drill. */
export function sftBatchShares(s: TrainConfig['sft']): { tasks: number; reading: number; arithmetic: number } {
  const reading = Math.round(s.batch_size * s.reading_drills);
  const arithmetic = Math.round(s.batch_size * s.arithmetic_drills);
  return { tasks: Math.max(1, s.batch_size - reading - arithmetic), reading, arithmetic };
}

/** What a drill stream is drawn for (beside its seed): the run's image size, and its world. */
export interface DrillSetting {
  readonly imageSize: number;
  /** Classic world: the suite's difficulty, which the arithmetic drills compute at (default 1). */
  readonly difficulty?: Difficulty;
  /** Ladder world: the rungs and families the arithmetic drills compute at (drillRungs). */
  readonly ladder?: { readonly rungs: readonly Rung[]; readonly families: readonly FamilyName[] };
  /** Most numbers a reading drill holds (sft.reading_drill_numbers; default 6). */
  readonly readingNumbers?: number;
}

/** The drill at position `index` of its stream: a pure function of (seed, kind, index, setting), so resume needs no state. */
export function drillAt(seed: number, kind: Drill['kind'], index: number, o: DrillSetting): Drill {
  const rng = Rng.seeded(seed).fork(`sft-drill:${kind}:${index}`);
  if (kind === 'reading') return readingDrill(rng, o.imageSize, o.readingNumbers);
  return o.ladder ? ladderArithmeticDrill(rng, o.ladder.rungs, o.imageSize, o.ladder.families) : arithmeticDrill(rng, o.difficulty ?? 1, o.imageSize);
}

/** The ladder world's drills compute at every rung the run uses (src/tasks/drills.ts says why); undefined in the classic world. */
export function drillRungs(suite: TrainConfig['data']['suite']): Rung[] | undefined {
  return suite.world === 'ladder' ? ([...new Set([...suite.sft_rungs, ...suite.rl_rungs, ...suite.test_rungs])].sort((a, b) => a - b) as Rung[]) : undefined;
}

export async function sft(opts: SftOptions): Promise<SftResult> {
  const { config } = opts;
  const s = config.sft;
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const rd = new RunDir(opts.out);
  const { lock, resumed } = await openRun({ rd, kind: 'sft', config, resume: Boolean(opts.resume), factory: opts.factory, stateSchema, log });
  let state: SftState = resumed?.state ?? { step: 0, cursor: 0 };
  let policy: Policy;
  if (resumed) {
    policy = resumed.policy;
    log(`resuming SFT in ${opts.out} from step ${state.step}`);
  } else {
    try {
      policy = await opts.factory.create(config.worker.actor.model, config.trainer.seed);
    } catch (err) {
      lock.release();
      throw err;
    }
    if (opts.resume) log(`resuming SFT in ${opts.out} from step 0 (it stopped before its first checkpoint)`);
    else rd.init(configToYaml(config), 'sft');
    log(`SFT: fresh ${config.worker.actor.model} policy, ${policy.paramCount.toLocaleString('en-US')} parameters`);
  }
  recordEngine(rd, policy.engine, resumed !== null, log);
  const stream = new ProblemStream(opts.problems, `sft:${config.trainer.seed}`);
  const progress = new Progress({ total: s.total_steps, label: 'sft', stream: opts.progressStream });
  const shares = sftBatchShares(s);
  const ladderRungs = drillRungs(config.data.suite);
  const ladder = ladderRungs && { rungs: ladderRungs, families: config.data.suite.families };
  const drillSetting: DrillSetting = { imageSize: policy.imageSize, difficulty: config.data.suite.difficulty, ladder, readingNumbers: s.reading_drill_numbers };
  let checkpoint: string | null = rd.latest()?.dir ?? null;
  const save = async (st: SftState) => {
    const ref = await rd.saveCheckpoint(st.step, config.trainer.save_limit, async (dir) => {
      await policy.save(join(dir, 'policy'), { step: st.step, stage: 'sft' });
      writeFileSync(join(dir, 'trainer.json'), JSON.stringify(st, null, 2) + '\n');
    });
    checkpoint = ref.dir;
  };
  let stopped: SftResult['stopped'] = 'done';
  try {
    while (state.step < s.total_steps) {
      const step = state.step + 1;
      const t0 = performance.now();
      let cursor = state.cursor;
      const problems = Array.from({ length: shares.tasks }, () => stream.at(cursor++));
      const drillsOf = (kind: Drill['kind'], n: number) => Array.from({ length: n }, (_, j) => drillAt(config.trainer.seed, kind, (step - 1) * n + j, drillSetting));
      const readingDrills = drillsOf('reading', shares.reading);
      const items = problems.map((p) => goldItem(policy, p));
      const reading = readingDrills.map((d) => drillItem(policy, d));
      const arithmetic = drillsOf('arithmetic', shares.arithmetic).map((d) => drillItem(policy, d));
      const count = (its: readonly ScoreItem[]) => its.reduce((a, it) => a + it.response.length, 0);
      const lr = learningRate({ lr: s.lr, schedule: 'cosine', warmup_steps: s.warmup_steps, min_lr_ratio: s.min_lr_ratio }, step, s.total_steps);
      // the vision encoder's reading loss on every image whose writing is known (per patch, times its weight)
      const readable = [
        ...problems.flatMap((p) => (p.glyphs ? [{ image: p.image, glyphs: p.glyphs }] : [])),
        ...readingDrills.map((d) => ({ image: d.image, glyphs: glyphPlacements(d.scene, policy.imageSize) })),
      ];
      const readingLoss = s.reading_loss_coef > 0 && policy.visionBackward && readable.length ? policy.visionBackward : null;
      // reading warm-up: the first steps train the reading loss alone (when there is one)
      const warmup = readingLoss !== null && step <= s.reading_warmup_steps;
      const tokens = warmup ? 0 : count(items) + count(reading) + count(arithmetic);
      const patches = readable.length * (policy.imageSize / policy.patchSize) ** 2;
      const ocr = readingLoss ? (await readingLoss.call(policy, readable, s.reading_loss_coef / patches)).loss / patches : null;
      // the token loss: the mean NLL over every token of the batch; arithmetic drills have no figure, so they skip the image
      const nllTask = warmup ? 0 : (await policy.sftBackward(items, 1 / tokens)).nll;
      const nllReading = warmup || !reading.length ? 0 : (await policy.sftBackward(reading, 1 / tokens)).nll;
      const nllArith = warmup || !arithmetic.length ? 0 : (await policy.sftBackward(arithmetic, 1 / tokens, { mode: 'text-only' })).nll;
      const o = config.worker.actor.optim;
      // the logit scale stays at 1 here (RL's to learn, worker.actor.optim.logit_scale_lr): the
      // warm start is then the recipe that made the shipped base, bit for bit
      const lrFor = policy.logitScale ? { [policy.logitScale]: 0 } : undefined;
      const res = await policy.step({ lr, lrFor, weightDecay: s.weight_decay, betas: o.betas, eps: o.eps, maxGradNorm: s.max_grad_norm });
      state = { step, cursor };
      const loss = warmup ? null : (nllTask + nllReading + nllArith) / tokens;
      const per = (nll: number, its: readonly ScoreItem[]) => (!warmup && its.length ? nll / count(its) : null);
      rd.appendMetrics({
        step,
        loss,
        loss_task: per(nllTask, items),
        loss_reading: per(nllReading, reading),
        loss_arithmetic: per(nllArith, arithmetic),
        loss_ocr: ocr,
        tokens,
        lr,
        grad_norm: res.gradNorm,
        applied: res.applied,
        time_step: (performance.now() - t0) / 1000,
      });
      if (!res.applied) log(`sft step ${step}: non-finite gradient (norm ${res.gradNorm}), update skipped`);
      progress.update(step, warmup ? { ocr: ocr ?? NaN } : { loss: loss ?? NaN });
      if (opts.signal?.aborted) {
        stopped = 'interrupted';
        break;
      }
      if (step % s.save_freq === 0 || step === s.total_steps) await save(state);
    }
    if (stopped === 'interrupted') {
      await save(state);
      progress.log(`interrupted: checkpoint written at step ${state.step}; continue with --resume ${opts.out}`);
    }
  } finally {
    progress.finish();
    policy.dispose();
    lock.release();
  }
  return { stopped, state, checkpoint };
}
