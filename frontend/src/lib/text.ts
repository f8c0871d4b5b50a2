/** codePoints counts Unicode code points, the unit of every lanfeed limit. */
export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // a high surrogate followed by a low one is a single code point
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * firstControlChar returns the first control character other than newline
 * and tab (the node refuses them), or null. Matches Go's unicode.IsControl:
 * C0, DEL and C1.
 */
export function firstControlChar(s: string): string | null {
  // eslint-disable-next-line no-control-regex -- finding control characters is what this is for
  const m = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.exec(s);
  return m ? m[0] : null;
}

/** hex4 prints a character as U+XXXX. */
export function codeLabel(ch: string): string {
  return 'U+' + (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

const plural = new Intl.PluralRules('en');

/**
 * count says "1 character", "2 characters", "1,200 characters": n with the
 * noun in the form English wants for it (other is the plural, default noun + s).
 */
export function count(n: number, noun: string, other = `${noun}s`): string {
  return `${n.toLocaleString('en')} ${plural.select(n) === 'one' ? noun : other}`;
}
