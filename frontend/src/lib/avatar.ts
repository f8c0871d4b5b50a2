/** initials returns one or two letters for an avatar: "Alice Martin" -> "AM",
 * "Léa (phone)" -> "LP": punctuation and symbols never count as letters. */
export function initials(name: string): string {
  const words = name.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const first = (w: string | undefined) => Array.from(w ?? '')[0] ?? '';
  const s = first(words[0]) + first(words[1]);
  return s.toUpperCase() || '?';
}

/** hue gives each name a stable colour (0..359) for its avatar. */
export function hue(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 360;
  return h;
}
