/**
 * Datasets in EasyR1's format: rows with a problem (with one `<image>` marker per image), an
 * answer and a list of images, in parquet (as Hugging Face writes it: images as
 * `list<struct<bytes, path>>`) or JSONL next to image files. Images may be a path (relative to
 * the data file), bytes, or `{bytes}` / `{path}`; keys are configurable. Reading validates
 * every row and stops at the first bad one, naming the file, the row and the field.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { IMAGE_MARKER } from '../core/image.ts';

export class DatasetError extends Error {
  constructor(
    readonly file: string,
    /** 1-based row (for JSONL, the line number). */
    readonly row: number | null,
    readonly field: string | null,
    detail: string,
  ) {
    super(`${file}${row === null ? '' : `: row ${row}`}${field ? `, field ${field}` : ''}: ${detail}`);
    this.name = 'DatasetError';
  }
}

export type DatasetFormat = 'parquet' | 'jsonl';

export interface DatasetKeys {
  /** Column with the problem text (EasyR1's `data.prompt_key`, default `problem`). */
  readonly promptKey?: string;
  /** Column with the gold answer (`data.answer_key`, default `answer`). */
  readonly answerKey?: string;
  /** Column with the images (`data.image_key`, default `images`). */
  readonly imageKey?: string;
}

export const DEFAULT_KEYS = { promptKey: 'problem', answerKey: 'answer', imageKey: 'images' } as const satisfies Required<DatasetKeys>;

/** Where an image's encoded bytes are: in the file, or in a file beside it. */
export type ImageSource = { readonly kind: 'bytes'; readonly bytes: Uint8Array } | { readonly kind: 'path'; readonly path: string; /** the folder it must resolve inside */ readonly root: string };

export interface DatasetRow {
  /** 1-based row in the file (JSONL: line number). */
  readonly row: number;
  readonly problem: string;
  readonly answer: string;
  readonly images: readonly ImageSource[];
  /** Every column, as read (the trainer may want `solution`, `family`, `variant`, …). */
  readonly fields: Readonly<Record<string, unknown>>;
}

export function formatOf(file: string): DatasetFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.parquet') return 'parquet';
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson') return 'jsonl';
  throw new DatasetError(file, null, null, `unknown dataset format "${ext}" (expected .parquet or .jsonl)`);
}

export function countMarkers(text: string): number {
  let n = 0;
  for (let i = text.indexOf(IMAGE_MARKER); i >= 0; i = text.indexOf(IMAGE_MARKER, i + IMAGE_MARKER.length)) n++;
  return n;
}

/** Raw records of a file, each with its 1-based row number. */
async function readRecords(file: string): Promise<Array<{ row: number; record: unknown }>> {
  const format = formatOf(file);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new DatasetError(file, null, null, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (format === 'parquet') {
    const { parquetReadObjects } = await import('hyparquet');
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    let rows: Array<Record<string, unknown>>;
    try {
      // utf8: false keeps binary columns (image bytes) as bytes; string columns stay strings.
      rows = await parquetReadObjects({ file: ab, utf8: false });
    } catch (err) {
      throw new DatasetError(file, null, null, `not a readable parquet file: ${(err as Error).message}`);
    }
    return rows.map((record, i) => ({ row: i + 1, record }));
  }
  const out: Array<{ row: number; record: unknown }> = [];
  const lines = buf.toString('utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push({ row: i + 1, record: JSON.parse(line) });
    } catch (err) {
      throw new DatasetError(file, i + 1, null, `not valid JSON: ${(err as Error).message}`);
    }
  });
  return out;
}

function imageSources(file: string, row: number, field: string, value: unknown, imageRoot: string | null): ImageSource[] {
  const list = Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
  const base = dirname(resolve(file));
  const root = imageRoot === null ? base : resolve(imageRoot);
  return list.map((v, i) => {
    const where = `${field}[${i}]`;
    const asPath = (p: string): ImageSource => ({ kind: 'path', path: isAbsolute(p) ? p : join(base, p), root });
    if (typeof v === 'string') {
      if (v === '') throw new DatasetError(file, row, where, 'empty image path');
      return asPath(v);
    }
    if (v instanceof Uint8Array) return { kind: 'bytes', bytes: v };
    if (Array.isArray(v)) {
      const bytes = decodeBytes(v);
      if (bytes) return { kind: 'bytes', bytes };
      throw new DatasetError(file, row, where, 'expected image bytes (integers 0-255)');
    }
    if (v !== null && typeof v === 'object') {
      const o = v as { bytes?: unknown; path?: unknown };
      const bytes = decodeBytes(o.bytes);
      if (bytes) return { kind: 'bytes', bytes };
      if (typeof o.path === 'string' && o.path !== '') return asPath(o.path);
      throw new DatasetError(file, row, where, 'an image object needs bytes or a path');
    }
    throw new DatasetError(file, row, where, `expected an image path, bytes or {bytes}, got ${v === null ? 'null' : typeof v}`);
  });
}

/** Bytes as stored: binary (parquet), base64 text or a number array (JSONL). */
function decodeBytes(v: unknown): Uint8Array | null {
  if (v instanceof Uint8Array) return v.length ? v : null;
  if (typeof v === 'string' && v.length) return new Uint8Array(Buffer.from(v, 'base64'));
  if (Array.isArray(v) && v.length && v.every((x) => Number.isInteger(x) && x >= 0 && x < 256)) return Uint8Array.from(v as number[]);
  return null;
}

/**
 * Reads and validates every row: the problem and answer are strings (a numeric answer is
 * accepted and written as text), and the problem has exactly one `<image>` marker per image.
 * Images are located, not decoded (see `decodeImage`); image paths must resolve inside
 * `imageRoot` when read (null: the data file's folder).
 */
export async function readDataset(file: string, keys: DatasetKeys = {}, imageRoot: string | null = null): Promise<DatasetRow[]> {
  const k = { ...DEFAULT_KEYS, ...keys };
  const records = await readRecords(file);
  return records.map(({ row, record }) => {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) throw new DatasetError(file, row, null, 'expected an object');
    const r = record as Record<string, unknown>;
    const problem = r[k.promptKey];
    if (problem === undefined || problem === null) throw new DatasetError(file, row, k.promptKey, 'missing');
    if (typeof problem !== 'string') throw new DatasetError(file, row, k.promptKey, `expected a string, got ${typeof problem}`);
    let answer = r[k.answerKey];
    if (answer === undefined || answer === null) throw new DatasetError(file, row, k.answerKey, 'missing');
    if (typeof answer === 'number' || typeof answer === 'bigint') answer = String(answer);
    if (typeof answer !== 'string') throw new DatasetError(file, row, k.answerKey, `expected a string, got ${typeof answer}`);
    if (!(k.imageKey in r)) throw new DatasetError(file, row, k.imageKey, 'missing');
    const images = imageSources(file, row, k.imageKey, r[k.imageKey], imageRoot);
    const markers = countMarkers(problem);
    if (images.length > markers) {
      throw new DatasetError(file, row, k.imageKey, `${images.length} image(s) but the ${k.promptKey} has ${markers} ${IMAGE_MARKER} marker(s)`);
    }
    if (images.length < markers) {
      throw new DatasetError(file, row, k.promptKey, `${markers} ${IMAGE_MARKER} marker(s) but only ${images.length} image(s) in ${k.imageKey}`);
    }
    return { row, problem, answer, images, fields: r };
  });
}
