package store_test

import (
	"strings"
	"testing"

	"lanfeed/feed"
	"lanfeed/store"
)

func mustNode(t *testing.T, s *store.Store) store.NodeRecord {
	t.Helper()
	n, err := s.Node(t.Context())
	if err != nil {
		t.Fatalf("Node() = %v; want nil error", err)
	}
	return n
}

func TestStore_SetName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"Plain", "living-room", "living-room"},
		{"Trimmed", "  attic \t\n", "attic"},
		{"Unicode64", strings.Repeat("ñ", 64), strings.Repeat("ñ", 64)},
		{"Emoji", "🍕 party", "🍕 party"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, store.Options{Name: "before"})
			before := mustNode(t, s)
			if err := s.SetName(t.Context(), tt.in); err != nil {
				t.Fatalf("SetName(%q) = %v; want nil", tt.in, err)
			}
			got := mustNode(t, s)
			want := before
			want.Name = tt.want
			if got != want {
				t.Fatalf("Node() after SetName(%q) = %+v; want %+v", tt.in, got, want)
			}
			if s.Seq() != 0 {
				t.Fatalf("Seq() after SetName = %d; want 0 (not a post change)", s.Seq())
			}
			if p := mustCreate(t, s, feed.NewPost{Title: "t"}); p.Author != tt.want {
				t.Fatalf("Create() author after SetName = %q; want %q", p.Author, tt.want)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close() = %v", err)
			}
			if got := mustNode(t, openStore(t, dir, store.Options{})); got != want {
				t.Fatalf("Node() after reopen = %+v; want %+v", got, want)
			}
		})
	}
}

func TestStore_SetName_Invalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"ErrEmpty", ""},
		{"ErrWhitespaceOnly", " \t\n "},
		{"ErrTooLong", strings.Repeat("ñ", 65)},
		{"ErrInvalidUTF8", "node\xff"},
		{"ErrNUL", "a\x00b"},
		{"ErrCR", "a\rb"},
		{"ErrESC", "a\x1bb"},
		{"ErrNEL", "a\u0085b"},
		{"ErrDEL", "a\x7fb"},
	}
	s, _ := newStore(t)
	before := mustNode(t, s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SetName(t.Context(), tt.in)
			wantCode(t, "SetName()", err, feed.CodeInvalid, "name")
			if got := mustNode(t, s); got != before {
				t.Fatalf("Node() after failed SetName = %+v; want %+v (unchanged)", got, before)
			}
		})
	}
}

func TestStore_RotateToken(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, store.Options{Name: "n"})
	before := mustNode(t, s)
	tok, err := s.RotateToken(t.Context())
	if err != nil {
		t.Fatalf("RotateToken() = %v; want nil", err)
	}
	if !hex32.MatchString(tok) {
		t.Fatalf("RotateToken() = %q; want 32 lowercase hex chars", tok)
	}
	if tok == before.Token {
		t.Fatalf("RotateToken() = %q; want a token different from the old one", tok)
	}
	want := before
	want.Token = tok
	if got := mustNode(t, s); got != want {
		t.Fatalf("Node() after RotateToken = %+v; want %+v", got, want)
	}
	tok2, err := s.RotateToken(t.Context())
	if err != nil || tok2 == tok || !hex32.MatchString(tok2) {
		t.Fatalf("second RotateToken() = %q, %v; want a new 32-hex-char token", tok2, err)
	}
	want.Token = tok2
	if s.Seq() != 0 {
		t.Fatalf("Seq() after RotateToken = %d; want 0 (not a post change)", s.Seq())
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if got := mustNode(t, openStore(t, dir, store.Options{})); got != want {
		t.Fatalf("Node() after reopen = %+v; want %+v", got, want)
	}
}
