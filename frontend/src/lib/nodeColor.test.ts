import { describe, expect, it } from 'vitest';
import { contrast, hsl, hues, minContrast, nodeColor, nodeMarks, shapes, themeBackgrounds } from './nodeColor';

// ids shaped like the node ids lanfeed makes (UUIDv7: a time prefix, then random)
const ids = Array.from({ length: 400 }, (_, i) => `0190a${(i * 7919).toString(16).padStart(3, '0')}-0000-7000-8000-${(i * 104729).toString(16).padStart(12, '0')}`);

describe('nodeColor', () => {
  it('is the same colour for the same id every time', () => {
    expect(nodeColor(ids[3]!)).toEqual(nodeColor(`${ids[3]}`));
    expect(nodeColor('a')).toEqual(nodeColor('a'));
  });

  it('keeps AA contrast on every background of both themes, for every id', () => {
    for (const id of ids) {
      const c = nodeColor(id);
      for (const bg of themeBackgrounds.light) expect(contrast(c.light, bg), `${id} light on ${bg}`).toBeGreaterThanOrEqual(minContrast);
      for (const bg of themeBackgrounds.dark) expect(contrast(c.dark, bg), `${id} dark on ${bg}`).toBeGreaterThanOrEqual(minContrast);
    }
  });

  it('tells nodes apart: every hue and shape is used, evenly', () => {
    const marks = new Map<string, number>();
    for (const id of ids) {
      const c = nodeColor(id);
      expect(hues).toContain(c.hue);
      expect(shapes).toContain(c.shape);
      const k = `${c.hue}/${c.shape}`;
      marks.set(k, (marks.get(k) ?? 0) + 1);
    }
    expect(marks.size, 'every mark is used').toBe(hues.length * shapes.length);
    // 400 ids over 32 marks: 12.5 each on average
    expect(Math.max(...marks.values())).toBeLessThan(25);
  });

  it('gives ids a second apart (UUIDv7 of two nodes started together) different marks', () => {
    // two node ids from a desktop test run that once drew hues 350 and 359
    const a = nodeColor('01a234e5-f0f5-76d5-8d78-caacbe336036');
    const b = nodeColor('01a234e5-e49a-793c-8efd-bb20c0fef564');
    expect(`${a.hue}/${a.shape}`).not.toBe(`${b.hue}/${b.shape}`);
  });

  it('computes contrast and colours as WCAG and CSS do', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    expect(hsl(0, 1, 0.5)).toBe('#ff0000');
    expect(hsl(120, 1, 0.25)).toBe('#008000');
    expect(hsl(240, 1, 0.5)).toBe('#0000ff');
  });
});

describe('nodeMarks', () => {
  // two ids whose own marks share a hue, as the desktop test once drew them
  const sameHue = (() => {
    for (let i = 0; i < ids.length; i++)
      for (let j = i + 1; j < ids.length; j++) if (nodeColor(ids[i]!).hue === nodeColor(ids[j]!).hue) return [ids[i]!, ids[j]!];
    throw new Error('no two ids share a hue');
  })();

  it('keeps a node its own mark when nothing else on the page holds it', () => {
    expect(nodeMarks([ids[5]!]).get(ids[5]!)).toEqual(nodeColor(ids[5]!));
  });

  it('gives two nodes whose own marks share a hue different hues; the older keeps its own', () => {
    const [a, b] = [...sameHue].sort() as [string, string];
    const m = nodeMarks([b, a]);
    expect(m.get(a)).toEqual(nodeColor(a));
    expect(m.get(b)!.hue).not.toBe(m.get(a)!.hue);
    expect(m.get(b)!.shape).toBe(nodeColor(b).shape);
  });

  it('gives up to eight nodes eight hues, and any number distinct marks up to 32', () => {
    const eight = nodeMarks(ids.slice(0, 8));
    expect(new Set([...eight.values()].map((c) => c.hue)).size).toBe(8);
    const all = nodeMarks(ids.slice(0, 32));
    expect(new Set([...all.values()].map((c) => `${c.hue}/${c.shape}`)).size).toBe(32);
    expect(nodeMarks(ids.slice(0, 40)).size).toBe(40);
  });

  it('depends only on the set: the order and repeats of the ids change nothing', () => {
    const some = ids.slice(10, 20);
    expect(nodeMarks([...some].reverse().concat(some[0]!, ''))).toEqual(nodeMarks(some));
  });
});
