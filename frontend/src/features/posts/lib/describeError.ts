import type { ApiError } from '../../../transport';

/**
 * describeError says what went wrong in words, for the errors that are not
 * shown next to a field: the composer's, the editor's, the feed's.
 */
export function describeError(err: ApiError): string {
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
