import { memo, type CSSProperties } from 'react';
import { hue, initials } from './avatar';
import styles from './Avatar.module.css';

/** Avatar is a coloured circle with a name's initials (memoised: cards re-render often in a busy feed). */
export const Avatar = memo(function Avatar({ name, size = 36 }: { name: string; size?: number }) {
  return (
    <span
      className={styles.avatar}
      style={{ '--hue': hue(name), width: size, height: size, fontSize: size * 0.4 } as CSSProperties}
      aria-hidden="true"
    >
      {initials(name)}
    </span>
  );
});
