import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every stylesheet of the UI, read as text: the rules below are about what
// the browser is told to do, so they are checked on the source.
const srcDir = resolve(import.meta.dirname, '..');

function stylesheets(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return stylesheets(p);
    return e.name.endsWith('.css') ? [p] : [];
  });
}

describe('stylesheets', () => {
  const files = stylesheets(srcDir);

  it('are found', () => {
    expect(files.length).toBeGreaterThan(3);
  });

  // An endless animation repaints every frame for as long as the page is
  // open: the "Live" badge's pulse kept a core busy in an idle window.
  it('repeat no animation forever', () => {
    const endless = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ line: line.trim(), at: `${relative(srcDir, f)}:${i + 1}` }))
        .filter(({ line }) => /^animation(-iteration-count)?\s*:/.test(line) && /\binfinite\b/.test(line))
        .map(({ line, at }) => `${at}: ${line}`),
    );
    expect(endless).toEqual([]);
  });

  it('cut every animation short when the reader asks for reduced motion', () => {
    const global = readFileSync(join(srcDir, 'styles/global.css'), 'utf8');
    const block = /@media \(prefers-reduced-motion: reduce\) \{([\s\S]*?)\n\}/.exec(global)?.[1] ?? '';
    expect(block).toMatch(/animation-duration:\s*1ms !important/);
    expect(block).toMatch(/animation-iteration-count:\s*1 !important/);
    expect(block).toMatch(/transition-duration:\s*1ms !important/);
  });
});
