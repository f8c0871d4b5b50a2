import { useEffect, useState } from 'react';
import { useConnection } from '../hooks/nodeContext';
import styles from './NodePanel.module.css';

const labels = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
} as const;

/** ConnectionBadge shows the live stream's state, with the next retry's countdown. */
export function ConnectionBadge() {
  const conn = useConnection();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!conn.retryAt) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [conn.retryAt]);
  const secs = conn.retryAt ? Math.max(0, Math.ceil((conn.retryAt - now) / 1000)) : 0;
  const detail = conn.state !== 'live' && secs > 0 ? `retrying in ${secs}s` : '';
  return (
    <span
      className={`${styles.badge} ${styles[conn.state]}`}
      role="status"
      aria-live="polite"
      title={detail ? `${labels[conn.state]} ${detail}` : labels[conn.state]}
    >
      <span className={styles.badgeDot} aria-hidden="true" />
      <span>{labels[conn.state]}</span>
      {conn.state === 'offline' && detail && <span className={styles.badgeDetail}>{detail}</span>}
    </span>
  );
}
