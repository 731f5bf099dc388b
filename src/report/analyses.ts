/**
 * The analyses behind the paper's claims, as pure functions over what a run writes
 * (docs/analyses.md defines each estimator): how S is distributed over tokens, S and PGPO's
 * weights by token class and by role in the response's layout, S by task variant, curves over
 * training with a collapse detector, and policy-gradient variance across algorithms. No file access and no drawing here: run-data.ts reads, charts.ts draws.
 */
import { gini, topShare } from '../algo/metrics.ts';

// ---------------------------------------------------------------------------------------------
// 1. The distribution of S over tokens

export interface DependencyHistogram {
  /** Bin edges in log10(S): bins + 1 ascending values. */
  readonly edges: number[];
  /** Token counts per bin (bins values). */
  readonly counts: number[];
  /** Tokens with S <= floor (including S = 0), which a log axis cannot place. */
  readonly belowFloor: number;
  readonly floor: number;
  readonly tokens: number;
  /** Share of total S carried by the top 10% of tokens. */
  readonly top10Share: number;
  readonly gini: number;
  readonly mean: number;
  readonly median: number;
  /** Concentration curve: share of total S held by the top q of tokens, for q in QUANTILES. */
  readonly concentration: Array<{ top: number; share: number }>;
}

export const CONCENTRATION_QUANTILES = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1] as const;

/**
 * Log-scale histogram of S over tokens. Bins are equal in log10(S) from log10(floor) to
 * log10(max S) (one decade when all S are equal); tokens with S <= floor are counted apart.
 * Negative S (float noise of an estimator) counts as 0.
 */
export function dependencyHistogram(values: ArrayLike<number>, options: { bins?: number; floor?: number } = {}): DependencyHistogram {
  const bins = options.bins ?? 24;
  const floor = options.floor ?? 1e-6;
  const s = Float64Array.from(values, (x) => (Number.isFinite(x) ? Math.max(0, x) : 0));
  const n = s.length;
  const positive = s.filter((x) => x > floor);
  const lo = Math.log10(floor);
  let hi = positive.length ? Math.log10(positive.reduce((a, b) => Math.max(a, b), 0)) : lo + 1;
  if (hi <= lo) hi = lo + 1;
  hi += 1e-9 * (hi - lo); // the maximum falls inside the last bin
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  const counts = new Array<number>(bins).fill(0);
  for (const x of positive) counts[Math.min(bins - 1, Math.floor((Math.log10(x) - lo) / width))]++;
  const sorted = Float64Array.from(s).sort();
  const total = s.reduce((a, b) => a + b, 0);
  return {
    edges,
    counts,
    belowFloor: n - positive.length,
    floor,
    tokens: n,
    top10Share: topShare(s, 0.1),
    gini: gini(s),
    mean: n ? total / n : NaN,
    median: n ? (n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2) : NaN,
    concentration: CONCENTRATION_QUANTILES.map((q) => ({ top: q, share: topShare(s, q) })),
  };
}

// ---------------------------------------------------------------------------------------------
// 2. S by token class

export const TOKEN_CLASSES = ['image-digit', 'text-digit', 'computed-digit', 'operator', 'template'] as const;
export type TokenClass = (typeof TOKEN_CLASSES)[number];

export const TOKEN_CLASS_LABELS: Record<TokenClass, string> = {
  'image-digit': 'digits read from the image',
  'text-digit': 'digits given in the text',
  'computed-digit': 'digits computed',
  operator: 'operators',
  template: 'template text',
};

/** Numeric equality of two value strings ("50", "50.0", "50°" all read as 50). */
function sameValue(a: string, b: string): boolean {
  const x = Number.parseFloat(a);
  const y = Number.parseFloat(b);
  return Number.isFinite(x) && x === y;
}

const OPERATOR_CHARS = new Set(['+', '-', '*', '/', '=', '^', '(', ')', '×', '÷', '·', '−', '<', '>', '%']);
const TEMPLATE_SPAN = /<\/?think>|\\boxed\{/g;
const NUMBER = /\d+(?:\.\d+)?/g;

/**
 * Classifies each response token (docs/analyses.md, "token classes"). The pieces are joined
 * into the response text and every number in it gets a class:
 *   - inside \boxed{...}, or right after an `=` whose left side (back to the last space) holds an
 *     operator, as in `180-50-60=70`: a result -> computed-digit;
 *   - else a value listed in text_values -> text-digit (given in the problem text);
 *   - else a value listed in image_values -> image-digit (only the image shows it);
 *   - else -> computed-digit (intermediate results and constants such as 180).
 * A token that overlaps a number takes that number's class (the first one it overlaps); else a
 * token holding an operator character outside the tags `<think>`, `</think>`, `\boxed{` is an
 * operator (`=` always is, also in `A=50`); everything else (tags, names such as `A`, words,
 * spaces, braces) is template.
 */
export function classifyTokens(pieces: readonly string[], imageValues: readonly string[], textValues: readonly string[]): TokenClass[] {
  const text = pieces.join('');
  const charClass: Array<TokenClass | null> = new Array(text.length).fill(null);
  const templateChar = new Array<boolean>(text.length).fill(false);
  for (const m of text.matchAll(TEMPLATE_SPAN)) for (let i = m.index; i < m.index + m[0].length; i++) templateChar[i] = true;
  // spans of \boxed{...} contents
  const boxed: Array<[number, number]> = [];
  for (const m of text.matchAll(/\\boxed\{([^}]*)\}/g)) boxed.push([m.index + 7, m.index + m[0].length - 1]);
  for (const m of text.matchAll(NUMBER)) {
    const start = m.index;
    const end = start + m[0].length;
    let cls: TokenClass;
    if (boxed.some(([a, b]) => start >= a && end <= b) || isResult(text, start)) cls = 'computed-digit';
    else if (textValues.some((v) => sameValue(v, m[0]))) cls = 'text-digit';
    else if (imageValues.some((v) => sameValue(v, m[0]))) cls = 'image-digit';
    else cls = 'computed-digit';
    for (let i = start; i < end; i++) charClass[i] = cls;
  }
  const out: TokenClass[] = [];
  let pos = 0;
  for (const piece of pieces) {
    const end = pos + piece.length;
    let cls: TokenClass = 'template';
    let operator = false;
    for (let i = pos; i < end; i++) {
      const c = charClass[i];
      if (c) {
        cls = c;
        break;
      }
      if (!templateChar[i] && OPERATOR_CHARS.has(text[i])) operator = true;
    }
    if (cls === 'template' && operator) cls = 'operator';
    out.push(cls);
    pos = end;
  }
  return out;
}

/** Is the number starting at `start` the right side of `expr=` with an operator inside expr? */
function isResult(text: string, start: number): boolean {
  let i = start - 1;
  while (i >= 0 && text[i] === ' ') i--;
  if (i < 0 || text[i] !== '=') return false;
  let j = i - 1;
  while (j >= 0 && /\s/.test(text[j])) j--;
  const endLeft = j;
  while (j >= 0 && !/\s/.test(text[j]) && text[j] !== '>') j--;
  const left = text.slice(j + 1, endLeft + 1);
  return /\d/.test(left) && /[+\-*/×÷·−^]/.test(left);
}

export interface ClassStats {
  readonly cls: TokenClass;
  readonly tokens: number;
  readonly meanS: number;
  /** Mean log(1 + S): the compressed score PGPO reshapes on. */
  readonly meanLog1pS: number;
  /** Share of all tokens' total S carried by this class. */
  readonly shareOfS: number;
}

/** A response's tokens and the values its problem shows: what the class and role labels are read from. */
interface Labelled {
  readonly pieces: readonly string[];
  readonly image_values: readonly string[];
  readonly text_values: readonly string[];
}

export interface ClassInput extends Labelled {
  readonly dep: readonly number[];
}

/** Per label: its tokens, their mean value and mean log(1 + value), the share of them above 1, and the label's share of all tokens' total value. */
interface LabelTally<L extends string> {
  readonly label: L;
  readonly tokens: number;
  readonly mean: number;
  readonly meanLog1p: number;
  readonly aboveOne: number;
  readonly share: number;
}

/** One accumulator for the class and role tables of S and of weights, which differ only in their labels and per-token value. */
function tallyByLabel<L extends string, R>(labels: readonly L[], records: readonly R[], labelsOf: (r: R) => ReadonlyArray<readonly L[]>, valueOf: (r: R, t: number) => number): LabelTally<L>[] {
  const sum = new Map(labels.map((label) => [label, { n: 0, v: 0, log: 0, up: 0 }]));
  let total = 0;
  for (const r of records) {
    labelsOf(r).forEach((tokenLabels, t) => {
      const v = valueOf(r, t);
      for (const label of tokenLabels) {
        const acc = sum.get(label)!;
        acc.n++;
        acc.v += v;
        acc.log += Math.log1p(v);
        if (v > 1) acc.up++;
      }
      total += v;
    });
  }
  return labels.map((label) => {
    const a = sum.get(label)!;
    return { label, tokens: a.n, mean: a.n ? a.v / a.n : NaN, meanLog1p: a.n ? a.log / a.n : NaN, aboveOne: a.n ? a.up / a.n : NaN, share: total > 0 ? a.v / total : 0 };
  });
}

const classesOf = (r: Labelled) => classifyTokens(r.pieces, r.image_values, r.text_values).map((c) => [c]);
const depAt = (r: ClassInput, t: number) => Math.max(0, r.dep[t] ?? 0);

/** Mean S and mean log(1+S) per token class over many responses. */
export function dependencyByClass(records: readonly ClassInput[]): ClassStats[] {
  return tallyByLabel(TOKEN_CLASSES, records, classesOf, depAt).map((a) => ({ cls: a.label, tokens: a.tokens, meanS: a.mean, meanLog1pS: a.meanLog1p, shareOfS: a.share }));
}

export interface ClassWeightStats {
  readonly cls: TokenClass;
  /** Tokens of the class in responses that carry weights. */
  readonly tokens: number;
  /** Mean token weight w~_t of the class (over all responses' tokens, 1 for every class when nothing is reshaped). */
  readonly meanWeight: number;
  /** Share of the class's tokens with w~_t > 1: credited above the sequence advantage. */
  readonly boosted: number;
  /** Share of all tokens' total weight carried by this class. */
  readonly shareOfWeight: number;
}

export interface WeightInput extends Labelled {
  /** PGPO's per-token advantage multipliers; [] for an algorithm that reshapes nothing (the record is skipped). */
  readonly weights: readonly number[];
}

const weightAt = (r: WeightInput, t: number) => r.weights[t];

/** Where the reshaped weights land: mean weight and the share of boosted (w > 1) tokens per token class. */
export function weightByClass(records: readonly WeightInput[]): ClassWeightStats[] {
  const weighted = records.filter((r) => r.weights.length);
  return tallyByLabel(TOKEN_CLASSES, weighted, classesOf, weightAt).map((a) => ({ cls: a.label, tokens: a.tokens, meanWeight: a.mean, boosted: a.aboveOne, shareOfWeight: a.share }));
}

// ---------------------------------------------------------------------------------------------
// 2b. S and weights by role in the response's layout

/**
 * A token's role in the house layout `<think>T=157 x=25 157-25=132</think> \boxed{132}`, whatever
 * its value: a misread value (`x=24` where the image shows 66) is still a written value.
 */
export const TOKEN_ROLES = ['value-name', 'written-value', 'expression', 'result', 'template'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export const TOKEN_ROLE_LABELS: Record<TokenRole, string> = {
  'value-name': 'value name',
  'written-value': 'written value',
  expression: 'expression',
  result: 'result',
  template: 'template',
};

/** The rows of the role tables: the roles, with the written values split by whether their value is one the problem shows. */
export const ROLE_ROWS = ['value-name', 'written-value', 'written-correct', 'written-misread', 'expression', 'result', 'template'] as const;
export type RoleRow = (typeof ROLE_ROWS)[number];

export const ROLE_ROW_LABELS: Record<RoleRow, string> = {
  ...TOKEN_ROLE_LABELS,
  'written-correct': 'written value: correct',
  'written-misread': 'written value: misread',
};

const ROLE_TAG = /<\/?think>|\\boxed\{|<eos>/g;
const ARITHMETIC = /[+\-*/×÷·−^]/;
/** `T=`, `x=`, `green=`: an assignment's name; `max=` (bar-max, most-color) opens the computation instead. */
const ASSIGNMENT = /^([A-Za-z]+)=/;

interface RoleLayout {
  /** Per character of the joined response. */
  readonly roles: TokenRole[];
  /** Per character: the index in `values` of the written value it belongs to, else -1. */
  readonly valueOf: number[];
  readonly values: string[];
}

/**
 * The role of every character of a response (docs/analyses.md, "token roles"). The think is the
 * text after the first `<think>` (from the start without one) up to the first `</think>` or
 * `\boxed{` after it (to the end without either). Its words (runs of characters that are neither
 * space nor a tag) are read left to right:
 *   - `NAME=` (letters, not `max`) -> value name; the rest of the word, when it holds no `=` and no
 *     arithmetic operator, is the written value; otherwise the rest is read as a computation;
 *   - a word (or rest) holding `=`: up to and including its last `=` -> expression, after it ->
 *     result (`180-50-60=70`, `max=C`);
 *   - a word without `=`: with an arithmetic operator -> expression (an unfinished computation);
 *     after a computation -> result (the choice letter in `... 31 A`); holding a digit -> written
 *     value (a value without a name); else template.
 * Outside the think, what follows a `\boxed{` up to the next `}` or tag is result; everything else
 * (tags, spaces, braces, stray text) is template. Braces are template anywhere.
 */
function roleLayout(text: string): RoleLayout {
  const n = text.length;
  const roles = new Array<TokenRole>(n).fill('template');
  const valueOf = new Array<number>(n).fill(-1);
  const values: string[] = [];
  const tagged = new Array<boolean>(n).fill(false);
  const tags = [...text.matchAll(ROLE_TAG)].map((m) => ({ start: m.index, end: m.index + m[0].length, tag: m[0] }));
  for (const t of tags) for (let i = t.start; i < t.end; i++) tagged[i] = true;
  const set = (from: number, to: number, role: TokenRole) => {
    for (let i = from; i < to; i++) roles[i] = role;
  };
  const written = (from: number, to: number) => {
    set(from, to, 'written-value');
    for (let i = from; i < to; i++) valueOf[i] = values.length;
    values.push(text.slice(from, to));
  };

  const open = tags.find((t) => t.tag === '<think>');
  const thinkStart = open ? open.end : 0;
  const thinkEnd = tags.find((t) => t.start >= thinkStart && (t.tag === '</think>' || t.tag === '\\boxed{'))?.start ?? n;
  let computed = false;
  for (let a = thinkStart; a < thinkEnd;) {
    if (tagged[a] || /\s/.test(text[a])) {
      a++;
      continue;
    }
    let b = a;
    while (b < thinkEnd && !tagged[b] && !/\s/.test(text[b])) b++;
    const name = ASSIGNMENT.exec(text.slice(a, b));
    const named = name !== null && name[1] !== 'max';
    const from = named ? a + name[0].length : a;
    if (named) set(a, from, 'value-name');
    const rest = text.slice(from, b);
    const eq = rest.lastIndexOf('=');
    if (named && eq < 0 && !ARITHMETIC.test(rest)) {
      if (from < b) written(from, b);
    } else if (eq >= 0) {
      set(from, from + eq + 1, 'expression');
      set(from + eq + 1, b, 'result');
      computed = true;
    } else if (ARITHMETIC.test(rest)) set(from, b, 'expression');
    else if (computed) set(from, b, 'result');
    else if (/\d/.test(rest)) written(from, b);
    a = b;
  }
  for (const t of tags) {
    if (t.tag !== '\\boxed{' || t.start < thinkEnd) continue;
    for (let i = t.end; i < n && text[i] !== '}' && !tagged[i]; i++) roles[i] = 'result';
  }
  for (let i = 0; i < n; i++) if (tagged[i] || /\s/.test(text[i]) || text[i] === '{' || text[i] === '}') roles[i] = 'template';
  return { roles, valueOf, values };
}

/** Per token: its role (that of its first non-space character; template for a token of spaces) and, for a written value, the value. */
function tokenRoles(pieces: readonly string[]): Array<{ role: TokenRole; value: string | null }> {
  const { roles, valueOf, values } = roleLayout(pieces.join(''));
  const out: Array<{ role: TokenRole; value: string | null }> = [];
  let pos = 0;
  for (const piece of pieces) {
    let first = pos;
    while (first < pos + piece.length && /\s/.test(piece[first - pos])) first++;
    const role = first < pos + piece.length ? roles[first] : 'template';
    out.push({ role, value: role === 'written-value' && valueOf[first] >= 0 ? values[valueOf[first]] : null });
    pos += piece.length;
  }
  return out;
}

/**
 * The role of each response token in the layout, independent of whether its value is right
 * (docs/analyses.md, "token roles"): a token takes the role of its first non-space character.
 */
export function classifyRoles(pieces: readonly string[]): TokenRole[] {
  return tokenRoles(pieces).map((t) => t.role);
}

/**
 * Role rows of each token: its role, and for a written value also `written-correct` (the value
 * equals one of image_values or text_values) or `written-misread` (it equals none).
 */
function roleRowsOf(r: Labelled): RoleRow[][] {
  return tokenRoles(r.pieces).map(({ role, value }) => {
    if (role !== 'written-value') return [role];
    const correct = value !== null && [...r.image_values, ...r.text_values].some((v) => sameValue(v, value));
    return [role, correct ? 'written-correct' : 'written-misread'];
  });
}

export interface RoleStats {
  readonly row: RoleRow;
  readonly tokens: number;
  readonly meanS: number;
  readonly meanLog1pS: number;
  /** Share of all tokens' total S carried by the row's tokens. */
  readonly shareOfS: number;
}

/** Mean S and its share per role (written values also split into correct and misread). */
export function dependencyByRole(records: readonly ClassInput[]): RoleStats[] {
  return tallyByLabel(ROLE_ROWS, records, roleRowsOf, depAt).map((a) => ({ row: a.label, tokens: a.tokens, meanS: a.mean, meanLog1pS: a.meanLog1p, shareOfS: a.share }));
}

export interface RoleWeightStats {
  readonly row: RoleRow;
  readonly tokens: number;
  readonly meanWeight: number;
  /** Share of the row's tokens with w~_t > 1. */
  readonly boosted: number;
  readonly shareOfWeight: number;
}

/** Mean weight, boosted share (w > 1) and share of weight per role; a record without weights is skipped. */
export function weightByRole(records: readonly WeightInput[]): RoleWeightStats[] {
  const weighted = records.filter((r) => r.weights.length);
  return tallyByLabel(ROLE_ROWS, weighted, roleRowsOf, weightAt).map((a) => ({ row: a.label, tokens: a.tokens, meanWeight: a.mean, boosted: a.aboveOne, shareOfWeight: a.share }));
}

// ---------------------------------------------------------------------------------------------
// 3. S by task variant (text-dominant vs vision-only, and any other variant names)

export interface VariantStats {
  readonly variant: string;
  readonly responses: number;
  readonly tokens: number;
  readonly meanS: number;
  readonly meanLog1pS: number;
  /** Mean over responses of the response's largest S: does the response look at the image at all? */
  readonly meanMaxS: number;
  readonly top10Share: number;
}

/** Variants in a fixed reading order: vision-only first, text-dominant last, others between by name. */
export function variantOrder(a: string, b: string): number {
  const rank = (v: string) => (v === 'vision-only' ? 0 : v === 'text-dominant' ? 2 : 1);
  return rank(a) - rank(b) || a.localeCompare(b);
}

export function dependencyByVariant(records: ReadonlyArray<{ variant: string; dep: readonly number[] }>): VariantStats[] {
  const groups = new Map<string, Array<readonly number[]>>();
  for (const r of records) {
    if (!groups.has(r.variant)) groups.set(r.variant, []);
    groups.get(r.variant)!.push(r.dep);
  }
  return [...groups.keys()].sort(variantOrder).map((variant) => {
    const deps = groups.get(variant)!;
    const all = deps.flatMap((d) => d.map((x) => Math.max(0, x)));
    const n = all.length;
    const maxes = deps.filter((d) => d.length).map((d) => Math.max(...d.map((x) => Math.max(0, x))));
    return {
      variant,
      responses: deps.length,
      tokens: n,
      meanS: n ? all.reduce((a, b) => a + b, 0) / n : NaN,
      meanLog1pS: n ? all.reduce((a, b) => a + Math.log1p(b), 0) / n : NaN,
      meanMaxS: maxes.length ? maxes.reduce((a, b) => a + b, 0) / maxes.length : NaN,
      top10Share: topShare(all, 0.1),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// 4. Curves over training, and collapse

export type Point = readonly [x: number, y: number];

/** (step, value) pairs of one metric, skipping steps where it is missing, null or not finite. */
export function metricSeries(rows: ReadonlyArray<{ step: number } & Record<string, unknown>>, key: string): Point[] {
  const out: Point[] = [];
  for (const r of rows) {
    const v = r[key];
    if (typeof v === 'number' && Number.isFinite(v)) out.push([r.step, v]);
  }
  return out;
}

/** Trailing moving average over `window` points (the first points average what exists). */
export function smooth(points: readonly Point[], window: number): Point[] {
  const w = Math.max(1, Math.floor(window));
  let acc = 0;
  return points.map(([x, y], i) => {
    acc += y;
    if (i >= w) acc -= points[i - w][1];
    return [x, acc / Math.min(i + 1, w)] as const;
  });
}

/** The default smoothing window: 5% of the points, at least 3. */
export const smoothingWindow = (n: number) => Math.max(3, Math.round(n / 20));

export interface CollapseOptions {
  /** Smoothing window in points (default smoothingWindow(n)). */
  readonly window?: number;
  /** Accuracy drop from the smoothed peak to the smoothed final value that counts (absolute, default 0.1). */
  readonly minDrop?: number;
  /** Entropy after the peak must exceed this multiple of its median up to the peak (default 2). */
  readonly spikeRatio?: number;
  /** Fewer points than this and nothing is flagged (default 10). */
  readonly minPoints?: number;
}

export interface CollapseReport {
  /** Accuracy dropped AND entropy spiked after the accuracy peak. */
  readonly collapsed: boolean;
  readonly reason: string;
  readonly accuracyDrop: { readonly flagged: boolean; readonly peak: number; readonly peakStep: number; readonly final: number; readonly drop: number } | null;
  readonly entropySpike: { readonly flagged: boolean; readonly baseline: number; readonly max: number; readonly maxStep: number; readonly ratio: number } | null;
  /** First step after the peak where smoothed accuracy is below peak - minDrop; null if none. */
  readonly onsetStep: number | null;
}

/**
 * Late collapse, as DAPO shows it: smooth accuracy and entropy (trailing mean); find the
 * accuracy peak; flag an accuracy drop when the final smoothed accuracy is at least `minDrop`
 * below the peak; flag an entropy spike when the largest smoothed entropy after the peak is at
 * least `spikeRatio` times the median smoothed entropy up to the peak. Collapse = both.
 */
export function detectCollapse(accuracy: readonly Point[], entropy: readonly Point[], options: CollapseOptions = {}): CollapseReport {
  const minDrop = options.minDrop ?? 0.1;
  const spikeRatio = options.spikeRatio ?? 2;
  const minPoints = options.minPoints ?? 10;
  if (accuracy.length < minPoints) {
    return { collapsed: false, reason: `too few steps (${accuracy.length} < ${minPoints}) to judge`, accuracyDrop: null, entropySpike: null, onsetStep: null };
  }
  const w = options.window ?? smoothingWindow(accuracy.length);
  const acc = smooth(accuracy, w);
  let peakIdx = 0;
  acc.forEach(([, y], i) => {
    if (y > acc[peakIdx][1]) peakIdx = i;
  });
  const [peakStep, peak] = acc[peakIdx];
  const final = acc[acc.length - 1][1];
  const drop = peak - final;
  const accFlag = drop >= minDrop;
  const onset = accFlag ? (acc.slice(peakIdx).find(([, y]) => y < peak - minDrop)?.[0] ?? null) : null;

  let entropySpike: CollapseReport['entropySpike'] = null;
  if (entropy.length >= minPoints) {
    const ent = smooth(entropy, options.window ?? smoothingWindow(entropy.length));
    const before = ent
      .filter(([x]) => x <= peakStep)
      .map(([, y]) => y)
      .sort((a, b) => a - b);
    const after = ent.filter(([x]) => x > peakStep);
    if (before.length && after.length) {
      const baseline = before[Math.floor((before.length - 1) / 2)];
      const [maxStep, max] = after.reduce((best, p) => (p[1] > best[1] ? p : best), after[0]);
      const ratio = baseline > 0 ? max / baseline : max > 0 ? Infinity : 1;
      entropySpike = { flagged: ratio >= spikeRatio, baseline, max, maxStep, ratio };
    }
  }
  const collapsed = accFlag && (entropySpike?.flagged ?? false);
  const pct = (x: number) => `${(100 * x).toFixed(1)}`;
  const reason = collapsed
    ? `accuracy fell ${pct(drop)} points from its peak at step ${peakStep} while entropy rose ${entropySpike!.ratio.toFixed(1)}x`
    : accFlag
      ? `accuracy fell ${pct(drop)} points from its peak at step ${peakStep}, without an entropy spike`
      : entropySpike?.flagged
        ? `entropy rose ${entropySpike.ratio.toFixed(1)}x after step ${peakStep}, but accuracy held`
        : 'no late accuracy drop or entropy spike';
  return { collapsed, reason, accuracyDrop: { flagged: accFlag, peak, peakStep, final, drop }, entropySpike, onsetStep: onset };
}

// ---------------------------------------------------------------------------------------------
// 5. Policy-gradient variance across algorithms

export interface PgVarianceRun {
  readonly algo: string;
  /** pg_var per step (missing/null steps already dropped). */
  readonly pgVar: readonly Point[];
  /** pg_var_uniform per step: the same batch with every token weight 1 (optional, see docs). */
  readonly pgVarUniform?: readonly Point[];
}

export interface PgVarianceSummary {
  readonly algo: string;
  readonly runs: number;
  readonly steps: number;
  /** Geometric mean of pg_var over all steps of all runs of the algorithm (pg_var is a ratio). */
  readonly geoMean: number;
  readonly median: number;
  /** Geometric mean of pg_var / pg_var_uniform over steps that hold both: the paired, same-batch effect of the weights. NaN when absent. */
  readonly pairedRatio: number;
  readonly pairedSteps: number;
}

const geoMean = (xs: readonly number[]) => (xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : NaN);
const median = (xs: readonly number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/** pg_var per algorithm; non-positive values (a zero spread) are left out of the geometric mean. */
export function pgVarianceByAlgo(runs: readonly PgVarianceRun[]): PgVarianceSummary[] {
  const algos = [...new Set(runs.map((r) => r.algo))];
  return algos.map((algo) => {
    const mine = runs.filter((r) => r.algo === algo);
    const values = mine.flatMap((r) => r.pgVar.map(([, y]) => y)).filter((y) => y > 0);
    const ratios: number[] = [];
    for (const r of mine) {
      const uniform = new Map((r.pgVarUniform ?? []).map(([x, y]) => [x, y]));
      for (const [x, y] of r.pgVar) {
        const u = uniform.get(x);
        if (u !== undefined && u > 0 && y > 0) ratios.push(y / u);
      }
    }
    return {
      algo,
      runs: mine.length,
      steps: values.length,
      geoMean: geoMean(values),
      median: median(values),
      pairedRatio: geoMean(ratios),
      pairedSteps: ratios.length,
    };
  });
}

/** geoMean(pg_var of `algo`) / geoMean(pg_var of `baseline`); NaN when either has no data. */
export function pgVarianceRatio(summaries: readonly PgVarianceSummary[], algo = 'pgpo', baseline = 'dapo'): number {
  const a = summaries.find((s) => s.algo === algo);
  const b = summaries.find((s) => s.algo === baseline);
  return a && b ? a.geoMean / b.geoMean : NaN;
}

// ---------------------------------------------------------------------------------------------
// 6. The ladder world: accuracy per rung and the misleading language prior

/** What an eval.json of the ladder world adds (src/eval/evaluate.ts); absent from a classic one. */
export interface LadderEval {
  readonly by_rung?: Readonly<Record<string, { readonly accuracy: number; readonly n: number }>>;
  readonly prior?: { readonly n: number; readonly rate: number };
  readonly prior_by_rung?: Readonly<Record<string, { readonly n: number; readonly rate: number }>>;
}

export interface PriorShare {
  /** Samples of problems whose language prior misleads. */
  readonly n: number;
  /** Share of them that answered the prior. */
  readonly rate: number;
}

export interface LadderSummary {
  /** Rung keys ('rung 3') in numeric order. */
  readonly rungs: string[];
  /** Per rung: the share of correct samples, of all samples; n = problems, summed over the evaluations. */
  readonly accuracy: Record<string, { accuracy: number; n: number }>;
  /** Null when no problem's prior misleads. */
  readonly prior: PriorShare | null;
  readonly priorByRung: Record<string, PriorShare>;
  readonly evaluations: number;
}

/** 'rung 2' before 'rung 10'. */
export const rungOrder = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The n-weighted mean of (value, n) pairs, with the summed n; null when n sums to 0. */
function pooled(parts: ReadonlyArray<{ value: number; n: number }>): { value: number; n: number } | null {
  const n = parts.reduce((a, p) => a + p.n, 0);
  return n > 0 ? { value: parts.reduce((a, p) => a + p.value * p.n, 0) / n, n } : null;
}

/**
 * Several evaluations of one policy (an arm's seeds and sampling seeds) as one, as compare's
 * poolReports does: a rung's accuracy is the mean of the evaluations' weighted by their problems
 * (every evaluation of an arm has the same k, so that is by samples), the prior share weighted by
 * its samples. Null when no evaluation is of the ladder world.
 */
export function ladderSummary(evals: readonly LadderEval[]): LadderSummary | null {
  const laddered = evals.filter((e) => e.by_rung || e.prior);
  if (!laddered.length) return null;
  const rungs = [...new Set(laddered.flatMap((e) => [...Object.keys(e.by_rung ?? {}), ...Object.keys(e.prior_by_rung ?? {})]))].sort(rungOrder);
  const accuracy: LadderSummary['accuracy'] = {};
  const priorByRung: Record<string, PriorShare> = {};
  for (const g of rungs) {
    const acc = pooled(laddered.flatMap((e) => (e.by_rung?.[g] ? [{ value: e.by_rung[g].accuracy, n: e.by_rung[g].n }] : [])));
    if (acc) accuracy[g] = { accuracy: acc.value, n: acc.n };
    const prior = pooled(laddered.flatMap((e) => (e.prior_by_rung?.[g] ? [{ value: e.prior_by_rung[g].rate, n: e.prior_by_rung[g].n }] : [])));
    if (prior) priorByRung[g] = { rate: prior.value, n: prior.n };
  }
  const prior = pooled(laddered.flatMap((e) => (e.prior ? [{ value: e.prior.rate, n: e.prior.n }] : [])));
  return { rungs, accuracy, prior: prior && { rate: prior.value, n: prior.n }, priorByRung, evaluations: laddered.length };
}
