import { codeLabel, codePoints, count, firstControlChar } from '../../../lib/text';

/** Limits on post fields in Unicode code points; the node enforces the same. */
export const limits = { title: 200, body: 20_000, author: 64 } as const;

/** counterFrom is the share of a limit from which a field shows its counter. */
export const counterFrom = 0.8;

export type PostField = 'title' | 'body';
export type FieldErrors = Partial<Record<PostField, string>>;

/**
 * validatePost checks a draft the way the node will, so that most mistakes
 * are shown before sending. The node's answer still wins.
 */
export function validatePost(draft: { title: string; body: string }): FieldErrors {
  const errors: FieldErrors = {};
  const title = draft.title.trim();
  const t = codePoints(title);
  if (t === 0) errors.title = 'Give your post a title.';
  else if (t > limits.title) errors.title = `The title is ${count(t - limits.title, 'character')} too long.`;
  else {
    const c = firstControlChar(title);
    if (c) errors.title = `The title contains an invisible control character (${codeLabel(c)}).`;
  }
  const b = codePoints(draft.body);
  if (b > limits.body) errors.body = `The text is ${count(b - limits.body, 'character')} too long.`;
  else {
    const c = firstControlChar(draft.body);
    if (c) errors.body = `The text contains an invisible control character (${codeLabel(c)}).`;
  }
  return errors;
}

/**
 * nameLengthError says why a display name (already trimmed) is too short or
 * too long, or returns null. A display name is what posts are signed with,
 * so it has the author's limit; the node checks the same.
 */
export function nameLengthError(name: string): string | null {
  const n = codePoints(name);
  return n < 1 || n > limits.author ? `A name has 1 to ${limits.author} characters.` : null;
}
