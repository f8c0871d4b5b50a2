// Each node gets a mark of its own, drawn from its id so that it is the same
// on every page and every node: one of eight hues far apart on the colour
// wheel and one of four shapes, 32 marks in all. Two nodes then differ in
// hue by at least 30 degrees or, sharing a hue, most likely in shape; the
// name beside the mark tells them apart in any case. The lightness is chosen
// per theme so that the colour, used as text, keeps WCAG AA contrast (4.5:1)
// on the page background and on the cards.

/** Backgrounds a node colour is drawn on, per theme (global.css: --bg, --surface, --surface-2). */
export const themeBackgrounds = {
  light: ['#ffffff', '#f5f6fa', '#f0f2f7'],
  dark: ['#161922', '#0e1016', '#1d212c'],
} as const;

/** The contrast a node colour keeps against every background of its theme (WCAG AA, normal text). */
export const minContrast = 4.5;

/**
 * hues are the eight hues a node's colour is one of, in degrees: red,
 * orange, green, teal, azure, blue, purple, magenta. Yellow is left out: at
 * AA contrast on white it turns an olive brown next to orange.
 */
export const hues = [0, 30, 130, 175, 210, 240, 280, 320] as const;

/** shapes are the four shapes of a node's mark. */
export const shapes = ['circle', 'square', 'diamond', 'triangle'] as const;
export type NodeShape = (typeof shapes)[number];

/** NodeColor is a node's mark: its colour in each theme, as #rrggbb, and its shape. */
export interface NodeColor {
  hue: number; // one of hues
  shape: NodeShape;
  light: string;
  dark: string;
}

const saturation = 0.7;
const cache = new Map<string, NodeColor>();

/**
 * nodeHash spreads node ids over 32 bits: FNV-1a, then a final mix
 * (MurmurHash3's fmix32), without which ids that differ only in their last
 * characters land on neighbouring hues.
 */
export function nodeHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const slots = hues.length * shapes.length;

/** nodeColor is the colour of node id in both themes, from its id alone. */
export function nodeColor(id: string): NodeColor {
  const hit = cache.get(id);
  if (hit) return hit;
  const c = markOf(nodeHash(id) % slots);
  cache.set(id, c);
  return c;
}

// markOf is the mark of slot (0..31): hue slot % 8, shape slot / 8.
function markOf(slot: number): NodeColor {
  const hue = hues[slot % hues.length]!;
  const shape = shapes[Math.floor(slot / hues.length) % shapes.length]!;
  // light theme: the lightest shade dark enough; dark theme: the darkest light enough
  const light = pick(hue, themeBackgrounds.light, 0.5, -0.01);
  const dark = pick(hue, themeBackgrounds.dark, 0.55, 0.01);
  return { hue, shape, light, dark };
}

/**
 * nodeMarks gives the nodes a page shows together marks that differ: each
 * node takes its own mark (nodeColor) unless an earlier node of the set
 * (by id, so the oldest node first: ids grow with time) holds its hue;
 * then it takes the first hue nobody holds, in its own shape, and once
 * all eight hues are held, the first free hue and shape. Two nodes that
 * drew the same mark by chance (1 in 32) are then still told apart at a
 * glance. The result depends only on the set, so two pages that know the
 * same nodes draw them alike.
 */
export function nodeMarks(ids: Iterable<string>): Map<string, NodeColor> {
  const sorted = [...new Set(ids)].filter(Boolean).sort();
  const held = new Set<number>();
  const heldHues = new Set<number>();
  const marks = new Map<string, NodeColor>();
  for (const id of sorted) {
    let slot = nodeHash(id) % slots;
    if (heldHues.has(slot % hues.length) && heldHues.size < hues.length) {
      const shapeBase = slot - (slot % hues.length);
      let h = slot % hues.length;
      while (heldHues.has(h)) h = (h + 1) % hues.length;
      slot = shapeBase + h;
    }
    while (held.has(slot) && held.size < slots) slot = (slot + 1) % slots;
    held.add(slot);
    heldHues.add(slot % hues.length);
    marks.set(id, slot === nodeHash(id) % slots ? nodeColor(id) : markOf(slot));
  }
  return marks;
}

// pick walks the lightness from start by step until the colour has enough
// contrast on every background; black or white ends the walk in any case.
function pick(hue: number, backgrounds: readonly string[], start: number, step: number): string {
  for (let l = start; l >= 0 && l <= 1; l += step) {
    const hex = hsl(hue, saturation, l);
    if (backgrounds.every((b) => contrast(hex, b) >= minContrast)) return hex;
  }
  return step < 0 ? '#000000' : '#ffffff';
}

/** hsl converts a colour (h in degrees, s and l in 0..1) to #rrggbb. */
export function hsl(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

// luminance is the WCAG relative luminance of #rrggbb.
function luminance(hex: string): number {
  const ch = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * ch[0]! + 0.7152 * ch[1]! + 0.0722 * ch[2]!;
}

/** contrast is the WCAG contrast ratio of two #rrggbb colours (1..21). */
export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x! + 0.05) / (y! + 0.05);
}
