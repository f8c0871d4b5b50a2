import { markFor, markStyle, useNodeMarks } from '../../../lib/nodeMarksContext';
import { NodeDot } from '../../../lib/NodeDot';
import { allNodes, type OriginLabel } from '../lib/origins';
import styles from './FeedFilter.module.css';

/**
 * FeedFilter narrows the feed to one node: a row of toggle buttons (All,
 * then each node), reached with Tab and pressed with Enter or Space; the
 * arrow keys move between them.
 */
export function FeedFilter({
  choices,
  value,
  onChange,
}: {
  choices: readonly OriginLabel[];
  value: string;
  onChange: (node: string) => void;
}) {
  const marks = useNodeMarks();
  const options = [{ id: allNodes, name: 'All', mine: false }, ...choices];
  function onKeyDown(e: React.KeyboardEvent<HTMLDivElement>) {
    const dir = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!dir) return;
    const buttons = Array.from(e.currentTarget.querySelectorAll<HTMLButtonElement>('button'));
    const i = buttons.indexOf(e.target as HTMLButtonElement);
    const next = buttons[(i + dir + buttons.length) % buttons.length];
    if (next) {
      e.preventDefault();
      next.focus();
    }
  }
  return (
    <div className={styles.filter} role="group" aria-label="Show posts from" onKeyDown={onKeyDown}>
      {options.map((o) => {
        const c = o.id === allNodes ? null : markFor(marks, o.id);
        return (
          <button
            key={o.id || 'all'}
            type="button"
            className={styles.chip}
            aria-pressed={value === o.id}
            onClick={() => onChange(o.id)}
            style={c ? markStyle(c) : undefined}
          >
            {c && <NodeDot mark={c} />}
            <span className={styles.name}>{o.name}</span>
            {o.mine && <span className={styles.mine}>mine</span>}
          </button>
        );
      })}
    </div>
  );
}
