import { useEffect, useId, useRef, type KeyboardEvent } from 'react';
import { modKey } from '../../../lib/platform';
import type { Post } from '../../../transport';
import { limits, type FieldErrors } from '../api/limits';
import { CharCounter } from './CharCounter';
import a11y from '../../../styles/a11y.module.css';
import styles from './Fields.module.css';

export interface Draft {
  title: string;
  body: string;
  version: number; // the version the edit is based on
}

export interface PostEditorProps {
  draft: Draft;
  onChange: (d: Draft) => void;
  onSave: () => void;
  onCancel: () => void;
  errors: FieldErrors;
  formError: string | null;
  /** The newer post a save collided with, if any. */
  conflict: Post | null;
  /** The post changed since the edit began (not yet a conflict). */
  changedMeanwhile: boolean;
  onUseTheirs: () => void;
  onCopyTheirs: () => void;
  onKeepMine: () => void;
}

/** PostEditor edits a post in place; Esc cancels, Ctrl/Cmd+Enter saves. */
export function PostEditor(p: PostEditorProps) {
  const id = useId();
  const titleRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    titleRef.current?.focus();
  }, []);

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      p.onCancel();
    } else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      e.stopPropagation();
      p.onSave();
    }
  }

  const { draft, errors, conflict } = p;
  return (
    <form
      className={styles.editor}
      aria-label="Edit post"
      onKeyDown={onKeyDown}
      onSubmit={(e) => {
        e.preventDefault();
        p.onSave();
      }}
      noValidate
    >
      {conflict && (
        <div className={styles.conflict} role="alert">
          <p className={styles.conflictTitle}>
            {conflict.deleted
              ? 'This post was deleted while you were editing it.'
              : 'Someone changed this post while you were editing it. Your text is still below.'}
          </p>
          {!conflict.deleted && (
            <>
              <p className={styles.conflictLead}>Their version:</p>
              <blockquote className={styles.theirs}>
                <strong>{conflict.title}</strong>
                {conflict.body && <span className={styles.theirsBody}>{conflict.body}</span>}
              </blockquote>
            </>
          )}
          <div className={styles.conflictActions}>
            {!conflict.deleted && (
              <>
                <button type="button" className={styles.secondary} onClick={p.onUseTheirs}>
                  Keep theirs
                </button>
                <button type="button" className={styles.secondary} onClick={p.onCopyTheirs}>
                  Edit theirs
                </button>
                <button type="button" className={styles.secondary} onClick={p.onKeepMine}>
                  Keep mine (save over theirs)
                </button>
              </>
            )}
            {conflict.deleted && (
              <button type="button" className={styles.secondary} onClick={p.onUseTheirs}>
                Close
              </button>
            )}
          </div>
        </div>
      )}
      {!conflict && p.changedMeanwhile && (
        <p className={styles.notice} role="status">
          Someone else just changed this post. Saving will show you both versions.
        </p>
      )}
      <div className={styles.field}>
        <label htmlFor={`${id}-title`} className={a11y.srOnly}>
          Title
        </label>
        <input
          ref={titleRef}
          id={`${id}-title`}
          className={styles.titleInput}
          value={draft.title}
          onChange={(e) => p.onChange({ ...draft, title: e.target.value })}
          aria-invalid={errors.title ? true : undefined}
          aria-describedby={errors.title ? `${id}-title-error` : `${id}-title-count`}
          autoComplete="off"
        />
        <div className={styles.meta}>
          {errors.title ? (
            <span id={`${id}-title-error`} className={styles.error} role="alert">
              {errors.title}
            </span>
          ) : (
            <span />
          )}
          <CharCounter id={`${id}-title-count`} value={draft.title.trim()} limit={limits.title} />
        </div>
      </div>
      <div className={styles.field}>
        <label htmlFor={`${id}-body`} className={a11y.srOnly}>
          Text
        </label>
        <textarea
          id={`${id}-body`}
          className={styles.bodyInput}
          rows={4}
          value={draft.body}
          onChange={(e) => p.onChange({ ...draft, body: e.target.value })}
          aria-invalid={errors.body ? true : undefined}
          aria-describedby={errors.body ? `${id}-body-error` : `${id}-body-count`}
        />
        <div className={styles.meta}>
          {errors.body ? (
            <span id={`${id}-body-error`} className={styles.error} role="alert">
              {errors.body}
            </span>
          ) : (
            <span />
          )}
          <CharCounter id={`${id}-body-count`} value={draft.body} limit={limits.body} />
        </div>
      </div>
      {p.formError && (
        <p className={styles.formError} role="alert">
          {p.formError}
        </p>
      )}
      <div className={styles.actions}>
        <span className={styles.hint}>
          <kbd>Esc</kbd> to cancel · <kbd>{modKey()}</kbd>+<kbd>Enter</kbd> to save
        </span>
        <span className={styles.buttons}>
          <button type="button" className={styles.ghost} onClick={p.onCancel}>
            Cancel
          </button>
          {!conflict && (
            <button type="submit" className={styles.primary}>
              Save
            </button>
          )}
        </span>
      </div>
    </form>
  );
}
