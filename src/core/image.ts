/**
 * The one in-memory image type shared by tasks (which draw it), data (which decodes and
 * encodes it) and the model (which embeds it): 8-bit RGB, row-major, no alpha; and the marker
 * that stands for the image in a problem's text.
 */

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** length = width * height * 3; pixel (x, y) channel c is at (y * width + x) * 3 + c. */
  readonly data: Uint8Array;
}

/** An image of the given size, zero-filled or holding `data` (checked: width * height * 3 bytes). */
export function makeRgbImage(width: number, height: number, data?: Uint8Array): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`image size must be positive integers, got ${width}x${height}`);
  }
  const n = width * height * 3;
  if (data && data.length !== n) throw new Error(`RGB image ${width}x${height} needs ${n} bytes, got ${data.length}`);
  return { width, height, data: data ?? new Uint8Array(n) };
}

/** Where the image goes in a problem text; the model's prompt encoding drops it (the image goes first). */
export const IMAGE_MARKER = '<image>';
