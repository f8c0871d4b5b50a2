package wiretest

import (
	"fmt"
	"strings"
	"unicode/utf16"

	"lanfeed/feed"
)

// Escaped spells s as a JSON string in which every character is a \uXXXX
// escape, the most bytes any writer can spend on it: 6 for a character of
// the BMP, 12 for one outside it (a surrogate pair).
func Escaped(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r > 0xffff {
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
			continue
		}
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	b.WriteByte('"')
	return b.String()
}

// WorstText returns n counted characters that take 12 bytes each when
// escaped: emoji outside the BMP and, with crlf, every third one a CRLF
// (one character once normalised). stored is what a node keeps.
func WorstText(n int, crlf bool) (sent, stored string) {
	var s, k strings.Builder
	for i := range n {
		if crlf && i%3 == 2 {
			s.WriteString("\r\n")
			k.WriteString("\n")
			continue
		}
		s.WriteString("😀")
		k.WriteString("😀")
	}
	return s.String(), k.String()
}

// OverByOne is a post one character over the limit in one field and at
// the limit in the others: the field, the lengths, and the field's limit.
type OverByOne struct {
	Field               string
	Title, Body, Author int
	Limit               int
}

// OverByOnes lists OverByOne for each field of a post.
var OverByOnes = []OverByOne{
	{"title", feed.MaxTitle + 1, feed.MaxBody, feed.MaxAuthor, feed.MaxTitle},
	{"body", feed.MaxTitle, feed.MaxBody + 1, feed.MaxAuthor, feed.MaxBody},
	{"author", feed.MaxTitle, feed.MaxBody, feed.MaxAuthor + 1, feed.MaxAuthor},
}
