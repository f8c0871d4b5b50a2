import { describe, expect, it } from 'vitest';
import { contrast, hsl, minContrast, nodeColor, nodeHue, themeBackgrounds } from './nodeColor';

// ids shaped like the node ids lanfeed makes (UUIDv7: a time prefix, then random)
const ids = Array.from({ length: 400 }, (_, i) => `0190a${(i * 7919).toString(16).padStart(3, '0')}-0000-7000-8000-${(i * 104729).toString(16).padStart(12, '0')}`);

describe('nodeColor', () => {
  it('is the same colour for the same id every time', () => {
    expect(nodeColor(ids[3]!)).toEqual(nodeColor(`${ids[3]}`));
    expect(nodeHue('a')).toBe(nodeHue('a'));
  });

  it('keeps AA contrast on every background of both themes, for every id', () => {
    for (const id of ids) {
      const c = nodeColor(id);
      for (const bg of themeBackgrounds.light) expect(contrast(c.light, bg), `${id} light on ${bg}`).toBeGreaterThanOrEqual(minContrast);
      for (const bg of themeBackgrounds.dark) expect(contrast(c.dark, bg), `${id} dark on ${bg}`).toBeGreaterThanOrEqual(minContrast);
    }
  });

  it('tells nodes apart: ids that differ only at the end get hues far apart on average', () => {
    const hues = new Set(ids.map((id) => Math.floor(nodeHue(id) / 30)));
    expect(hues.size, 'all 12 sectors of the colour wheel are used').toBe(12);
    const a = nodeHue('0190a000-0000-7000-8000-000000000001');
    const b = nodeHue('0190a000-0000-7000-8000-000000000002');
    expect(a).not.toBe(b);
  });

  it('computes contrast and colours as WCAG and CSS do', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    expect(hsl(0, 1, 0.5)).toBe('#ff0000');
    expect(hsl(120, 1, 0.25)).toBe('#008000');
    expect(hsl(240, 1, 0.5)).toBe('#0000ff');
  });
});
