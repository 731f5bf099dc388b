/**
 * Image files <-> RgbImage with sharp: decode any format sharp reads (PNG, JPEG, WebP, …),
 * drop alpha (composited on white), and resize to the model's square input; encode RgbImage as
 * PNG for dataset files. An image already at the target size is passed through untouched, so
 * the generator's pixel-exact images reach the model bit for bit.
 */
import { readFile } from 'node:fs/promises';
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

async function bytesOf(src: ImageSource): Promise<Uint8Array> {
  return src.kind === 'bytes' ? src.bytes : readFile(src.path);
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
