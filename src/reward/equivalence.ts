/**
 * Answer equivalence: is a predicted answer the gold one? Cheapest test first — identical
 * strings, then normalised strings, then plain numbers (integers, decimals, fractions) within
 * a tolerance, multiple-choice letters, words, tuples element by element — and only when both
 * sides are LaTeX expressions does it ask @cortex-js/compute-engine. The engine is loaded
 * lazily and synchronously on first use, so the common case never pays for it.
 */
import { createRequire } from 'node:module';
import { isChoiceLetter } from './extract.ts';
import { normalizeAnswer, normalizeWords, parseNumber } from './normalize.ts';

export interface EquivalenceOptions {
  /** Relative tolerance for numbers (default 1e-6): |p - g| <= relTol * max(|p|, |g|). */
  readonly relTol?: number;
  /** Absolute tolerance for numbers near zero (default 1e-9). */
  readonly absTol?: number;
  /** Use the compute engine for LaTeX expressions (default true). */
  readonly symbolic?: boolean;
}

const DEFAULT_REL_TOL = 1e-6;
const DEFAULT_ABS_TOL = 1e-9;
/** Longer expressions are not sent to the compute engine: bounded cost per rollout. */
const MAX_SYMBOLIC_LENGTH = 120;

export function numbersClose(a: number, b: number, opts: EquivalenceOptions = {}): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const diff = Math.abs(a - b);
  return diff <= (opts.absTol ?? DEFAULT_ABS_TOL) || diff <= (opts.relTol ?? DEFAULT_REL_TOL) * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * The letter a multiple-choice prediction picks: `B`, `(B)`, `B:65`, `B. 65`, `\text{B}`, `b`.
 * Null when the prediction does not start with a choice letter.
 */
export function choiceOf(pred: string): string | null {
  const s = normalizeWords(pred).toUpperCase();
  const m = /^\(?([A-F])(?:\)|[:.]|\s|$)/.exec(s);
  return m ? m[1] : null;
}

const WORDS = /^[A-Za-z][A-Za-z ]*$/;

/** Does an answer equal the gold answer? Symmetric except for multiple-choice letters. */
export function isEquivalent(pred: string, gold: string, opts: EquivalenceOptions = {}): boolean {
  // an empty answer states nothing, so it matches nothing, not even an empty gold answer
  if (pred === gold) return normalizeAnswer(pred) !== '';
  const g0 = gold.trim();
  if (isChoiceLetter(g0)) return choiceOf(pred) === g0;
  const p = normalizeAnswer(pred);
  const g = normalizeAnswer(gold);
  if (p === '' || g === '') return false;
  if (p === g) return true;
  const pn = parseNumber(p);
  const gn = parseNumber(g);
  if (pn !== null && gn !== null) return numbersClose(pn, gn, opts);
  if (WORDS.test(p) || WORDS.test(g)) return normalizeWords(pred) === normalizeWords(gold);
  const tuple = tupleParts(p, g);
  if (tuple) return tuple[0].every((x, i) => isEquivalent(x, tuple[1][i], opts));
  if (opts.symbolic === false || !mathLike(p) || !mathLike(g)) return false;
  return symbolicEqual(p, g, opts);
}

/** Both sides as the same kind of bracketed, comma-separated list of equal length, or null. */
function tupleParts(p: string, g: string): [string[], string[]] | null {
  const open = p[0];
  if (!'([{'.includes(open) || g[0] !== open || p[p.length - 1] !== g[g.length - 1]) return null;
  const ps = splitTopLevel(p.slice(1, -1));
  const gs = splitTopLevel(g.slice(1, -1));
  if (ps.length < 2 || ps.length !== gs.length) return null;
  return [ps, gs];
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/**
 * Worth parsing as mathematics: short, and no run of two or more letters outside a LaTeX
 * command — otherwise "red" and "der" would both parse as r*e*d and compare equal.
 */
function mathLike(s: string): boolean {
  return s.length <= MAX_SYMBOLIC_LENGTH && !/[A-Za-z]{2,}/.test(s.replace(/\\[A-Za-z]+/g, ' ')) && cheapToEvaluate(s);
}

/**
 * Keeps the compute engine away from what a policy can write to stall a training step:
 * big operators (a sum to 10^6 takes seconds), factorials, power towers (9^9^9^9 takes
 * minutes) and huge exponents. No gold answer of ours needs them.
 */
function cheapToEvaluate(s: string): boolean {
  if (/\\(?:sum|prod|int|iint|oint|lim|binom|choose)(?![A-Za-z])|!/.test(s)) return false;
  for (let i = s.indexOf('^'); i >= 0; i = s.indexOf('^', i + 1)) {
    let j = i + 1;
    while (s[j] === ' ') j++;
    let exponent: string;
    if (s[j] === '{') {
      let depth = 0;
      let k = j;
      for (; k < s.length; k++) {
        if (s[k] === '{') depth++;
        else if (s[k] === '}' && --depth === 0) break;
      }
      exponent = s.slice(j + 1, k);
    } else exponent = s[j] ?? '';
    if (exponent.includes('^') || /\d{3,}/.test(exponent)) return false;
  }
  return true;
}

type ComputeEngineModule = typeof import('@cortex-js/compute-engine');
type Engine = InstanceType<ComputeEngineModule['ComputeEngine']>;
let engine: Engine | undefined;

function getEngine(): Engine {
  if (!engine) {
    // `require` of the package's CommonJS build: synchronous, so `isEquivalent` stays a plain
    // function, and paid for only when an answer needs it.
    const mod = createRequire(import.meta.url)('@cortex-js/compute-engine') as ComputeEngineModule;
    engine = new mod.ComputeEngine();
  }
  return engine;
}

/** Points at which expressions in variables are compared: irrational-ish, so coincidences are rare. */
const PROBE_POINTS = [0.7341, -1.2917, 2.3183];

function symbolicEqual(p: string, g: string, opts: EquivalenceOptions): boolean {
  try {
    const ce = getEngine();
    const a = ce.parse(p);
    const b = ce.parse(g);
    if (!a || !b || !a.isValid || !b.isValid) return false;
    if (a.isSame(b)) return true;
    const vars = [...new Set([...a.unknowns, ...b.unknowns])];
    if (vars.length === 0) return valuesClose(a.N(), b.N(), opts);
    // Expressions in variables: equal if equal at a few probe points. Symbolic expansion would
    // decide more cases exactly, but (x+y+z+w)^8 takes seconds; evaluation takes microseconds.
    if (a.unknowns.length !== b.unknowns.length || a.unknowns.some((v) => !b.unknowns.includes(v))) return false;
    return PROBE_POINTS.every((x0, k) => {
      const sub = Object.fromEntries(vars.map((v, i) => [v, ce.number(x0 + 0.1 * i * (k + 1))]));
      return valuesClose(a.subs(sub).N(), b.subs(sub).N(), opts);
    });
  } catch {
    return false;
  }
}

type Boxed = NonNullable<ReturnType<Engine['parse']>>;

function valuesClose(a: Boxed, b: Boxed, opts: EquivalenceOptions): boolean {
  const [ar, ai, br, bi] = [a.re, a.im, b.re, b.im];
  if (![ar, ai, br, bi].every((x) => typeof x === 'number' && !Number.isNaN(x))) return a.isSame(b);
  return numbersClose(ar, br, opts) && numbersClose(ai, bi, opts);
}
