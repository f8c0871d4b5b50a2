const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

// English like the rest of the UI. numeric: 'auto' says "yesterday" and
// "now" rather than "1 day ago" and "0 seconds ago"; short: "3 min. ago".
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });
const monthDay = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric' });
const monthDayYear = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric', year: 'numeric' });

/**
 * relativeTime says how long ago iso was: "now", "3 min. ago", "2 hr. ago",
 * "yesterday", "4 days ago", then a date ("Nov 1", "Mar 3, 2025" in another
 * year). now is in ms since the epoch so that tests and one shared clock can
 * pass it in.
 */
export function relativeTime(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const d = now - t;
  // a clock a little ahead of ours is still "now"
  if (d < 45_000) return relative.format(0, 'second');
  if (d < hour) return relative.format(-Math.max(1, Math.round(d / minute)), 'minute');
  if (d < day) return relative.format(-Math.floor(d / hour), 'hour');
  const days = Math.floor(d / day);
  if (days < 7) return relative.format(-days, 'day');
  const date = new Date(t);
  return (date.getFullYear() === new Date(now).getFullYear() ? monthDay : monthDayYear).format(date);
}

// toLocaleString with options builds a new formatter on every call (about a
// millisecond each: it was the top entry of a burst's profile); one is kept.
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** absoluteTime is the full local date and time, for hover titles. */
export function absoluteTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return full.format(t);
}
