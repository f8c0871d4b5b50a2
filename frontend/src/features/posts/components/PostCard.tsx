import { memo, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { Avatar } from '../../../lib/Avatar';
import { EditIcon, TrashIcon } from '../../../lib/icons';
import { TimeAgo } from '../../../lib/TimeAgo';
import { absoluteTime } from '../../../lib/time';
import { toApiError, type Post, type PostPatch } from '../../../transport';
import { validatePost, type FieldErrors } from '../api/limits';
import { describeError } from '../lib/describeError';
import { PostEditor, type Draft } from './PostEditor';
import a11y from '../../../styles/a11y.module.css';
import styles from './PostCard.module.css';

export interface PostCardProps {
  post: Post;
  canWrite: boolean;
  /** animate the card in when it mounts (it arrived live) */
  enter: boolean;
  onUpdate: (id: string, patch: PostPatch) => Promise<Post>;
  onDelete: (id: string, version: number) => Promise<Post>;
  /** characters of text before "Show more" */
  clampChars?: number;
  /** position in the feed, from 1, and the feed's size (-1: not known yet) */
  posInSet?: number;
  setSize?: number;
}

const highlightMs = 1600;

/**
 * PostCard shows one post, edits it in place (optimistically: the new text
 * shows at once and is rolled back if the node refuses it) and deletes it
 * after a confirmation.
 */
export const PostCard = memo(function PostCard({
  post,
  canWrite,
  enter,
  onUpdate,
  onDelete,
  clampChars = 700,
  posInSet,
  setSize,
}: PostCardProps) {
  const id = useId();
  const [enterOnMount] = useState(enter);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saving, setSaving] = useState<{ title: string; body: string } | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Post | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [expanded, setExpanded] = useState(false);
  const [flash, setFlash] = useState(false);
  const lastVersion = useRef(post.version);
  const articleRef = useRef<HTMLElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const confirmCancel = useRef<HTMLButtonElement>(null);

  // a brief highlight whenever a newer version arrives
  useEffect(() => {
    if (post.version <= lastVersion.current) return;
    lastVersion.current = post.version;
    setFlash(true);
    const t = setTimeout(() => setFlash(false), highlightMs);
    return () => clearTimeout(t);
  }, [post.version]);

  useEffect(() => {
    if (confirming) confirmCancel.current?.focus();
  }, [confirming]);

  function startEdit() {
    setDraft({ title: post.title, body: post.body, version: post.version });
    setErrors({});
    setFormError(null);
    setConflict(null);
    setConfirming(false);
  }

  function closeEditor() {
    setDraft(null);
    setConflict(null);
    setErrors({});
    setFormError(null);
    requestAnimationFrame(() => (editButton.current ?? articleRef.current)?.focus());
  }

  async function save() {
    if (!draft) return;
    const found = validatePost(draft);
    setErrors(found);
    if (found.title || found.body) return;
    const d = { ...draft, title: draft.title.trim() };
    if (d.title === post.title && d.body === post.body && d.version === post.version) {
      closeEditor();
      return;
    }
    // optimistic: show the new text now, put the editor back if refused
    setSaving({ title: d.title, body: d.body });
    setDraft(null);
    setConflict(null);
    setFormError(null);
    try {
      await onUpdate(post.id, { version: d.version, title: d.title, body: d.body });
      setSaving(null);
      requestAnimationFrame(() => articleRef.current?.focus());
    } catch (e) {
      const err = toApiError(e);
      setSaving(null);
      setDraft(d);
      if (err.code === 'conflict' && err.post) setConflict(err.post);
      else if (err.code === 'not_found') setConflict({ ...post, deleted: true });
      else if (err.code === 'invalid' && (err.field === 'title' || err.field === 'body'))
        setErrors({ [err.field]: err.message });
      else setFormError(describeError(err));
    }
  }

  async function confirmDelete() {
    setDeleting(true);
    setDeleteError(null);
    try {
      await onDelete(post.id, post.version);
      // the card goes away when the store drops the post
    } catch (e) {
      const err = toApiError(e);
      setDeleting(false);
      setConfirming(false);
      if (err.code === 'conflict')
        setDeleteError('This post changed since you saw it. Take a look, then delete again if you still want to.');
      else if (err.code !== 'not_found') setDeleteError(describeError(err));
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLElement>) {
    if (e.target !== e.currentTarget || !canWrite || draft) return;
    if (e.key === 'e' || e.key === 'E') {
      e.preventDefault();
      startEdit();
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      setConfirming(true);
    }
  }

  const shown = saving ?? post;
  const edited = post.updatedAt !== post.createdAt;
  const long = shown.body.length > clampChars || shown.body.split('\n').length > 12;
  const className = [
    styles.card,
    enterOnMount ? styles.enter : '',
    flash ? styles.flash : '',
    saving || deleting ? styles.pending : '',
  ]
    .filter(Boolean)
    .join(' ');

  return (
    <div className={enterOnMount ? styles.enterWrap : undefined}>
      <article
        ref={articleRef}
        className={className}
        tabIndex={0}
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-meta`}
        aria-busy={saving || deleting ? true : undefined}
        aria-posinset={posInSet}
        aria-setsize={setSize}
        data-post-id={post.id}
        onKeyDown={onKeyDown}
      >
        <header className={styles.header}>
          <Avatar name={post.author} />
          <div className={styles.meta} id={`${id}-meta`}>
            <span className={styles.author}>{post.author}</span>
            <span className={styles.dot} aria-hidden="true">
              ·
            </span>
            <TimeAgo iso={post.createdAt} className={styles.time} />
            {edited && (
              <span className={styles.edited} title={`Edited ${absoluteTime(post.updatedAt)}`}>
                · edited
              </span>
            )}
            {saving && <span className={styles.status}>· saving…</span>}
            {deleting && <span className={styles.status}>· deleting…</span>}
          </div>
          {canWrite && !draft && !confirming && (
            <div className={styles.tools}>
              <button
                ref={editButton}
                type="button"
                className={styles.iconButton}
                onClick={startEdit}
                aria-label={`Edit “${post.title}”`}
                title="Edit (E)"
                disabled={Boolean(saving || deleting)}
              >
                <EditIcon />
              </button>
              <button
                type="button"
                className={styles.iconButton}
                onClick={() => setConfirming(true)}
                aria-label={`Delete “${post.title}”`}
                title="Delete (Del)"
                disabled={Boolean(saving || deleting)}
              >
                <TrashIcon />
              </button>
            </div>
          )}
        </header>

        {draft ? (
          <>
            {/* keep the name the card is labelled by while the editor is open */}
            <h2 id={`${id}-title`} className={a11y.srOnly}>
              {post.title}
            </h2>
            <PostEditor
              draft={draft}
              onChange={setDraft}
              onSave={() => void save()}
              onCancel={closeEditor}
              errors={errors}
              formError={formError}
              conflict={conflict}
              changedMeanwhile={post.version > draft.version}
              onUseTheirs={closeEditor}
              onCopyTheirs={() => {
                if (!conflict) return;
                setDraft({ title: conflict.title, body: conflict.body, version: conflict.version });
                setConflict(null);
              }}
              onKeepMine={() => {
                if (!conflict) return;
                setDraft({ ...draft, version: conflict.version });
                setConflict(null);
              }}
            />
          </>
        ) : (
          <>
            <h2 id={`${id}-title`} className={styles.title}>
              {shown.title}
            </h2>
            {shown.body && (
              <div className={long && !expanded ? `${styles.body} ${styles.clamped}` : styles.body}>
                {shown.body}
              </div>
            )}
            {long && (
              <button type="button" className={styles.more} onClick={() => setExpanded((x) => !x)} aria-expanded={expanded}>
                {expanded ? 'Show less' : 'Show more'}
              </button>
            )}
          </>
        )}

        {confirming && (
          <div
            className={styles.confirm}
            role="alertdialog"
            aria-labelledby={`${id}-confirm`}
            onKeyDown={(e) => {
              if (e.key === 'Escape' && !deleting) {
                e.stopPropagation();
                setConfirming(false);
                articleRef.current?.focus();
              }
            }}
          >
            <span id={`${id}-confirm`}>Delete this post for everyone?</span>
            <span className={styles.confirmButtons}>
              <button
                ref={confirmCancel}
                type="button"
                className={styles.ghostButton}
                onClick={() => {
                  setConfirming(false);
                  articleRef.current?.focus();
                }}
                disabled={deleting}
              >
                Cancel
              </button>
              <button type="button" className={styles.dangerButton} onClick={() => void confirmDelete()} disabled={deleting}>
                {deleting ? 'Deleting…' : 'Delete'}
              </button>
            </span>
          </div>
        )}
        {deleteError && (
          <p className={styles.error} role="alert">
            {deleteError}
          </p>
        )}
      </article>
    </div>
  );
});
