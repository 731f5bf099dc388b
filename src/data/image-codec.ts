/**
 * Image files <-> RgbImage with sharp: decode any format sharp reads (PNG, JPEG, WebP, …),
 * drop alpha (composited on white), and resize to the model's square input; encode RgbImage as
 * PNG for dataset files. An image already at the target size is passed through untouched, so
 * the generator's pixel-exact images reach the model bit for bit.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import sharp from 'sharp';
import type { ImageSource } from './dataset.ts';
import { makeRgbImage, type RgbImage } from '../core/image.ts';

// Two cores are shared by everything in a run; libvips must not take them all for itself.
sharp.concurrency(1);

export interface ImageInfo {
  readonly width: number;
  readonly height: number;
  readonly format: string;
}

/** Largest image file read (checked before reading: `/dev/zero` would otherwise fill memory). */
export const MAX_IMAGE_FILE_BYTES = 64 * 2 ** 20;

/**
 * An image file's bytes, if it is a regular file of at most MAX_IMAGE_FILE_BYTES whose real path
 * (symlinks resolved) lies inside `root`: a dataset's paths are data, and may name anything.
 */
export async function readImageFile(path: string, root: string): Promise<Uint8Array> {
  const real = await realpath(path);
  const realRoot = await realpath(root);
  const rel = relative(realRoot, real);
  if (rel.startsWith('..') || isAbsolute(rel))
    throw new Error(`${path} is outside ${root}; image paths resolve inside the dataset's folder (data.image_root names another, e.g. data.image_root=/ for any)`);
  const st = await stat(real);
  if (!st.isFile()) throw new Error(`${path} is not a regular file`);
  if (st.size > MAX_IMAGE_FILE_BYTES) throw new Error(`${path} is ${st.size} bytes, over the ${MAX_IMAGE_FILE_BYTES}-byte limit for an image`);
  return readFile(real);
}

async function bytesOf(src: ImageSource): Promise<Uint8Array> {
  return src.kind === 'bytes' ? src.bytes : readImageFile(src.path, src.root);
}

/** Encoded image -> RgbImage; `size` resizes to size x size (aspect ratio not kept, as EasyR1's square resize). */
export async function decodeImage(src: ImageSource | Uint8Array, size?: number): Promise<RgbImage> {
  const bytes = src instanceof Uint8Array ? src : await bytesOf(src);
  let img = sharp(bytes).flatten({ background: '#ffffff' }).toColourspace('srgb');
  const meta = await sharp(bytes).metadata();
  if (size !== undefined && (meta.width !== size || meta.height !== size)) img = img.resize(size, size, { fit: 'fill' });
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after decoding, got ${info.channels}`);
  return makeRgbImage(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

export async function imageInfo(src: ImageSource | Uint8Array): Promise<ImageInfo> {
  const bytes = src instanceof Uint8Array ? src : await bytesOf(src);
  const meta = await sharp(bytes).metadata();
  return { width: meta.width ?? 0, height: meta.height ?? 0, format: meta.format ?? 'unknown' };
}

/** RgbImage -> PNG bytes (lossless; the same image always gives the same bytes). */
export async function encodePng(img: RgbImage): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } })
    .png({ compressionLevel: 9, adaptiveFiltering: false })
    .toBuffer();
}
