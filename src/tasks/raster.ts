/**
 * Draws a Scene into an RgbImage with exact integer pixel rules (no anti-aliasing, no native
 * code), so the model's small images are byte-identical on every machine and every run.
 * Shapes scale with the image; the pixel font scales by whole pixels only (floor(size / 32)),
 * which keeps digits sharp at 32, 48 and 64 px. Sizes below 32 px are refused: the layouts
 * are designed for a 3x5 font in a 32-unit grid.
 */
import { makeRgbImage, type RgbImage } from '../core/image.ts';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from './font.ts';
import { DESIGN, type Mark, type Point, type Rgb, type Scene, type TextMark } from './scene.ts';

export const MIN_IMAGE_SIZE = DESIGN;

class Canvas {
  readonly img: RgbImage;
  constructor(readonly size: number) {
    this.img = makeRgbImage(size, size);
    this.img.data.fill(255);
  }

  set(x: number, y: number, c: Rgb): void {
    if (x < 0 || y < 0 || x >= this.size || y >= this.size) return;
    const i = (y * this.size + x) * 3;
    this.img.data[i] = c[0];
    this.img.data[i + 1] = c[1];
    this.img.data[i + 2] = c[2];
  }

  /** A t x t square brush with its top-left corner at (x, y). */
  stamp(x: number, y: number, t: number, c: Rgb): void {
    for (let dy = 0; dy < t; dy++) for (let dx = 0; dx < t; dx++) this.set(x + dx, y + dy, c);
  }
}

/** Integer scale of pen and font: whole pixels only, so strokes and glyphs never blur. */
export function penScale(size: number): number {
  return Math.max(1, Math.floor(size / DESIGN));
}

export function rasterize(scene: Scene, size: number): RgbImage {
  if (!Number.isInteger(size) || size < MIN_IMAGE_SIZE) {
    throw new Error(`image size must be an integer >= ${MIN_IMAGE_SIZE} px, got ${size}`);
  }
  const cv = new Canvas(size);
  const k = size / DESIGN;
  const t = penScale(size);
  for (const m of scene.marks) drawMark(cv, m, k, t);
  return cv.img;
}

function drawMark(cv: Canvas, m: Mark, k: number, t: number): void {
  switch (m.type) {
    case 'line':
      line(cv, m.from, m.to, k, t, m.color);
      return;
    case 'polygon':
      if (m.fill) fillPolygon(cv, m.points, k, m.fill);
      if (m.stroke) for (let i = 0; i < m.points.length; i++) line(cv, m.points[i], m.points[(i + 1) % m.points.length], k, t, m.stroke);
      return;
    case 'rect': {
      const pts = [
        { x: m.x, y: m.y },
        { x: m.x + m.w, y: m.y },
        { x: m.x + m.w, y: m.y + m.h },
        { x: m.x, y: m.y + m.h },
      ];
      if (m.fill) fillPolygon(cv, pts, k, m.fill);
      if (m.stroke) for (let i = 0; i < 4; i++) line(cv, pts[i], pts[(i + 1) % 4], k, t, m.stroke);
      return;
    }
    case 'circle':
      circle(cv, m.cx * k, m.cy * k, m.r * k, t, m.fill, m.stroke);
      return;
    case 'text':
      text(cv, m, k, t);
      return;
  }
}

/** Design coordinate -> pixel index (the pixel that contains the point). */
function px(u: number, k: number, size: number): number {
  return Math.min(size - 1, Math.max(0, Math.floor(u * k)));
}

/** Bresenham between the pixels containing the end points, drawn with a t x t brush. */
function line(cv: Canvas, a: Point, b: Point, k: number, t: number, c: Rgb): void {
  let x0 = px(a.x, k, cv.size);
  let y0 = px(a.y, k, cv.size);
  const x1 = px(b.x, k, cv.size);
  const y1 = px(b.y, k, cv.size);
  // Keep a thick pen inside the image when a line runs along the right or bottom edge.
  const off = (p: number) => Math.min(p, cv.size - t);
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    cv.stamp(off(x0), off(y0), t, c);
    if (x0 === x1 && y0 === y1) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

/** Even-odd scanline fill of the pixels whose centres lie inside the polygon. */
function fillPolygon(cv: Canvas, pts: readonly Point[], k: number, c: Rgb): void {
  const P = pts.map((p) => ({ x: p.x * k, y: p.y * k }));
  const ys = P.map((p) => p.y);
  const yStart = Math.max(0, Math.floor(Math.min(...ys)));
  const yEnd = Math.min(cv.size - 1, Math.ceil(Math.max(...ys)));
  for (let y = yStart; y <= yEnd; y++) {
    const yc = y + 0.5;
    const xs: number[] = [];
    for (let i = 0; i < P.length; i++) {
      const p = P[i];
      const q = P[(i + 1) % P.length];
      // Half-open rule on y so a vertex shared by two edges is counted once.
      if (p.y <= yc !== q.y <= yc) xs.push(p.x + ((yc - p.y) * (q.x - p.x)) / (q.y - p.y));
    }
    xs.sort((u, v) => u - v);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const from = Math.max(0, Math.ceil(xs[i] - 0.5));
      const to = Math.min(cv.size - 1, Math.ceil(xs[i + 1] - 0.5) - 1);
      for (let x = from; x <= to; x++) cv.set(x, y, c);
    }
  }
}

function circle(cv: Canvas, cx: number, cy: number, r: number, t: number, fill?: Rgb, stroke?: Rgb): void {
  const x0 = Math.max(0, Math.floor(cx - r - 1));
  const x1 = Math.min(cv.size - 1, Math.ceil(cx + r + 1));
  const y0 = Math.max(0, Math.floor(cy - r - 1));
  const y1 = Math.min(cv.size - 1, Math.ceil(cy + r + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (d > r) continue;
      if (stroke && d > r - t) cv.set(x, y, stroke);
      else if (fill) cv.set(x, y, fill);
    }
  }
}

/** Where a text mark's glyphs land: the pixel of each glyph's top-left corner, and the pen scale. */
function layoutText(m: TextMark, k: number, t: number): Array<{ ch: string; x: number; y: number }> {
  const w = textWidth(m.text) * t;
  const h = GLYPH_HEIGHT * t;
  const ax = m.x * k;
  const ay = m.y * k;
  const left = m.align === 'left' ? Math.round(ax) : m.align === 'right' ? Math.round(ax) - w : Math.round(ax - w / 2);
  const top = m.valign === 'top' ? Math.round(ay) : m.valign === 'bottom' ? Math.round(ay) - h : Math.round(ay - h / 2);
  return [...m.text].map((ch, i) => ({ ch, x: left + i * GLYPH_ADVANCE * t, y: top }));
}

function text(cv: Canvas, m: TextMark, k: number, t: number): void {
  for (const g of layoutText(m, k, t)) {
    const rows = glyph(g.ch);
    for (let r = 0; r < rows.length; r++) {
      for (let col = 0; col < rows[r].length; col++) {
        if (rows[r][col] === '#') cv.stamp(g.x + col * t, g.y + r * t, t, m.color);
      }
    }
  }
}

/** A drawn character and the pixel at the centre of its glyph box, in a `size`-pixel image. */
export interface GlyphPlacement {
  readonly ch: string;
  readonly cx: number;
  readonly cy: number;
}

/**
 * Every visible character `rasterize(scene, size)` draws (spaces left out), with its glyph's
 * centre: ground truth of what is written where, for the vision encoder's reading loss.
 */
export function glyphPlacements(scene: Scene, size: number): GlyphPlacement[] {
  const k = size / DESIGN;
  const t = penScale(size);
  return scene.marks.flatMap((m) =>
    m.type !== 'text'
      ? []
      : layoutText(m, k, t)
          .filter((g) => g.ch !== ' ')
          .map((g) => ({ ch: g.ch.toUpperCase(), cx: g.x + (GLYPH_WIDTH * t) / 2, cy: g.y + (GLYPH_HEIGHT * t) / 2 })),
  );
}
