import { Profiler } from 'react';
import { act, cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TimeAgo } from './TimeAgo';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('TimeAgo', () => {
  it('moves on with the shared clock without rendering again', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 22, 9, 0, 0) });
    const iso = new Date(Date.UTC(2026, 10, 22, 8, 59, 50)).toISOString();
    let renders = 0;
    const { container } = render(
      <Profiler id="t" onRender={() => renders++}>
        <TimeAgo iso={iso} />
        <TimeAgo iso={iso} />
      </Profiler>,
    );
    const labels = () => Array.from(container.querySelectorAll('time'), (t) => t.textContent);
    expect(labels()).toEqual(['now', 'now']);
    const after = renders;
    act(() => {
      vi.advanceTimersByTime(3 * 60_000);
    });
    expect(labels()).toEqual(['3 min. ago', '3 min. ago']);
    expect(renders).toBe(after);
    expect(container.querySelector('time')?.getAttribute('datetime')).toBe(iso);
  });
});
