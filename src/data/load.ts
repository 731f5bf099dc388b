/**
 * The trainer's loader for EasyR1-format datasets: read and validate every row, decode each
 * row's one image to the model's square RgbImage. The model takes one image per problem, so a
 * row with more (or none) is an error naming the file, row and field.
 */
import { DatasetError, readDataset, type DatasetKeys } from './dataset.ts';
import { decodeImage } from './image-codec.ts';
import type { RgbImage } from '../core/image.ts';

export interface LoadOptions extends DatasetKeys {
  /** Side of the square image the model takes (default 48). */
  readonly imageSize?: number;
  /** The folder image paths must resolve inside (`data.image_root`); null or absent: the data file's folder. */
  readonly imageRoot?: string | null;
}

export interface LoadedExample {
  readonly problem: string;
  readonly answer: string;
  readonly image: RgbImage;
  readonly family?: string;
  readonly variant?: string;
  /** The problem behind the row (pgpo's generated sets): its variants share it. */
  readonly problemKey?: string;
  /** A gold response, when the dataset has a `solution` column (pgpo's generated sets do). */
  readonly solution?: string;
}

export const DEFAULT_LOAD_IMAGE_SIZE = 48;

export async function loadDataset(path: string, opts: LoadOptions = {}): Promise<LoadedExample[]> {
  const size = opts.imageSize ?? DEFAULT_LOAD_IMAGE_SIZE;
  const rows = await readDataset(path, opts, opts.imageRoot ?? null);
  const imageKey = opts.imageKey ?? 'images';
  const out: LoadedExample[] = [];
  for (const r of rows) {
    if (r.images.length !== 1) throw new DatasetError(path, r.row, imageKey, `the model takes exactly one image per problem, got ${r.images.length}`);
    let image: RgbImage;
    try {
      image = await decodeImage(r.images[0], size);
    } catch (err) {
      const src = r.images[0];
      throw new DatasetError(path, r.row, `${imageKey}[0]`, `unreadable image${src.kind === 'path' ? ` ${src.path}` : ''}: ${(err as Error).message}`);
    }
    const str = (key: string) => (typeof r.fields[key] === 'string' ? (r.fields[key] as string) : undefined);
    const family = str('family');
    const variant = str('variant');
    const solution = str('solution');
    const problemKey = str('problem_key');
    out.push({ problem: r.problem, answer: r.answer, image, ...(family && { family }), ...(variant && { variant }), ...(solution && { solution }), ...(problemKey && { problemKey }) });
  }
  return out;
}
