import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { modKey } from '../../../lib/platform';
import { toApiError, type ApiError } from '../../../transport';
import { limits, validatePost, type FieldErrors } from '../api/limits';
import { CharCounter } from './CharCounter';
import styles from './Fields.module.css';

export interface ComposerProps {
  /** onPublish sends the post; it rejects with an ApiError. */
  onPublish: (draft: { title: string; body: string }) => Promise<unknown>;
  /** author is shown as who the post will be from. */
  author?: string;
}

/**
 * Composer writes a new post: title and text, counters near the limits,
 * Ctrl/Cmd+Enter to publish, errors next to the field they concern.
 */
export function Composer({ onPublish, author }: ComposerProps) {
  const id = useId();
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [sending, setSending] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const titleRef = useRef<HTMLInputElement>(null);
  const bodyRef = useRef<HTMLTextAreaElement>(null);

  // "n" anywhere outside a text field starts a new post
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key !== 'n' || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      e.preventDefault();
      titleRef.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  async function publish() {
    if (sending) return;
    const found = validatePost({ title, body });
    setErrors(found);
    setFormError(null);
    if (found.title) return titleRef.current?.focus();
    if (found.body) return bodyRef.current?.focus();
    setSending(true);
    try {
      await onPublish({ title: title.trim(), body });
      setTitle('');
      setBody('');
      setSending(false);
      // after the fieldset is enabled again
      requestAnimationFrame(() => titleRef.current?.focus());
    } catch (e) {
      setSending(false);
      showError(toApiError(e));
    }
  }

  function showError(err: ApiError) {
    if (err.code === 'invalid' && (err.field === 'title' || err.field === 'body')) {
      setErrors({ [err.field]: err.message });
      requestAnimationFrame(() => (err.field === 'title' ? titleRef : bodyRef).current?.focus());
      return;
    }
    setFormError(describe(err));
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void publish();
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void publish();
    }
  }

  const titleErr = `${id}-title-error`;
  const bodyErr = `${id}-body-error`;
  const titleCount = `${id}-title-count`;
  const bodyCount = `${id}-body-count`;
  const formErr = `${id}-form-error`;

  return (
    <form className={styles.composer} onSubmit={onSubmit} onKeyDown={onKeyDown} aria-label="New post" noValidate>
      <fieldset disabled={sending} className={styles.fieldset} aria-busy={sending}>
        <div className={styles.field}>
          <label htmlFor={`${id}-title`} className={styles.srOnly}>
            Title
          </label>
          <input
            ref={titleRef}
            id={`${id}-title`}
            className={styles.titleInput}
            placeholder="Title"
            value={title}
            onChange={(e) => {
              setTitle(e.target.value);
              if (errors.title) setErrors((x) => ({ ...x, title: undefined }));
            }}
            aria-invalid={errors.title ? true : undefined}
            aria-describedby={[errors.title ? titleErr : '', titleCount].join(' ').trim()}
            autoComplete="off"
          />
          <div className={styles.meta}>
            {errors.title ? (
              <span id={titleErr} className={styles.error} role="alert">
                {errors.title}
              </span>
            ) : (
              <span />
            )}
            <CharCounter id={titleCount} value={title.trim()} limit={limits.title} />
          </div>
        </div>
        <div className={styles.field}>
          <label htmlFor={`${id}-body`} className={styles.srOnly}>
            Text
          </label>
          <textarea
            ref={bodyRef}
            id={`${id}-body`}
            className={styles.bodyInput}
            placeholder="What's happening on the LAN?"
            rows={3}
            value={body}
            onChange={(e) => {
              setBody(e.target.value);
              if (errors.body) setErrors((x) => ({ ...x, body: undefined }));
            }}
            aria-invalid={errors.body ? true : undefined}
            aria-describedby={[errors.body ? bodyErr : '', bodyCount].join(' ').trim()}
          />
          <div className={styles.meta}>
            {errors.body ? (
              <span id={bodyErr} className={styles.error} role="alert">
                {errors.body}
              </span>
            ) : (
              <span />
            )}
            <CharCounter id={bodyCount} value={body} limit={limits.body} />
          </div>
        </div>
        {formError && (
          <p id={formErr} className={styles.formError} role="alert">
            {formError}
          </p>
        )}
        <div className={styles.actions}>
          <span className={styles.hint}>
            {author ? (
              <>
                Posting as <strong>{author}</strong> ·{' '}
              </>
            ) : null}
            <kbd>{modKey()}</kbd>+<kbd>Enter</kbd> to publish
          </span>
          <button type="submit" className={styles.primary}>
            {sending ? 'Publishing…' : 'Publish'}
          </button>
        </div>
      </fieldset>
    </form>
  );
}

/** describe says what went wrong in words for the errors not tied to a field. */
export function describe(err: ApiError): string {
  switch (err.code) {
    case 'unauthorized':
      return "This device may not write. Enter the node's pairing token: its owner finds it in the desktop app's node panel or in the output of lanfeedd serve.";
    case 'rate_limited':
      return 'Too many posts too fast. Wait a moment and try again.';
    case 'too_large':
      return 'This post is too large for the node.';
    case 'offline':
      return 'Not connected to the node. Your text is kept; try again when it is back.';
    case 'invalid':
      return err.field === 'author' ? `Your display name can't be used: ${err.message}` : err.message;
    default:
      return err.message || 'Something went wrong.';
  }
}
