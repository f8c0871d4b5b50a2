import { memo, useLayoutEffect, useRef } from 'react';
import { absoluteTime, relativeTime } from './time';
import { onTick } from './useNow';

/**
 * TimeAgo shows "3 min. ago", keeps it current, and the full date on hover.
 * The label is the text of the <time> element, written on mount and then by
 * the shared clock (onTick) only when it changes: a tick costs a string
 * comparison per mounted label and no React render. Memoised: a card
 * re-rendered for its position in the feed leaves it alone.
 */
export const TimeAgo = memo(function TimeAgo({ iso, className }: { iso: string; className?: string }) {
  const ref = useRef<HTMLTimeElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const show = (now: number) => {
      const label = relativeTime(iso, now);
      if (el.textContent !== label) el.textContent = label;
    };
    show(Date.now());
    return onTick(show);
  }, [iso]);
  return <time ref={ref} dateTime={iso} title={absoluteTime(iso)} className={className} />;
});
