const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * relativeTime says how long ago iso was, the way people say it: "just now",
 * "3 min ago", "2 h ago", "yesterday", "4 days ago", then a date. now is in
 * ms since the epoch so that tests and one shared clock can pass it in.
 */
export function relativeTime(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const d = now - t;
  // a clock a little ahead of ours is still "just now"
  if (d < 45_000) return 'just now';
  if (d < hour) return `${Math.max(1, Math.round(d / minute))} min ago`;
  if (d < day) return `${Math.floor(d / hour)} h ago`;
  const days = Math.floor(d / day);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  const date = new Date(t);
  const label = `${months[date.getMonth()]} ${date.getDate()}`;
  return date.getFullYear() === new Date(now).getFullYear() ? label : `${label}, ${date.getFullYear()}`;
}

/** absoluteTime is the full local date and time, for hover titles. */
export function absoluteTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toLocaleString(undefined, {
    dateStyle: 'full',
    timeStyle: 'medium',
  });
}
