/**
 * A task figure as a display list, independent of output size: families describe WHAT to draw
 * once, in a 32 x 32 design grid, and two backends draw it — `raster.ts` (exact pixels for the
 * model) and `canvas.ts` (smooth, large, for people). One design unit is one pixel at 32 px.
 */

export const DESIGN = 32;

export type Rgb = readonly [number, number, number];

export const COLORS = {
  white: [255, 255, 255],
  black: [0, 0, 0],
  gray: [150, 150, 150],
  red: [220, 30, 30],
  blue: [30, 70, 230],
  green: [20, 150, 40],
  orange: [240, 140, 0],
  purple: [150, 40, 190],
} as const satisfies Record<string, Rgb>;

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** Text is drawn with the 3x5 pixel font; (x, y) is the anchor named by `align`/`valign`. */
export interface TextMark {
  readonly type: 'text';
  readonly x: number;
  readonly y: number;
  readonly text: string;
  readonly color: Rgb;
  readonly align: 'left' | 'center' | 'right';
  readonly valign: 'top' | 'middle' | 'bottom';
}

export type Mark =
  | { readonly type: 'line'; readonly from: Point; readonly to: Point; readonly color: Rgb }
  | { readonly type: 'polygon'; readonly points: readonly Point[]; readonly fill?: Rgb; readonly stroke?: Rgb }
  | { readonly type: 'rect'; readonly x: number; readonly y: number; readonly w: number; readonly h: number; readonly fill?: Rgb; readonly stroke?: Rgb }
  | { readonly type: 'circle'; readonly cx: number; readonly cy: number; readonly r: number; readonly fill?: Rgb; readonly stroke?: Rgb }
  | TextMark;

export interface Scene {
  readonly marks: readonly Mark[];
}

/** Small constructors so family code reads like a drawing, not like object literals. */
export const draw = {
  line: (x1: number, y1: number, x2: number, y2: number, color: Rgb = COLORS.black): Mark => ({
    type: 'line',
    from: { x: x1, y: y1 },
    to: { x: x2, y: y2 },
    color,
  }),
  polygon: (points: readonly Point[], style: { fill?: Rgb; stroke?: Rgb }): Mark => ({ type: 'polygon', points, ...style }),
  rect: (x: number, y: number, w: number, h: number, style: { fill?: Rgb; stroke?: Rgb }): Mark => ({ type: 'rect', x, y, w, h, ...style }),
  circle: (cx: number, cy: number, r: number, style: { fill?: Rgb; stroke?: Rgb }): Mark => ({ type: 'circle', cx, cy, r, ...style }),
  text: (x: number, y: number, text: string, align: TextMark['align'] = 'center', valign: TextMark['valign'] = 'middle', color: Rgb = COLORS.black): TextMark => ({
    type: 'text',
    x,
    y,
    text,
    color,
    align,
    valign,
  }),
};

/** Every string drawn in the scene, in drawing order (tests use it to find values in images). */
export function sceneTexts(scene: Scene): string[] {
  return scene.marks.flatMap((m) => (m.type === 'text' ? [m.text] : []));
}
