import { nodeColor } from './nodeColor';
import styles from './NodeDot.module.css';

/**
 * NodeDot is a node's mark: its shape, in the colour its parent sets as
 * --node (from the same nodeColor). Decorative: the node's name is always
 * next to it.
 */
export function NodeDot({ id, className }: { id: string; className?: string }) {
  return (
    <span
      className={className ? `${styles.dot} ${className}` : styles.dot}
      data-shape={nodeColor(id).shape}
      aria-hidden="true"
    />
  );
}
