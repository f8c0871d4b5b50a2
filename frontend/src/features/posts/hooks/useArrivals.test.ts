import { renderHook } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Post } from '../../../transport';
import { useArrivals } from './useArrivals';

const at = (minute: number): Post => {
  const t = `2026-11-22T09:${String(minute).padStart(2, '0')}:00.000Z`;
  return { id: `m${minute}`, title: '', body: '', author: 'a', origin: '0190a000-0000-7000-8000-00000000a0de', createdAt: t, updatedAt: t, version: 1, deleted: false, seq: minute };
};

describe('useArrivals', () => {
  it('slides in posts that arrive among those shown, not the first or an older page', () => {
    const { result, rerender } = renderHook(({ list, loaded }) => useArrivals(list, loaded), {
      initialProps: { list: [] as Post[], loaded: false },
    });
    rerender({ list: [at(5), at(4)], loaded: true });
    expect([...result.current]).toEqual([]);
    rerender({ list: [at(6), at(5), at(4)], loaded: true });
    expect([...result.current]).toEqual(['m6']);
    rerender({ list: [at(6), at(5), at(4), at(2), at(1)], loaded: true });
    expect([...result.current]).toEqual([]);
    rerender({ list: [at(6), at(5), at(4), at(3), at(2), at(1)], loaded: true });
    expect([...result.current]).toEqual(['m3']);
  });
});
