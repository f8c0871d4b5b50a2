package feed_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"lanfeed/feed"
)

// allowedText is an oracle for the protocol's text rule written apart from
// checkText: valid UTF-8 and no C0/C1 control character or DEL other than
// newline and tab, with a length in code points within [min, max].
func allowedText(s string, min, max int) bool {
	if !utf8.ValidString(s) {
		return false
	}
	n := 0
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) {
			return false
		}
		n++
	}
	return n >= min && n <= max
}

// lf is an oracle for line-ending normalisation written apart from the
// code: every CR, with the LF after it if there is one, becomes one LF.
func lf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] != '\r':
			b.WriteByte(s[i])
		case i+1 < len(s) && s[i+1] == '\n':
			// the LF that follows is written next
		default:
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// checkInvalid fails unless err is an *feed.Error with code invalid naming
// one of fields.
func checkInvalid(t *testing.T, what string, err error, fields ...string) {
	t.Helper()
	var e *feed.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s = %v (%T); want *feed.Error", what, err, err)
	}
	if e.Code != feed.CodeInvalid {
		t.Fatalf("%s code = %q; want %q", what, e.Code, feed.CodeInvalid)
	}
	for _, f := range fields {
		if e.Field == f {
			if e.Message == "" {
				t.Fatalf("%s: empty message", what)
			}
			return
		}
	}
	t.Fatalf("%s field = %q; want one of %q", what, e.Field, fields)
}

// FuzzValidatePost checks NewPost.Normalize and PostPatch.Normalize against
// an independent oracle: they accept exactly the documented inputs, leave
// them with LF line endings, trimmed and within limits, and refuse the
// others with an invalid error naming the field.
func FuzzValidatePost(f *testing.F) {
	f.Add("Lunch at noon", "Pizza.\nBring a mug.", "bob", int64(1), true, true)
	f.Add("  padded  ", "", "", int64(2), true, false)
	f.Add("", "body", "", int64(1), true, true)
	f.Add(" \t\n ", "x", "  ", int64(0), false, true)
	f.Add("bad\x00nul", "x", "a", int64(1), true, false)
	f.Add("cr\r", "body\r\n", "a\x7f", int64(1), true, true)
	f.Add("a\r\rb", strings.Repeat("\r\n", feed.MaxBody), "\r\n", int64(1), true, true)
	f.Add("c1 \u0085 \u009f", "\u200f\u202e RTL", "\u00a0alice\u00a0", int64(3), true, true)
	f.Add("\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", int64(1), false, true)
	f.Add(strings.Repeat("é", feed.MaxTitle), strings.Repeat("😀", feed.MaxBody), strings.Repeat("a", feed.MaxAuthor), int64(9), true, true)
	f.Add(strings.Repeat("x", feed.MaxTitle+1), strings.Repeat("y", feed.MaxBody+1), strings.Repeat("z", feed.MaxAuthor+1), int64(-1), true, true)
	f.Add("<script>alert(1)</script>", "'; DROP TABLE posts; --", "Robert'); --", int64(9223372036854775807), true, true)
	f.Add("\u2028line\u2029sep", "tab\there", "\ufeffbom", int64(1), true, true)
	f.Add("\U0010FFFF", "\uFFFD", "\u0000", int64(1), true, true)
	f.Fuzz(func(t *testing.T, title, body, author string, version int64, hasTitle, hasBody bool) {
		// Create.
		in := feed.NewPost{Title: title, Body: body, Author: author}
		err := in.Normalize()
		wantT, wantB, wantA := strings.TrimSpace(lf(title)), lf(body), strings.TrimSpace(lf(author))
		ok := allowedText(wantT, 1, feed.MaxTitle) && allowedText(wantB, 0, feed.MaxBody) &&
			(wantA == "" || allowedText(wantA, 1, feed.MaxAuthor))
		switch {
		case err == nil && !ok:
			t.Fatalf("NewPost{%q, %q, %q}.Normalize() = nil; want an invalid error", title, body, author)
		case err != nil && ok:
			t.Fatalf("NewPost{%q, %q, %q}.Normalize() = %v; want nil", title, body, author, err)
		case err != nil:
			checkInvalid(t, "NewPost.Normalize()", err, "title", "body", "author")
		default:
			if in.Title != wantT || in.Author != wantA || in.Body != wantB {
				t.Fatalf("Normalize() left %q, %q, %q; want %q, %q, %q (body byte for byte but line endings)", in.Title, in.Body, in.Author, wantT, wantB, wantA)
			}
		}

		// Update.
		var p feed.PostPatch
		p.Version = version
		if hasTitle {
			p.Title = &title
		}
		if hasBody {
			p.Body = &body
		}
		err = p.Normalize()
		ok = version >= 1 && (hasTitle || hasBody) &&
			(!hasTitle || allowedText(wantT, 1, feed.MaxTitle)) && (!hasBody || allowedText(wantB, 0, feed.MaxBody))
		switch {
		case err == nil && !ok:
			t.Fatalf("PostPatch{v%d, %q(%v), %q(%v)}.Normalize() = nil; want an invalid error", version, title, hasTitle, body, hasBody)
		case err != nil && ok:
			t.Fatalf("PostPatch{v%d, %q(%v), %q(%v)}.Normalize() = %v; want nil", version, title, hasTitle, body, hasBody, err)
		case err != nil:
			checkInvalid(t, "PostPatch.Normalize()", err, "version", "title", "body")
		default:
			if hasTitle && *p.Title != wantT {
				t.Fatalf("PostPatch.Normalize() title = %q; want %q", *p.Title, wantT)
			}
			if hasBody && *p.Body != wantB {
				t.Fatalf("PostPatch.Normalize() body = %q; want %q byte for byte but line endings", *p.Body, wantB)
			}
			if p.Version != version {
				t.Fatalf("PostPatch.Normalize() version = %d; want %d", p.Version, version)
			}
		}
	})
}
