/**
 * Answer normalisation in the spirit of mathruler's `grade_answer`: strip what changes how an
 * answer looks but not what it says — `$`, `\text{}`, `\left`/`\right`, spacing commands,
 * `\dfrac`, units, degrees, `%`, thousands commas, a leading `x =` — and parse the plain
 * numbers that most answers are. Pure string functions, fast enough to run on every rollout.
 */

/** Text-style commands whose argument is kept and the command dropped. */
const TEXT_COMMANDS = ['\\text', '\\textbf', '\\textit', '\\textrm', '\\mathrm', '\\mathbf', '\\mbox', '\\operatorname'];

const UNIT_WORDS =
  'units?|cm|mm|km|m|meters?|metres?|inch(?:es)?|in|feet|foot|ft|yards?|yd|miles?|mi|kg|g|grams?|kilograms?|' +
  'seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h|days?|weeks?|years?|degrees?|deg|dollars?|cents?|pounds?|lbs?|' +
  'liters?|litres?|l|ml|mph|people|persons?|apples?|fruits?|items?|objects?|shapes?|dots?|points?|bars?';
/** A trailing unit, optionally squared/cubed, after something that ends in a digit or `}`. */
const TRAILING_UNIT = new RegExp(`^(.*?[0-9}])\\s*(?:(?:square|sq\\.?|cubic)\\s+)?(?:${UNIT_WORDS})(?:\\^\\{?[23]\\}?)?\\.?$`, 'i');
/** `x =`, `y_1 =`, `k=`: a short name and an equals sign before the value. */
const LEADING_NAME = /^[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?\s*=\s*(?=\S)/;
const THOUSANDS = /^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;

/** Replaces `\cmd{arg}` by `arg` for every text-style command (nested ones too). */
function unwrapTextCommands(s: string): string {
  for (const cmd of TEXT_COMMANDS) {
    let at = s.indexOf(cmd + '{');
    while (at >= 0) {
      const open = at + cmd.length;
      let depth = 0;
      let close = -1;
      for (let i = open; i < s.length; i++) {
        if (s[i] === '{') depth++;
        else if (s[i] === '}' && --depth === 0) {
          close = i;
          break;
        }
      }
      if (close < 0) break;
      s = s.slice(0, at) + s.slice(open + 1, close) + s.slice(close + 1);
      at = s.indexOf(cmd + '{', at);
    }
  }
  return s;
}

/** `\frac12` -> `\frac{1}{2}`, `\frac1{b}` -> `\frac{1}{b}`, `\sqrt2` -> `\sqrt{2}` (mathruler's fixes). */
function fixShorthand(s: string): string {
  return s
    .replace(/\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])/g, '\\frac{$1}{$2}')
    .replace(/\\frac\s*([0-9a-zA-Z])\s*\{/g, '\\frac{$1}{')
    .replace(/\\frac\s*(\{[^{}]*\})\s*([0-9a-zA-Z])/g, '\\frac$1{$2}')
    .replace(/\\sqrt\s*([0-9a-zA-Z])/g, '\\sqrt{$1}');
}

/**
 * The canonical written form of an answer: equal strings after this are equal answers. Spaces
 * are removed (as mathruler does), so compare words with `normalizeWords` instead.
 */
export function normalizeAnswer(raw: string): string {
  let s = raw.trim();
  if (s === '') return s;
  s = unwrapTextCommands(s);
  s = s
    .replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![a-zA-Z])/g, '')
    .replace(/\\[dt]frac/g, '\\frac')
    .replace(/\\(?:[!,;: ]|quad|qquad)/g, ' ')
    .replace(/~/g, ' ')
    .replace(/\\\$|\$/g, '')
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree|°/g, '')
    .replace(/\\%|%/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  // Units and a leading name come off before spaces do: "5 cm", "x = 3".
  const unit = TRAILING_UNIT.exec(s);
  if (unit) s = unit[1].trim();
  if (LEADING_NAME.test(s) && s.indexOf('=') === s.lastIndexOf('=')) s = s.replace(LEADING_NAME, '');
  s = s.replace(/\.$/, '').trim();
  if (THOUSANDS.test(s)) s = s.replace(/,/g, '');
  s = fixShorthand(s).replace(/\s+/g, '');
  return s;
}

/** Lower-case words separated by single spaces, `\text{}` and punctuation at the ends dropped. */
export function normalizeWords(raw: string): string {
  return unwrapTextCommands(raw)
    .replace(/\$/g, '')
    .trim()
    .replace(/^[("']+|[)."'!]+$/g, '')
    .replace(/\s+/g, ' ')
    .toLowerCase();
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const SLASH_FRACTION = /^([+-]?(?:\d+\.?\d*|\.\d+))\/([+-]?(?:\d+\.?\d*|\.\d+))$/;
const LATEX_FRACTION = /^([+-]?)\\frac\{([+-]?(?:\d+\.?\d*|\.\d+))\}\{([+-]?(?:\d+\.?\d*|\.\d+))\}$/;

/**
 * The value of a normalised plain number — integer, decimal, scientific, `a/b` or
 * `\frac{a}{b}` — or null for anything else (expressions go to the symbolic path).
 */
export function parseNumber(s: string): number | null {
  if (DECIMAL.test(s)) return Number(s);
  let m = SLASH_FRACTION.exec(s);
  if (m) {
    const den = Number(m[2]);
    return den === 0 ? null : Number(m[1]) / den;
  }
  m = LATEX_FRACTION.exec(s);
  if (m) {
    const den = Number(m[3]);
    if (den === 0) return null;
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) / den);
  }
  return null;
}
