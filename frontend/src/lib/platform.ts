/** modKey is the name of the key that goes with Enter to publish: ⌘ on Apple devices. */
export function modKey(): string {
  const p = typeof navigator === 'undefined' ? '' : navigator.platform || navigator.userAgent;
  return /Mac|iPhone|iPad/.test(p) ? '⌘' : 'Ctrl';
}
