import type { NodeColor } from './nodeColor';
import styles from './NodeDot.module.css';

/**
 * NodeDot is a node's mark: its shape, in the colour its parent sets as
 * --node (markStyle of the same mark). Decorative: the node's name is
 * always next to it.
 */
export function NodeDot({ mark, className }: { mark: NodeColor; className?: string }) {
  return (
    <span className={className ? `${styles.dot} ${className}` : styles.dot} data-shape={mark.shape} aria-hidden="true" />
  );
}
