import { useReducer } from 'react';
import { toApiError, type ApiError, type Post, type PostPatch } from '../../../transport';
import { validatePost, type FieldErrors } from '../api/limits';
import { describeError } from '../lib/describeError';

/** Draft is the text in an open editor and the version it is based on. */
export interface Draft {
  title: string;
  body: string;
  version: number;
}

/** Editing is an open editor and what the last save said about its draft. */
export interface Editing {
  draft: Draft;
  errors: FieldErrors;
  formError: string | null; // an error that concerns no field
  conflict: Post | null; // the newer post a save collided with
}

/**
 * CardMode is where one card is in changing its post. Only one thing
 * happens at a time: while a save or a delete is on its way, nothing else
 * starts.
 */
export type CardMode =
  | { name: 'viewing' }
  | { name: 'editing'; edit: Editing }
  | { name: 'saving'; shown: { title: string; body: string } } // optimistic: shown until the node answers
  | { name: 'confirming' } // asking whether to delete for everyone
  | { name: 'deleting' };

export interface CardState {
  mode: CardMode;
  deleteError: string | null; // why the last delete failed; kept until the next one
}

export type CardAction =
  | { type: 'edit'; draft: Draft }
  | { type: 'change'; draft: Draft }
  | { type: 'invalid'; errors: FieldErrors }
  | { type: 'close' }
  | { type: 'save'; shown: { title: string; body: string } }
  | { type: 'saved' }
  | { type: 'refused'; edit: Editing }
  | { type: 'takeTheirs' }
  | { type: 'keepMine' }
  | { type: 'askDelete' }
  | { type: 'cancelDelete' }
  | { type: 'delete' }
  | { type: 'deleteFailed'; error: string | null };

export const initialCardState: CardState = { mode: { name: 'viewing' }, deleteError: null };

/** cardReducer moves a card between its modes; an action that does not fit the mode changes nothing. */
export function cardReducer(s: CardState, a: CardAction): CardState {
  const { mode } = s;
  const to = (m: CardMode): CardState => ({ ...s, mode: m });
  const editing = (e: Editing): CardState => to({ name: 'editing', edit: e });
  switch (a.type) {
    case 'edit':
      if (mode.name !== 'viewing' && mode.name !== 'confirming') return s;
      return editing({ draft: a.draft, errors: {}, formError: null, conflict: null });
    case 'change':
      return mode.name === 'editing' ? editing({ ...mode.edit, draft: a.draft }) : s;
    case 'invalid':
      return mode.name === 'editing' ? editing({ ...mode.edit, errors: a.errors }) : s;
    case 'close':
      return mode.name === 'editing' ? to({ name: 'viewing' }) : s;
    case 'save':
      return mode.name === 'editing' ? to({ name: 'saving', shown: a.shown }) : s;
    case 'saved':
      return mode.name === 'saving' ? to({ name: 'viewing' }) : s;
    case 'refused':
      return mode.name === 'saving' ? editing(a.edit) : s;
    case 'takeTheirs':
    case 'keepMine': {
      const theirs = mode.name === 'editing' ? mode.edit.conflict : null;
      if (mode.name !== 'editing' || !theirs) return s;
      const draft =
        a.type === 'takeTheirs'
          ? { title: theirs.title, body: theirs.body, version: theirs.version }
          : { ...mode.edit.draft, version: theirs.version };
      return editing({ ...mode.edit, draft, conflict: null });
    }
    case 'askDelete':
      return mode.name === 'viewing' ? to({ name: 'confirming' }) : s;
    case 'cancelDelete':
      return mode.name === 'confirming' ? to({ name: 'viewing' }) : s;
    case 'delete':
      return mode.name === 'confirming' ? { mode: { name: 'deleting' }, deleteError: null } : s;
    case 'deleteFailed':
      return mode.name === 'deleting' ? { mode: { name: 'viewing' }, deleteError: a.error } : s;
  }
}

// refusal is the editor to show again when the node refused a save of draft.
function refusal(err: ApiError, draft: Draft, post: Post): Editing {
  const edit: Editing = { draft, errors: {}, formError: null, conflict: null };
  if (err.code === 'conflict' && err.post) return { ...edit, conflict: err.post };
  if (err.code === 'not_found') return { ...edit, conflict: { ...post, deleted: true } };
  if (err.code === 'invalid' && (err.field === 'title' || err.field === 'body')) {
    return { ...edit, errors: { [err.field]: err.message } };
  }
  return { ...edit, formError: describeError(err) };
}

// deleteFailure says why a delete failed; a post already gone needs no words.
function deleteFailure(err: ApiError): string | null {
  if (err.code === 'conflict') {
    return 'This post changed since you saw it. Take a look, then delete again if you still want to.';
  }
  return err.code === 'not_found' ? null : describeError(err);
}

export interface PostChangeHandlers {
  onUpdate: (id: string, patch: PostPatch) => Promise<Post>;
  onDelete: (id: string, version: number) => Promise<Post>;
  /** the editor closed without saving: put the focus back */
  onClosed: () => void;
  /** a save was committed */
  onSaved: () => void;
}

/**
 * usePostChanges runs a card's edit and delete: an edit is saved
 * optimistically (the new text shows at once and goes back into the editor
 * if the node refuses it), a delete only after a confirmation.
 */
export function usePostChanges(post: Post, h: PostChangeHandlers) {
  const [state, dispatch] = useReducer(cardReducer, initialCardState);
  const { mode } = state;

  function close() {
    dispatch({ type: 'close' });
    h.onClosed();
  }

  async function save() {
    if (mode.name !== 'editing') return;
    const found = validatePost(mode.edit.draft);
    if (found.title || found.body) {
      dispatch({ type: 'invalid', errors: found });
      return;
    }
    const d = { ...mode.edit.draft, title: mode.edit.draft.title.trim() };
    if (d.title === post.title && d.body === post.body && d.version === post.version) {
      close();
      return;
    }
    dispatch({ type: 'save', shown: { title: d.title, body: d.body } });
    try {
      await h.onUpdate(post.id, { version: d.version, title: d.title, body: d.body });
      dispatch({ type: 'saved' });
      h.onSaved();
    } catch (e) {
      dispatch({ type: 'refused', edit: refusal(toApiError(e), d, post) });
    }
  }

  async function confirmDelete() {
    dispatch({ type: 'delete' });
    try {
      await h.onDelete(post.id, post.version);
      // the card goes away when the store drops the post
    } catch (e) {
      dispatch({ type: 'deleteFailed', error: deleteFailure(toApiError(e)) });
    }
  }

  return {
    editing: mode.name === 'editing' ? mode.edit : null,
    saving: mode.name === 'saving' ? mode.shown : null,
    confirming: mode.name === 'confirming' || mode.name === 'deleting',
    deleting: mode.name === 'deleting',
    deleteError: state.deleteError,
    startEdit: () => dispatch({ type: 'edit', draft: { title: post.title, body: post.body, version: post.version } }),
    setDraft: (draft: Draft) => dispatch({ type: 'change', draft }),
    close,
    save: () => void save(),
    takeTheirs: () => dispatch({ type: 'takeTheirs' }),
    keepMine: () => dispatch({ type: 'keepMine' }),
    askDelete: () => dispatch({ type: 'askDelete' }),
    cancelDelete: () => dispatch({ type: 'cancelDelete' }),
    confirmDelete: () => void confirmDelete(),
  };
}
