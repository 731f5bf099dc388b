/**
 * The policy's tokenizer: four specials, every printable ASCII character (and newline) as its own
 * token, and a list of multi-character pieces (house-format tags, common words) matched greedily
 * longest-first so prompts and responses stay short. Digits are never merged, so numbers are read
 * and written one digit at a time. The vocabulary list is saved with checkpoints; `fromVocab`
 * rebuilds exactly the tokenizer a checkpoint was trained with.
 */

import { IMAGE_MARKER } from '../core/image.ts';

export const SPECIALS = ['<pad>', '<bos>', '<eos>', '<image>'] as const;
export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const IMAGE = 3;

/** Newline then the 95 printable ASCII characters, space to tilde. */
export const CHARS: readonly string[] = ['\n', ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))];

/**
 * Default pieces: the house answer format and words frequent in the synthetic visual problems.
 * Leading-space variants make running text about one token per word.
 */
export const DEFAULT_PIECES: readonly string[] = [
  '<think>',
  '</think>',
  '\\boxed{',
  '</think> \\boxed{',
  'What',
  'How many',
  'Which',
  'Find',
  'the',
  'The',
  'is',
  'of',
  'are',
  'in',
  'and',
  ' the',
  ' is',
  ' of',
  ' are',
  ' in',
  ' and',
  ' to',
  ' a',
  ' an',
  ' with',
  ' what',
  ' how',
  ' angle',
  ' triangle',
  ' length',
  ' side',
  ' value',
  ' bar',
  ' chart',
  ' shapes',
  ' shape',
  ' there',
  ' image',
  ' figure',
  ' option',
  ' answer',
  ' total',
  ' sum',
  ' degrees',
  ' red',
  ' blue',
  ' green',
  ' yellow',
  ' circles',
  ' squares',
  ' triangles',
  ' tallest',
  ' shortest',
  ' largest',
  ' smallest',
  ' many',
  ' Answer',
  ' correct',
  ' missing',
  '? ',
  '. ',
  ', ',
];

export class Tokenizer {
  /** id -> string; ids 0..3 are the specials. */
  readonly vocab: readonly string[];
  private readonly ids = new Map<string, number>();
  /** Pieces longer than one character, longest first, bucketed by first character. */
  private readonly byFirst = new Map<string, string[]>();

  private constructor(vocab: readonly string[]) {
    for (let i = 0; i < SPECIALS.length; i++) {
      if (vocab[i] !== SPECIALS[i]) throw new Error(`tokenizer vocabulary must start with ${SPECIALS.join(' ')}; id ${i} is ${JSON.stringify(vocab[i])}`);
    }
    for (const c of CHARS) if (!vocab.includes(c)) throw new Error(`tokenizer vocabulary lacks the character ${JSON.stringify(c)}`);
    this.vocab = [...vocab];
    vocab.forEach((s, i) => {
      if (i < SPECIALS.length) return;
      if (s.length === 0) throw new Error(`tokenizer vocabulary entry ${i} is empty`);
      if (this.ids.has(s)) throw new Error(`tokenizer vocabulary has ${JSON.stringify(s)} twice`);
      this.ids.set(s, i);
      if (s.length > 1) {
        const list = this.byFirst.get(s[0]) ?? [];
        list.push(s);
        this.byFirst.set(s[0], list);
      }
    });
    for (const list of this.byFirst.values()) list.sort((a, b) => b.length - a.length);
  }

  /** Specials, then the characters, then the pieces (duplicates and single characters dropped). */
  static fromPieces(pieces: readonly string[]): Tokenizer {
    const extra = [...new Set(pieces)].filter((p) => p.length > 1);
    return new Tokenizer([...SPECIALS, ...CHARS, ...extra]);
  }

  /** The tokenizer a checkpoint was saved with. */
  static fromVocab(vocab: readonly string[]): Tokenizer {
    return new Tokenizer(vocab);
  }

  get size(): number {
    return this.vocab.length;
  }

  /**
   * Problem text -> [bos, ...tokens]. The `<image>` marker (and whitespace right after it) is
   * dropped: the image's tokens always come first in the sequence, before bos, whatever the
   * marker's place in the text.
   */
  encodePrompt(problem: string): number[] {
    const text = problem
      .split(IMAGE_MARKER)
      .map((part, i) => (i > 0 ? part.replace(/^[ \t]*\n?/, '') : part))
      .join('');
    return [BOS, ...this.encode(text)];
  }

  /** Text to ids (no bos/eos added). Characters outside printable ASCII are an error. */
  encode(text: string): number[] {
    const out: number[] = [];
    let i = 0;
    outer: while (i < text.length) {
      const cands = this.byFirst.get(text[i]);
      if (cands) {
        for (const p of cands) {
          if (text.startsWith(p, i)) {
            out.push(this.ids.get(p)!);
            i += p.length;
            continue outer;
          }
        }
      }
      const id = this.ids.get(text[i]);
      if (id === undefined) {
        throw new Error(
          `tokenizer: character ${JSON.stringify(text[i])} (U+${text.charCodeAt(i).toString(16).padStart(4, '0')}) at offset ${i} is not in the vocabulary (printable ASCII and newline only)`,
        );
      }
      out.push(id);
      i++;
    }
    return out;
  }

  /** Ids to text; specials are dropped. */
  decode(ids: readonly number[]): string {
    let s = '';
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocab.length) throw new Error(`tokenizer: id ${id} is outside the vocabulary (size ${this.vocab.length})`);
      if (id >= SPECIALS.length) s += this.vocab[id];
    }
    return s;
  }
}
