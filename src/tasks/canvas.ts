/**
 * Large, smooth renderings of task figures for people (docs, reports) with @napi-rs/canvas:
 * anti-aliased shapes, and the same 3x5 pixel font scaled up, so a reader sees the design the
 * model sees. Not byte-stable across machines (Skia's anti-aliasing may differ); the model's
 * images come from raster.ts, never from here. Loaded lazily: importing the task suite does
 * not load the native canvas module.
 */
import { GLYPH_ADVANCE, glyph, GLYPH_HEIGHT, textWidth } from './font.ts';
import { DESIGN, type Mark, type Rgb, type Scene } from './scene.ts';

const css = (c: Rgb) => `rgb(${c[0]},${c[1]},${c[2]})`;

/** PNG bytes of the scene drawn at `size` x `size` (a multiple of 32 keeps the font crisp). */
export async function renderPng(scene: Scene, size = 256): Promise<Buffer> {
  if (!Number.isInteger(size) || size < DESIGN || size > 4096) throw new Error(`render size must be an integer in 32..4096, got ${size}`);
  const { createCanvas } = await import('@napi-rs/canvas');
  const canvas = createCanvas(size, size);
  const g = canvas.getContext('2d');
  const k = size / DESIGN;
  g.fillStyle = 'rgb(255,255,255)';
  g.fillRect(0, 0, size, size);
  g.lineWidth = Math.max(1, k * 0.75);
  g.lineCap = 'square';
  g.lineJoin = 'miter';
  for (const m of scene.marks) drawMark(g, m, k);
  return canvas.encode('png');
}

type Ctx = ReturnType<import('@napi-rs/canvas').Canvas['getContext']>;

function drawMark(g: Ctx, m: Mark, k: number): void {
  // The raster backend draws a line in the pixel that contains its coordinate; half a unit
  // offset puts the smooth line through that pixel's centre, so both renderings agree.
  const P = (u: number) => (u + 0.5) * k;
  switch (m.type) {
    case 'line':
      g.strokeStyle = css(m.color);
      g.beginPath();
      g.moveTo(P(m.from.x), P(m.from.y));
      g.lineTo(P(m.to.x), P(m.to.y));
      g.stroke();
      return;
    case 'polygon':
    case 'rect': {
      const pts =
        m.type === 'rect'
          ? [
              { x: m.x, y: m.y },
              { x: m.x + m.w, y: m.y },
              { x: m.x + m.w, y: m.y + m.h },
              { x: m.x, y: m.y + m.h },
            ]
          : m.points;
      g.beginPath();
      pts.forEach((p, i) => (i === 0 ? g.moveTo(P(p.x), P(p.y)) : g.lineTo(P(p.x), P(p.y))));
      g.closePath();
      if (m.fill) {
        // Fills cover pixel areas in the raster (no half-unit shift): redraw the path unshifted.
        g.beginPath();
        pts.forEach((p, i) => (i === 0 ? g.moveTo(p.x * k, p.y * k) : g.lineTo(p.x * k, p.y * k)));
        g.closePath();
        g.fillStyle = css(m.fill);
        g.fill();
      }
      if (m.stroke) {
        g.beginPath();
        pts.forEach((p, i) => (i === 0 ? g.moveTo(P(p.x), P(p.y)) : g.lineTo(P(p.x), P(p.y))));
        g.closePath();
        g.strokeStyle = css(m.stroke);
        g.stroke();
      }
      return;
    }
    case 'circle':
      g.beginPath();
      g.arc(m.cx * k, m.cy * k, m.r * k - (m.stroke ? g.lineWidth / 2 : 0), 0, 2 * Math.PI);
      if (m.fill) {
        g.fillStyle = css(m.fill);
        g.fill();
      }
      if (m.stroke) {
        g.strokeStyle = css(m.stroke);
        g.stroke();
      }
      return;
    case 'text': {
      // The same glyphs as the model's images, one design unit per glyph pixel.
      const t = k;
      const w = textWidth(m.text) * t;
      const h = GLYPH_HEIGHT * t;
      const ax = m.x * k;
      const ay = m.y * k;
      const left = m.align === 'left' ? ax : m.align === 'right' ? ax - w : ax - w / 2;
      const top = m.valign === 'top' ? ay : m.valign === 'bottom' ? ay - h : ay - h / 2;
      g.fillStyle = css(m.color);
      for (let i = 0; i < m.text.length; i++) {
        const rows = glyph(m.text[i]);
        for (let r = 0; r < rows.length; r++) {
          for (let c = 0; c < rows[r].length; c++) {
            if (rows[r][c] === '#') g.fillRect(left + (i * GLYPH_ADVANCE + c) * t, top + r * t, t, t);
          }
        }
      }
      return;
    }
  }
}
