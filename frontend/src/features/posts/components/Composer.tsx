import {
  useEffect,
  useId,
  useRef,
  useState,
  type ChangeEvent,
  type FormEvent,
  type KeyboardEvent,
} from 'react';
import { modKey } from '../../../lib/platform';
import { toApiError, type ApiError } from '../../../transport';
import { limits, validatePost, type FieldErrors, type PostField } from '../api/limits';
import { describeError } from '../lib/describeError';
import { Field } from './Field';
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
  const formRef = useRef<HTMLFormElement>(null);
  // Set when a post went out: the title takes the focus for the next one.
  // Disabling the fieldset while sending dropped the focus to <body>, and a
  // focus() queued for the next frame could still find the fieldset
  // disabled, so it waits here until the render that enables it.
  const [published, setPublished] = useState(0);

  useEffect(() => {
    if (published) titleRef.current?.focus();
  }, [published]);

  // Writing in another field (a post's editor, say) while the composer is
  // empty drops the composer's errors: with nothing written there is nothing
  // to fix, and "Give your post a title." would stay on screen next to the
  // form being written in. It waits for a text field to take the focus, not
  // for the composer to lose it: the line the error leaves would otherwise
  // shift the page under the pointer between a button's press and release.
  const empty = title.trim() === '' && body === '';
  const hasErrors = Boolean(errors.title || errors.body || formError);
  useEffect(() => {
    if (!empty || !hasErrors) return;
    const onFocusIn = (e: globalThis.FocusEvent) => {
      const t = e.target;
      if (!(t instanceof HTMLElement) || formRef.current?.contains(t)) return;
      if (!(t.isContentEditable || /^(INPUT|TEXTAREA)$/.test(t.tagName))) return;
      setErrors({});
      setFormError(null);
    };
    document.addEventListener('focusin', onFocusIn);
    return () => document.removeEventListener('focusin', onFocusIn);
  }, [empty, hasErrors]);

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
      setPublished((n) => n + 1);
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
    setFormError(describeError(err));
  }

  // typing handles a field's change: the new text, and its error gone
  function typing(field: PostField, set: (text: string) => void) {
    return (e: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => {
      set(e.target.value);
      if (errors[field]) setErrors((x) => ({ ...x, [field]: undefined }));
    };
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

  return (
    <form
      ref={formRef}
      className={styles.composer}
      onSubmit={onSubmit}
      onKeyDown={onKeyDown}
      aria-label="New post"
      noValidate
    >
      <fieldset disabled={sending} className={styles.fieldset} aria-busy={sending}>
        <Field label="Title" counted={title.trim()} limit={limits.title} error={errors.title}>
          {(control) => (
            <input
              {...control}
              ref={titleRef}
              className={styles.titleInput}
              placeholder="Title"
              value={title}
              onChange={typing('title', setTitle)}
              autoComplete="off"
            />
          )}
        </Field>
        <Field label="Text" counted={body} limit={limits.body} error={errors.body}>
          {(control) => (
            <textarea
              {...control}
              ref={bodyRef}
              className={styles.bodyInput}
              placeholder="What's happening on the LAN?"
              rows={3}
              value={body}
              onChange={typing('body', setBody)}
            />
          )}
        </Field>
        {formError && (
          <p id={`${id}-form-error`} className={styles.formError} role="alert">
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
