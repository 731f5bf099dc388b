/**
 * Writes datasets in EasyR1's format: parquet with the images embedded as
 * `list<struct<bytes: binary, path: string>>` (what Hugging Face `datasets` writes, so EasyR1
 * and `datasets.load_dataset` read it as an Image feature), or JSONL with one PNG per image in
 * `images/` beside it and relative paths in the rows. Extra string/integer columns ride along.
 */
import { basename, dirname, join } from 'node:path';
import { ensureDir, writeFileAtomic } from './atomic-write.ts';
import { DEFAULT_KEYS, formatOf, type DatasetKeys } from './dataset.ts';
import { encodePng } from './image-codec.ts';
import type { RgbImage } from '../core/image.ts';

export interface WritableRow {
  readonly problem: string;
  readonly answer: string;
  readonly images: readonly RgbImage[];
  /** Extra columns: strings or integers, the same keys on every row. */
  readonly extra?: Readonly<Record<string, string | number>>;
  /** File name stem for JSONL image files (default: the row index). */
  readonly name?: string;
}

/** Writes rows to `file` (.parquet or .jsonl, by extension), atomically. */
export async function writeDataset(file: string, rows: readonly WritableRow[], keys: DatasetKeys = {}): Promise<void> {
  const k = { ...DEFAULT_KEYS, ...keys };
  const extraKeys = Object.keys(rows[0]?.extra ?? {});
  for (const [i, r] of rows.entries()) {
    const ks = Object.keys(r.extra ?? {});
    if (ks.length !== extraKeys.length || ks.some((x) => !extraKeys.includes(x))) throw new Error(`row ${i + 1}: extra columns differ from the first row's`);
  }
  if (formatOf(file) === 'parquet') return writeParquet(file, rows, k, extraKeys);
  const dir = dirname(file);
  const imgDir = join(dir, 'images');
  ensureDir(imgDir);
  const stem = basename(file).replace(/\.[^.]+$/, '');
  const lines: string[] = [];
  for (const [i, r] of rows.entries()) {
    const paths: string[] = [];
    for (const [j, img] of r.images.entries()) {
      const rel = `images/${stem}-${r.name ?? i}${r.images.length > 1 ? `-${j}` : ''}.png`;
      writeFileAtomic(join(dir, rel), await encodePng(img));
      paths.push(rel);
    }
    lines.push(JSON.stringify({ [k.promptKey]: r.problem, [k.answerKey]: r.answer, [k.imageKey]: paths, ...r.extra }) + '\n');
  }
  writeFileAtomic(file, lines.join(''));
}

async function writeParquet(file: string, rows: readonly WritableRow[], k: Required<DatasetKeys>, extraKeys: string[]): Promise<void> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const images: Array<Array<{ bytes: Uint8Array; path: null }>> = [];
  for (const r of rows) images.push(await Promise.all(r.images.map(async (img) => ({ bytes: new Uint8Array(await encodePng(img)), path: null }))));
  const isInt = (key: string) => rows.every((r) => Number.isInteger(r.extra?.[key]));
  const str = (name: string) => ({ name, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'OPTIONAL' as const });
  const schema = [
    { name: 'root', num_children: 3 + extraKeys.length },
    str(k.promptKey),
    str(k.answerKey),
    { name: k.imageKey, repetition_type: 'OPTIONAL' as const, converted_type: 'LIST' as const, num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
    { name: 'element', repetition_type: 'OPTIONAL' as const, num_children: 2 },
    { name: 'bytes', type: 'BYTE_ARRAY' as const, repetition_type: 'OPTIONAL' as const },
    str('path'),
    ...extraKeys.map((key) => (isInt(key) ? { name: key, type: 'INT32' as const, repetition_type: 'OPTIONAL' as const } : str(key))),
  ];
  const columnData = [
    { name: k.promptKey, data: rows.map((r) => r.problem) },
    { name: k.answerKey, data: rows.map((r) => r.answer) },
    { name: k.imageKey, data: images },
    ...extraKeys.map((key) => ({ name: key, data: rows.map((r) => (isInt(key) ? Number(r.extra![key]) : String(r.extra![key]))) })),
  ];
  const buf = parquetWriteBuffer({ columnData, schema } as Parameters<typeof parquetWriteBuffer>[0]);
  writeFileAtomic(file, new Uint8Array(buf));
}
