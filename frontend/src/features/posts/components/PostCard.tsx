import { memo, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { Avatar } from '../../../lib/Avatar';
import { EditIcon, TrashIcon } from '../../../lib/icons';
import { TimeAgo } from '../../../lib/TimeAgo';
import { markStyle, useNodeMark } from '../../../lib/nodeMarksContext';
import { NodeDot } from '../../../lib/NodeDot';
import { absoluteTime } from '../../../lib/time';
import type { Post, PostPatch } from '../../../transport';
import { usePostChanges } from '../hooks/usePostChanges';
import { PostEditor } from './PostEditor';
import a11y from '../../../styles/a11y.module.css';
import styles from './PostCard.module.css';

export interface PostCardProps {
  post: Post;
  /** canWrite: this client may write, and the post is this node's (a replica is changed only at its node) */
  canWrite: boolean;
  /** the post's node: its id, display name, and whether it is this node */
  originId: string;
  originName: string;
  mine: boolean;
  /** animate the card in when it mounts (it arrived live) */
  enter: boolean;
  onUpdate: (id: string, patch: PostPatch) => Promise<Post>;
  onDelete: (id: string, version: number) => Promise<Post>;
  /** characters of text before "Show more" */
  clampChars?: number;
  /** position in the feed, from 1, and the feed's size (-1: not known yet) */
  posInSet?: number;
  setSize?: number;
  /**
   * onBusy is told when the card starts and stops holding work of the
   * reader's (an open editor, a delete to confirm, a save or delete on its
   * way), which a windowed list must not unmount.
   */
  onBusy?: (id: string, busy: boolean) => void;
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
  originId,
  originName,
  mine,
  enter,
  onUpdate,
  onDelete,
  clampChars = 700,
  posInSet,
  setSize,
  onBusy,
}: PostCardProps) {
  const id = useId();
  const [enterOnMount] = useState(enter);
  const [expanded, setExpanded] = useState(false);
  const [flash, setFlash] = useState(false);
  const lastVersion = useRef(post.version);
  const articleRef = useRef<HTMLElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const confirmCancel = useRef<HTMLButtonElement>(null);
  const { editing, saving, confirming, deleting, deleteError, ...actions } = usePostChanges(post, {
    onUpdate,
    onDelete,
    onClosed: () => requestAnimationFrame(() => (editButton.current ?? articleRef.current)?.focus()),
    onSaved: () => requestAnimationFrame(() => articleRef.current?.focus()),
  });

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

  const busy = Boolean(editing || saving || confirming || deleting);
  const postId = post.id;
  useEffect(() => {
    if (!busy || !onBusy) return;
    onBusy(postId, true);
    return () => onBusy(postId, false);
  }, [busy, onBusy, postId]);

  function cancelDelete() {
    actions.cancelDelete();
    articleRef.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLElement>) {
    if (e.target !== e.currentTarget || !canWrite || editing) return;
    if (e.key === 'e' || e.key === 'E') {
      e.preventDefault();
      actions.startEdit();
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      actions.askDelete();
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
        data-origin={originId}
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
            <NodeMark id={originId} name={originName} mine={mine} />
            {edited && (
              <span className={styles.edited} title={`Edited ${absoluteTime(post.updatedAt)}`}>
                · edited
              </span>
            )}
            {saving && <span className={styles.status}>· saving…</span>}
            {deleting && <span className={styles.status}>· deleting…</span>}
          </div>
          {canWrite && !editing && !confirming && (
            <div className={styles.tools}>
              {/* Tooltips of our own, to the left of the buttons: a native
                  title tooltip lingers after the click and covered the title
                  being edited. */}
              <button
                ref={editButton}
                type="button"
                className={styles.iconButton}
                onClick={actions.startEdit}
                aria-label={`Edit “${post.title}”`}
                aria-describedby={`${id}-tip-edit`}
                aria-keyshortcuts="E"
                disabled={Boolean(saving || deleting)}
              >
                <EditIcon />
              </button>
              <span id={`${id}-tip-edit`} role="tooltip" className={styles.tip}>
                Edit (E)
              </span>
              <button
                type="button"
                className={`${styles.iconButton} ${styles.deleteButton}`}
                onClick={actions.askDelete}
                aria-label={`Delete “${post.title}”`}
                aria-describedby={`${id}-tip-delete`}
                aria-keyshortcuts="Delete"
                disabled={Boolean(saving || deleting)}
              >
                <TrashIcon />
              </button>
              <span id={`${id}-tip-delete`} role="tooltip" className={styles.tip}>
                Delete (Del)
              </span>
            </div>
          )}
        </header>

        {editing ? (
          <>
            {/* keep the name the card is labelled by while the editor is open */}
            <h2 id={`${id}-title`} className={a11y.srOnly}>
              {post.title}
            </h2>
            <PostEditor
              draft={editing.draft}
              onChange={actions.setDraft}
              onSave={actions.save}
              onCancel={actions.close}
              errors={editing.errors}
              formError={editing.formError}
              conflict={editing.conflict}
              changedMeanwhile={post.version > editing.draft.version}
              onUseTheirs={actions.close}
              onCopyTheirs={actions.takeTheirs}
              onKeepMine={actions.keepMine}
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
                cancelDelete();
              }
            }}
          >
            <span id={`${id}-confirm`}>Delete this post for everyone?</span>
            <span className={styles.confirmButtons}>
              <button
                ref={confirmCancel}
                type="button"
                className={styles.ghostButton}
                onClick={cancelDelete}
                disabled={deleting}
              >
                Cancel
              </button>
              <button type="button" className={styles.dangerButton} onClick={actions.confirmDelete} disabled={deleting}>
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

/**
 * NodeMark shows the node a post belongs to: a dot and the name in the
 * node's own colour, and "mine" on this node's posts.
 */
export const NodeMark = memo(function NodeMark({ id, name, mine }: { id: string; name: string; mine: boolean }) {
  const c = useNodeMark(id);
  return (
    <span
      className={styles.node}
      style={markStyle(c)}
      title={mine ? `Written on this node, ${name}` : `From the node ${name}: only that node can change it`}
      data-node-name={name}
    >
      <span className={styles.dot} aria-hidden="true">
        ·
      </span>
      <NodeDot mark={c} className={styles.nodeDot} />
      <span className={styles.nodeName}>{name}</span>
      {mine && <span className={styles.mine}>mine</span>}
    </span>
  );
});
