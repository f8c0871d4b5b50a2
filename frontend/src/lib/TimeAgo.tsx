import { absoluteTime, relativeTime } from './time';
import { useNow } from './useNow';

/** TimeAgo shows "3 min. ago", keeps it current, and the full date on hover. */
export function TimeAgo({ iso, className }: { iso: string; className?: string }) {
  const now = useNow();
  return (
    <time dateTime={iso} title={absoluteTime(iso)} className={className}>
      {relativeTime(iso, now)}
    </time>
  );
}
