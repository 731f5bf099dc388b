/**
 * The rollout interchange format (docs/rollouts.md): JSONL, one response a line, so pgpo can
 * reshape and analyse rollouts dumped by any trainer (vLLM, verl, TRL). Parsing validates every
 * line and reports the first problem as `line N, field F: what is wrong`; extra fields are kept.
 */
import { z } from 'zod';
import type { RolloutRecord } from '../algo/pgpo.ts';

export class RolloutFormatError extends Error {
  constructor(
    readonly line: number,
    readonly field: string | null,
    detail: string,
    readonly source = '',
  ) {
    super(`${source ? `${source}: ` : ''}line ${line}${field ? `, field ${field}` : ''}: ${detail}`);
    this.name = 'RolloutFormatError';
  }
}

const finite = z.number({ error: (iss) => (iss.input === undefined ? 'missing' : `expected a finite number, got ${describe(iss.input)}`) });
const tokenArray = z.array(finite, { error: (iss) => `expected an array of numbers, got ${describe(iss.input)}` });

const lineSchema = z.looseObject({
  group: z.union([z.string(), z.number()], { error: (iss) => (iss.input === undefined ? 'missing' : `expected a string or a number, got ${describe(iss.input)}`) }),
  reward: finite,
  logp_image: tokenArray.optional(),
  logp_text: tokenArray.optional(),
  dependency: tokenArray.optional(),
});

export type RolloutLine = z.infer<typeof lineSchema>;

function describe(v: unknown): string {
  if (typeof v === 'string' && v.startsWith(NONFINITE)) return v.slice(NONFINITE.length);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : String(v);
}

/** Python's json.dumps writes NaN/Infinity bare; we parse them only to name them in the error. */
const NONFINITE = '__pgpo_nonfinite__:';
function parseLenient(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const marked = text.replace(/([:[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, (_m, pre: string, tok: string) => `${pre}"${NONFINITE}${tok}"`);
    if (marked === text) throw err;
    return JSON.parse(marked);
  }
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/**
 * Magnitudes past which the reshaping arithmetic overflows: a group's variance squares reward
 * differences (|r| 1e308 gave advantage 0, silently), k2 squares log-prob differences, and
 * min-max takes differences of dependencies. Real values are far inside.
 */
export const VALUE_LIMIT = 1e150;

/** The text of a rollout file: UTF-8, or an error naming the first line that is not (group ids would otherwise decode to U+FFFD and merge). */
export function decodeRollouts(bytes: Uint8Array, source = ''): string {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  try {
    return fatal.decode(bytes);
  } catch {
    let start = 0;
    for (let line = 1; ; line++) {
      const nl = bytes.indexOf(0x0a, start);
      const end = nl < 0 ? bytes.length : nl;
      try {
        fatal.decode(bytes.subarray(start, end));
      } catch {
        throw new RolloutFormatError(
          line,
          null,
          'not valid UTF-8: group ids and fields are compared as text, and invalid bytes would all read as U+FFFD (distinct groups merging); write the file as UTF-8',
          source,
        );
      }
      if (nl < 0) throw new RolloutFormatError(line, null, 'not valid UTF-8', source);
      start = nl + 1;
    }
  }
}

/** The first value of a line beyond VALUE_LIMIT: [field, detail], or null. */
function outOfRange(line: RolloutLine): [string, string] | null {
  if (Math.abs(line.reward) > VALUE_LIMIT) return ['reward', `${line.reward} is beyond ±${VALUE_LIMIT}, where a group's mean and variance overflow; rescale the rewards`];
  for (const field of ['logp_image', 'logp_text', 'dependency'] as const) {
    const row = line[field];
    const t = row ? row.findIndex((x) => Math.abs(x) > VALUE_LIMIT) : -1;
    if (row && t >= 0) return [`${field}[${t}]`, `${row[t]} is beyond ±${VALUE_LIMIT}, where the dependency arithmetic overflows`];
  }
  return null;
}

export interface ParsedRollouts {
  /** The original objects, extra fields included, in file order. */
  readonly lines: RolloutLine[];
  /** The same as algorithm inputs. */
  readonly records: RolloutRecord[];
  /** 1-based line number in the file of each record (blank lines are skipped). */
  readonly lineNumbers: number[];
}

/** Parses a whole JSONL text; throws RolloutFormatError on the first bad line. */
export function parseRollouts(text: string, source = ''): ParsedRollouts {
  const lines: RolloutLine[] = [];
  const records: RolloutRecord[] = [];
  const lineNumbers: number[] = [];
  const raw = text.split('\n');
  for (let k = 0; k < raw.length; k++) {
    const lineNo = k + 1;
    const s = raw[k].trim();
    if (s === '') continue;
    let value: unknown;
    try {
      value = parseLenient(s);
    } catch (err) {
      throw new RolloutFormatError(lineNo, null, `invalid JSON (${(err as Error).message})`, source);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new RolloutFormatError(lineNo, null, `expected a JSON object, got ${describe(value)}`, source);
    }
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RolloutFormatError(lineNo, fieldPath(issue.path), issue.message, source);
    }
    const line = parsed.data;
    const hasDep = line.dependency !== undefined;
    const hasImage = line.logp_image !== undefined;
    const hasText = line.logp_text !== undefined;
    if (!hasDep && !(hasImage && hasText)) {
      const missing = hasImage ? 'logp_text' : hasText ? 'logp_image' : 'dependency';
      throw new RolloutFormatError(
        lineNo,
        missing,
        hasImage || hasText ? 'missing (logp_image and logp_text go together)' : 'missing: give "dependency", or both "logp_image" and "logp_text"',
        source,
      );
    }
    if (hasImage && hasText && line.logp_image!.length !== line.logp_text!.length) {
      throw new RolloutFormatError(lineNo, 'logp_text', `has ${line.logp_text!.length} tokens but logp_image has ${line.logp_image!.length}`, source);
    }
    if (hasDep && hasImage && line.dependency!.length !== line.logp_image!.length) {
      throw new RolloutFormatError(lineNo, 'dependency', `has ${line.dependency!.length} tokens but logp_image has ${line.logp_image!.length}`, source);
    }
    for (const field of ['logp_image', 'logp_text'] as const) {
      const row = line[field];
      // a log-probability is <= 0; 1e-6 of slack absorbs float32 rounding near log(1)
      const t = row ? row.findIndex((x) => x > 1e-6) : -1;
      if (row && t >= 0) throw new RolloutFormatError(lineNo, `${field}[${t}]`, `a log-probability must be <= 0, got ${row[t]}`, source);
    }
    const range = outOfRange(line);
    if (range) throw new RolloutFormatError(lineNo, range[0], range[1], source);
    const length = hasDep ? line.dependency!.length : line.logp_image!.length;
    if (length === 0) throw new RolloutFormatError(lineNo, hasDep ? 'dependency' : 'logp_image', 'empty: a response needs at least one token', source);
    lines.push(line);
    lineNumbers.push(lineNo);
    // with both log-prob arrays, dependency is an output, recomputed (a reshaped file read again
    // would otherwise keep the old one, whatever --estimator says now)
    const dependency = hasImage && hasText ? undefined : line.dependency;
    records.push({ group: line.group, reward: line.reward, dependency, logpImage: line.logp_image, logpText: line.logp_text });
  }
  return { lines, records, lineNumbers };
}

export interface ReshapedFields {
  readonly advantage: number;
  readonly dependency: ArrayLike<number>;
  readonly weights: ArrayLike<number>;
  readonly tokenAdvantages: ArrayLike<number>;
}

/** One output line: the input object with the reshaping fields added (full double precision). */
export function formatReshapedLine(line: RolloutLine, fields: ReshapedFields): string {
  return JSON.stringify({
    ...line,
    advantage: fields.advantage,
    dependency: Array.from(fields.dependency),
    weights: Array.from(fields.weights),
    token_advantages: Array.from(fields.tokenAdvantages),
  });
}
