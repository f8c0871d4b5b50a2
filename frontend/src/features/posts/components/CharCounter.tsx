import { codePoints, count } from '../../../lib/text';
import { counterFrom } from '../api/limits';
import styles from './Fields.module.css';

/**
 * CharCounter shows "183 / 200" once a field nears its limit and turns red
 * past it. Counts are code points, like the node's.
 */
export function CharCounter({ id, value, limit }: { id: string; value: string; limit: number }) {
  const n = codePoints(value);
  if (n < limit * counterFrom) return null;
  const over = n > limit;
  return (
    <span
      id={id}
      className={over ? `${styles.counter} ${styles.over}` : styles.counter}
      aria-label={over ? `${count(n - limit, 'character')} over the limit of ${limit}` : `${n} of ${limit} characters`}
    >
      {n.toLocaleString('en')} / {limit.toLocaleString('en')}
    </span>
  );
}
