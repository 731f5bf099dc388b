/**
 * The trainer's entry point to the task suite: `generateSuite(config)` returns n instances,
 * deterministic for the seed, balanced over the chosen families and variants, all from one split.
 * Instance i depends only on (seed, i, config), so a longer suite extends a shorter one.
 */
import { z } from 'zod';
import { Rng } from '../engine/rng.ts';
import { FAMILIES } from './families/index.ts';
import { contentHash, splitOf } from './hash.ts';
import { MIN_IMAGE_SIZE, rasterize } from './raster.ts';
import { FAMILY_NAMES, VARIANT_NAMES, type Difficulty, type Draft, type FamilyName, type Split, type TaskInstance, type VariantName } from './types.ts';
import { composeProblem, goldSolution } from './variants.ts';
import { LADDER_FAMILIES, RUNGS, type LadderDraft, type Rung } from './ladder.ts';

/** `classic`: the recorded suite (difficulty 1-3); `ladder`: the opt-in world of src/tasks/ladder.ts. */
export const WORLDS = ['classic', 'ladder'] as const;
export type World = (typeof WORLDS)[number];
/** The ladder's layouts are designed for the 48 px font scale. */
export const LADDER_MIN_IMAGE_SIZE = 48;

/**
 * The model's default image side in pixels. Layouts are designed on a 32-unit grid with a 3x5
 * font, legible at 32, 48 and 64 px; change the default here (or pass `imageSize`).
 */
export const DEFAULT_IMAGE_SIZE = 48;

/** Share of problems (by problem hash) that belong to the test split. */
export const DEFAULT_TEST_FRACTION = 0.2;

export const SuiteConfigSchema = z
  .object({
    n: z.number().int().min(1).max(10_000_000),
    families: z
      .array(z.enum(FAMILY_NAMES))
      .min(1)
      .default([...FAMILY_NAMES]),
    variants: z
      .array(z.enum(VARIANT_NAMES))
      .min(1)
      .default([...VARIANT_NAMES]),
    split: z.enum(['train', 'test']).default('train'),
    seed: z.union([z.number().int().refine(Number.isSafeInteger, 'seed must be a safe integer'), z.string()]).default(0),
    imageSize: z.number().int().min(MIN_IMAGE_SIZE).max(2048).default(DEFAULT_IMAGE_SIZE),
    difficulty: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(1),
    /** Must be the same for the train and the test suite, or they may share problems. */
    testFraction: z.number().gt(0).lt(1).default(DEFAULT_TEST_FRACTION),
    /** Which world; `rungs` applies to `ladder` only, `difficulty` to `classic` only. */
    world: z.enum(WORLDS).default('classic'),
    rungs: z.array(z.number().int().min(1, 'rungs are 1..5').max(RUNGS.length, 'rungs are 1..5')).min(1).default([1]),
  })
  .strict()
  .refine((c) => c.world !== 'ladder' || c.imageSize >= LADDER_MIN_IMAGE_SIZE, { path: ['imageSize'], message: `the ladder world needs images of at least ${LADDER_MIN_IMAGE_SIZE} px` });

export type SuiteConfig = z.input<typeof SuiteConfigSchema>;
export type ResolvedSuiteConfig = z.output<typeof SuiteConfigSchema>;

/** Tries per instance before giving up on finding a problem of the requested split. */
const MAX_TRIES = 400;
/** Tries spent avoiding an exact duplicate before accepting one (tiny problem spaces). */
const DEDUPE_TRIES = 40;

export function generateSuite(config: SuiteConfig): TaskInstance[] {
  const parsed = SuiteConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    throw new Error(`generateSuite: invalid config: ${issues}`);
  }
  const cfg = parsed.data;
  if (cfg.world === 'ladder') return Array.from({ length: cfg.n }, (_, i) => ladderAt(cfg, i));
  const root = Rng.seeded(cfg.seed).fork(`suite:${cfg.split}:d${cfg.difficulty}`);
  const seen = new Set<string>();
  const out: TaskInstance[] = [];
  for (let i = 0; i < cfg.n; i++) {
    // Round-robin over families, then variants: every (family, variant) pair once per F*V.
    const family = cfg.families[i % cfg.families.length];
    const variant = cfg.variants[Math.floor(i / cfg.families.length) % cfg.variants.length];
    const inst = generateOne(root.fork(`item:${i}`), family, variant, cfg, seen);
    seen.add(inst.id);
    out.push(inst);
  }
  return out;
}

function generateOne(rng: Rng, familyName: FamilyName, variant: VariantName, cfg: ResolvedSuiteConfig, seen: ReadonlySet<string>): TaskInstance {
  const kinds = FAMILIES[familyName].kinds(cfg.difficulty);
  let duplicate: TaskInstance | undefined;
  for (let t = 0; t < MAX_TRIES; t++) {
    const r = rng.fork(t);
    const draft = sampleDraft(r, familyName, r.pick(kinds), cfg.difficulty);
    // The split is checked before anything is rendered: most test-split tries are rejected.
    if (splitOf(draft.problemKey, cfg.testFraction) !== cfg.split) continue;
    const inst = finishInstance(r, draft, variant, cfg.split, cfg.imageSize);
    if (!seen.has(inst.id)) return inst;
    duplicate ??= inst;
    if (t >= DEDUPE_TRIES) return duplicate;
  }
  if (duplicate) return duplicate;
  throw new Error(`no ${cfg.split} problem of family ${familyName} at difficulty ${cfg.difficulty} found in ${MAX_TRIES} tries; ` + `testFraction ${cfg.testFraction} may be too extreme`);
}

interface KeyedDraft extends Draft {
  readonly family: FamilyName;
  readonly difficulty: Difficulty;
  readonly problemKey: string;
}

function sampleDraft(rng: Rng, family: FamilyName, kind: string, difficulty: Difficulty): KeyedDraft {
  const draft = FAMILIES[family].sample(rng.fork('draft'), difficulty, kind);
  return { ...draft, family, difficulty, problemKey: contentHash({ family, kind: draft.kind, key: draft.key }) };
}

function finishInstance(rng: Rng, draft: KeyedDraft, variant: VariantName, split: Split, imageSize: number): TaskInstance {
  const composed = composeProblem(draft, variant, rng.fork('variant'));
  const scene = draft.scene(composed.show);
  const givens = draft.givens.map((g, i) => ({ ...g, inText: composed.inText[i] }));
  const id = contentHash({
    family: draft.family,
    variant,
    kind: draft.kind,
    difficulty: draft.difficulty,
    problem: composed.problem,
    answer: draft.answer,
    scene,
  });
  return {
    id,
    problemKey: draft.problemKey,
    family: draft.family,
    variant,
    kind: draft.kind,
    difficulty: draft.difficulty,
    split,
    problem: composed.problem,
    answer: draft.answer,
    solution: goldSolution(draft),
    image: rasterize(scene, imageSize),
    scene,
    givens,
    imageValues: givens.map((g) => g.value),
    textValues: givens.filter((g) => g.inText).map((g) => g.value),
    ...(draft.options ? { options: { ...draft.options, inImage: composed.show.options } } : {}),
  };
}

/**
 * One instance of a given family, kind and variant, ignoring splits: for docs, tests and
 * debugging. `split` reports where its problem belongs under `testFraction`.
 */
export function sampleInstance(opts: { rng: Rng; family: FamilyName; kind?: string; variant: VariantName; difficulty?: Difficulty; imageSize?: number; testFraction?: number }): TaskInstance {
  const difficulty = opts.difficulty ?? 1;
  const kinds = FAMILIES[opts.family].kinds(difficulty);
  const kind = opts.kind ?? opts.rng.fork('kind').pick(kinds);
  if (!kinds.includes(kind)) throw new Error(`family ${opts.family} has no kind "${kind}" at difficulty ${difficulty} (kinds: ${kinds.join(', ')})`);
  const draft = sampleDraft(opts.rng, opts.family, kind, difficulty);
  const split = splitOf(draft.problemKey, opts.testFraction ?? DEFAULT_TEST_FRACTION);
  return finishInstance(opts.rng, draft, opts.variant, split, opts.imageSize ?? DEFAULT_IMAGE_SIZE);
}

// ---- the ladder world: a stream, instance i a pure function of (seed, i) ----

/**
 * Instance `i` of the ladder stream for these settings: round-robin over families, then
 * variants, then rungs; its problem drawn from the split's side of the key hash. No
 * de-duplication against earlier instances (each family's space holds over a million problems per
 * rung), so it depends on (seed, i) and the settings only: a stream can be read at any position.
 */
export function ladderAt(config: SuiteConfig | ResolvedSuiteConfig, i: number): TaskInstance {
  const cfg = SuiteConfigSchema.parse({ ...config, world: 'ladder' });
  if (!Number.isSafeInteger(i) || i < 0) throw new Error(`ladderAt: position must be a non-negative integer, got ${i}`);
  const F = cfg.families.length;
  const V = cfg.variants.length;
  const family = cfg.families[i % F];
  const variant = cfg.variants[Math.floor(i / F) % V];
  const rung = cfg.rungs[Math.floor(i / (F * V)) % cfg.rungs.length] as Rung;
  const rng = Rng.seeded(cfg.seed).fork(`ladder:${cfg.split}`).fork(`item:${i}:r${rung}`);
  const kinds = LADDER_FAMILIES[family].kinds(rung);
  for (let t = 0; t < MAX_TRIES; t++) {
    const r = rng.fork(t);
    const draft = sampleLadderDraft(r, family, r.pick(kinds), rung);
    if (splitOf(draft.problemKey, cfg.testFraction) !== cfg.split) continue;
    return finishLadder(r, draft, variant, cfg.split, cfg.imageSize);
  }
  throw new Error(`no ${cfg.split} problem of family ${family} at rung ${rung} found in ${MAX_TRIES} tries; testFraction ${cfg.testFraction} may be too extreme`);
}

type KeyedLadderDraft = LadderDraft & { readonly family: FamilyName; readonly problemKey: string };

/** A ladder draft with its problem key (the rung is not part of the key). */
export function sampleLadderDraft(rng: Rng, family: FamilyName, kind: string, rung: Rung): KeyedLadderDraft {
  const draft = LADDER_FAMILIES[family].sample(rng.fork('draft'), rung, kind);
  // The rung is not in the key: the same problem drawn at two rungs (most-color on rungs 2 and 3) is one problem, in one split.
  return { ...draft, family, problemKey: contentHash({ world: 'ladder', family, kind: draft.kind, key: draft.key }) };
}

function finishLadder(rng: Rng, draft: KeyedLadderDraft, variant: VariantName, split: Split, imageSize: number): TaskInstance {
  const base = finishInstance(rng, { ...draft, difficulty: 1 }, variant, split, imageSize);
  const id = contentHash({ world: 'ladder', id: base.id, rung: draft.rung });
  return { ...base, id, rung: draft.rung, ...(draft.priorAnswer !== undefined ? { priorAnswer: draft.priorAnswer } : {}) };
}

/** One ladder instance of a given family, kind, rung and variant, ignoring splits: for docs and tests. */
export function sampleLadderInstance(opts: { rng: Rng; family: FamilyName; rung: Rung; variant: VariantName; kind?: string; imageSize?: number; testFraction?: number }): TaskInstance {
  const kinds = LADDER_FAMILIES[opts.family].kinds(opts.rung);
  const kind = opts.kind ?? opts.rng.fork('kind').pick(kinds);
  if (!kinds.includes(kind)) throw new Error(`ladder family ${opts.family} has no kind "${kind}" at rung ${opts.rung} (kinds: ${kinds.join(', ')})`);
  const draft = sampleLadderDraft(opts.rng, opts.family, kind, opts.rung);
  return finishLadder(opts.rng, draft, opts.variant, splitOf(draft.problemKey, opts.testFraction ?? DEFAULT_TEST_FRACTION), opts.imageSize ?? DEFAULT_IMAGE_SIZE);
}
