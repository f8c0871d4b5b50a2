import { useEffect, useRef, type KeyboardEvent } from 'react';
import { modKey } from '../../../lib/platform';
import type { Post } from '../../../transport';
import { limits, type FieldErrors } from '../api/limits';
import type { Draft } from '../hooks/usePostChanges';
import { Field } from './Field';
import styles from './Fields.module.css';

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
      <Field label="Title" counted={draft.title.trim()} limit={limits.title} error={errors.title}>
        {(control) => (
          <input
            {...control}
            ref={titleRef}
            className={styles.titleInput}
            value={draft.title}
            onChange={(e) => p.onChange({ ...draft, title: e.target.value })}
            autoComplete="off"
          />
        )}
      </Field>
      <Field label="Text" counted={draft.body} limit={limits.body} error={errors.body}>
        {(control) => (
          <textarea
            {...control}
            className={styles.bodyInput}
            rows={4}
            value={draft.body}
            onChange={(e) => p.onChange({ ...draft, body: e.target.value })}
          />
        )}
      </Field>
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
