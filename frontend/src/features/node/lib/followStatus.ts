import { relativeTime } from '../../../lib/time';
import type { FollowInfo } from '../../../transport';

/** Tone is how a follow's state is coloured: ok (live), busy (on its way), bad (not replicating). */
export type Tone = 'ok' | 'busy' | 'bad';

/** FollowStatus is a followed node's state as the nodes section shows it. */
export interface FollowStatus {
  text: string;
  tone: Tone;
  /** progress of a catch-up, 0..1; undefined in other states */
  progress?: number;
}

const count = new Intl.NumberFormat('en');

/**
 * followStatus words a followed node's state: "live", "catching up 12,400 of
 * 100,000", "offline since 3 min. ago", "refused: <reason>". now is in ms
 * since the epoch (the page's shared clock).
 */
export function followStatus(f: FollowInfo, now: number): FollowStatus {
  switch (f.state) {
    case 'live':
      return { text: 'live', tone: 'ok' };
    case 'catching_up': {
      // a node that has not said how far its log goes, or that went past it since
      const total = Math.max(f.nodeSeq, f.seq, 0);
      const done = Math.max(0, Math.min(f.seq, total));
      return {
        text: `catching up ${count.format(done)} of ${count.format(total)}`,
        tone: 'busy',
        progress: total > 0 ? done / total : 0,
      };
    }
    case 'connecting':
      return { text: 'connecting…', tone: 'busy' };
    case 'offline': {
      const since = sinceText(f.since, now);
      const why = f.reason ? ` (${f.reason})` : '';
      return { text: `offline${since ? ` since ${since}` : ''}${why}`, tone: 'bad' };
    }
    case 'refused':
      return { text: f.reason ? `refused: ${f.reason}` : 'refused', tone: 'bad' };
    default:
      // a state from a newer node: say it as it is
      return { text: f.state.replace(/_/g, ' ') || 'unknown', tone: 'busy' };
  }
}

// sinceText is "3 min. ago", "just now", or '' for a time that does not parse.
function sinceText(iso: string, now: number): string {
  const rel = relativeTime(iso, now);
  return rel === 'now' ? 'just now' : rel;
}

/** addressError checks an address typed into "Add a node by address"; '' when it is worth sending. */
export function addressError(raw: string): string {
  const v = raw.trim();
  if (!v) return 'Enter the address of a node: host:port, or its URL.';
  if (/\s/.test(v)) return 'An address has no spaces: host:port, or a URL like http://192.168.1.20:7700/.';
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return `"${v}" is not an address: use host:port, or a URL like http://192.168.1.20:7700/.`;
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) {
    return `A node is reached over http or https, not ${u.protocol.slice(0, -1)}.`;
  }
  if (!u.hostname) return 'The address has no host name or IP address.';
  return '';
}
