import { useEffect, useState } from 'react';
import type { ConnStatus } from '../../../transport';
import { useConnection, useNodeState } from '../hooks/nodeContext';
import styles from './NodePanel.module.css';

const labels = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
} as const;

/** Badge is what the header says about the connection. */
export interface Badge {
  label: string;
  /** tone picks the colour: a ConnState, or 'local' for a live node that the LAN cannot reach */
  tone: ConnStatus['state'] | 'local';
  /** detail is shown next to the label where there is room, and in the tooltip */
  detail: string;
  /** title is the tooltip */
  title: string;
}

/**
 * badgeFor says what the header shows. A desktop whose LAN server did not
 * start is live for its own window only, so it says "Local only" instead of
 * a green "Live" that would promise others can see the feed.
 */
export function badgeFor(conn: ConnStatus, now: number, listenError?: string): Badge {
  if (conn.state === 'live' && listenError) {
    return {
      label: 'Local only',
      tone: 'local',
      detail: 'LAN server not running',
      title: `Local only: the LAN server is not running (${listenError}), so others on the network can't see this feed.`,
    };
  }
  const label = labels[conn.state];
  const secs = conn.retryAt ? Math.max(0, Math.ceil((conn.retryAt - now) / 1000)) : 0;
  const detail = conn.state !== 'live' && secs > 0 ? `retrying in ${secs}s` : '';
  return { label, tone: conn.state, detail: conn.state === 'offline' ? detail : '', title: detail ? `${label} ${detail}` : label };
}

/** ConnectionBadge shows the live stream's state, with the next retry's countdown. */
export function ConnectionBadge() {
  const conn = useConnection();
  const listenError = useNodeState().info?.listenError;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!conn.retryAt) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [conn.retryAt]);
  const badge = badgeFor(conn, now, listenError);
  return (
    <span className={`${styles.badge} ${styles[badge.tone]}`} role="status" aria-live="polite" title={badge.title}>
      <span className={styles.badgeDot} aria-hidden="true" />
      <span>{badge.label}</span>
      {badge.detail && <span className={styles.badgeDetail}>{badge.detail}</span>}
    </span>
  );
}
