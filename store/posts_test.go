package store_test

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lanfeed/feed"
	"lanfeed/store"
)

func ptr(s string) *string { return &s }

func mustCreate(t *testing.T, s *store.Store, in feed.NewPost) feed.Post {
	t.Helper()
	p, err := s.Create(t.Context(), in)
	if err != nil {
		t.Fatalf("Create(%#v) = %v; want nil error", in.Title, err)
	}
	return p
}

func mustUpdate(t *testing.T, s *store.Store, id string, patch feed.PostPatch) feed.Post {
	t.Helper()
	p, err := s.Update(t.Context(), id, patch)
	if err != nil {
		t.Fatalf("Update(%s) = %v; want nil error", id, err)
	}
	return p
}

func mustDelete(t *testing.T, s *store.Store, id string, version int64) feed.Post {
	t.Helper()
	p, err := s.Delete(t.Context(), id, version)
	if err != nil {
		t.Fatalf("Delete(%s, %d) = %v; want nil error", id, version, err)
	}
	return p
}

func mustGet(t *testing.T, s *store.Store, id string) feed.Post {
	t.Helper()
	p, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s) = %v; want nil error", id, err)
	}
	return p
}

// allChanges returns every post, tombstones included, in seq order.
func allChanges(t *testing.T, s *store.Store) []feed.Post {
	t.Helper()
	posts, err := s.Changes(t.Context(), 0, store.MaxChanges)
	if err != nil {
		t.Fatalf("Changes(0) = %v; want nil error", err)
	}
	return posts
}

// wantUntouched fails unless the database still holds exactly want (in seq
// order) and the seq is still seq.
func wantUntouched(t *testing.T, s *store.Store, seq int64, want []feed.Post) {
	t.Helper()
	if got := s.Seq(); got != seq {
		t.Fatalf("Seq() = %d; want %d (unchanged)", got, seq)
	}
	if got := allChanges(t, s); !slices.Equal(got, want) {
		t.Fatalf("Changes(0) = %+v; want %+v (unchanged)", got, want)
	}
}

func TestStore_Create(t *testing.T) {
	tests := []struct {
		name string
		in   feed.NewPost
		want feed.Post // ID, times, version and seq are checked separately
	}{
		{"AuthorDefaultsToNodeName", feed.NewPost{Title: "Hello", Body: "world"},
			feed.Post{Title: "Hello", Body: "world", Author: "test-node"}},
		{"WhitespaceAuthorDefaultsToNodeName", feed.NewPost{Title: "Hello", Author: "   "},
			feed.Post{Title: "Hello", Author: "test-node"}},
		{"ExplicitAuthorKept", feed.NewPost{Title: "Hello", Author: "Ann"},
			feed.Post{Title: "Hello", Author: "Ann"}},
		{"AuthorTrimmed", feed.NewPost{Title: "Hello", Author: "  Ann B.\t"},
			feed.Post{Title: "Hello", Author: "Ann B."}},
		{"TitleTrimmed", feed.NewPost{Title: " \t Lunch at noon \n"},
			feed.Post{Title: "Lunch at noon", Author: "test-node"}},
		{"EmptyBody", feed.NewPost{Title: "t", Body: ""},
			feed.Post{Title: "t", Author: "test-node"}},
		{"BodySpacesKept", feed.NewPost{Title: "t", Body: "  lead and trail  "},
			feed.Post{Title: "t", Body: "  lead and trail  ", Author: "test-node"}},
		{"BodyNewlinesTabsKept", feed.NewPost{Title: "t", Body: "\n\tindented\n\n\tagain\n"},
			feed.Post{Title: "t", Body: "\n\tindented\n\n\tagain\n", Author: "test-node"}},
		{"BodyEmojiKept", feed.NewPost{Title: "🎉 party", Body: "👨‍👩‍👧 family, 🇫🇷 flag, é vs e\u0301"},
			feed.Post{Title: "🎉 party", Body: "👨‍👩‍👧 family, 🇫🇷 flag, é vs e\u0301", Author: "test-node"}},
		{"BodyHTMLKept", feed.NewPost{Title: "<b>x</b>", Body: "<script>alert(1)</script>&amp;"},
			feed.Post{Title: "<b>x</b>", Body: "<script>alert(1)</script>&amp;", Author: "test-node"}},
		{"BodySQLKept", feed.NewPost{Title: "'); DROP TABLE posts;--", Body: "'); DROP TABLE posts;--", Author: "Robert'); --"},
			feed.Post{Title: "'); DROP TABLE posts;--", Body: "'); DROP TABLE posts;--", Author: "Robert'); --"}},
		{"BodyMaxLength", feed.NewPost{Title: strings.Repeat("é", 200), Body: strings.Repeat("😀", 20000)},
			feed.Post{Title: strings.Repeat("é", 200), Body: strings.Repeat("😀", 20000), Author: "test-node"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			got, err := s.Create(t.Context(), tt.in)
			if err != nil {
				t.Fatalf("Create() = %v; want nil error", err)
			}
			want := tt.want
			want.ID, want.Origin = got.ID, mustNode(t, s).ID
			want.CreatedAt, want.UpdatedAt = feed.Time{Time: t0}, feed.Time{Time: t0}
			want.Version, want.Seq = 1, 1
			if got != want {
				t.Fatalf("Create() = %#v; want %#v", got, want)
			}
			if !uuidV7.MatchString(got.ID) {
				t.Fatalf("Create() id = %q; want a UUIDv7", got.ID)
			}
			if g := mustGet(t, s, got.ID); g != got {
				t.Fatalf("Get() = %#v; want %#v", g, got)
			}
			page, err := s.List(t.Context(), feed.PageQuery{Limit: 10})
			if err != nil || len(page.Posts) != 1 || page.Posts[0] != got {
				t.Fatalf("List() = %#v, %v; want [%#v]", page.Posts, err, got)
			}
			if s.Seq() != 1 {
				t.Fatalf("Seq() = %d; want 1", s.Seq())
			}
		})
	}
}

func TestStore_Create_SeqAndTime(t *testing.T) {
	s, c := newStore(t)
	var ids []string
	for i := range 5 {
		c.Add(1500 * time.Microsecond) // times are cut to the millisecond
		p := mustCreate(t, s, feed.NewPost{Title: fmt.Sprint("post ", i)})
		if p.Seq != int64(i+1) || s.Seq() != int64(i+1) {
			t.Fatalf("Create() #%d seq = %d, Seq() = %d; want %d", i, p.Seq, s.Seq(), i+1)
		}
		want := c.Now().Truncate(time.Millisecond)
		if !p.CreatedAt.Equal(want) || p.UpdatedAt != p.CreatedAt || p.CreatedAt.Location() != time.UTC {
			t.Fatalf("Create() #%d times = %v, %v; want %v in UTC", i, p.CreatedAt, p.UpdatedAt, want)
		}
		if slices.Contains(ids, p.ID) {
			t.Fatalf("Create() #%d id = %s; want a new id", i, p.ID)
		}
		ids = append(ids, p.ID)
	}
}

func TestStore_Get_NotFound(t *testing.T) {
	s, _ := newStore(t)
	mustCreate(t, s, feed.NewPost{Title: "t"})
	for _, id := range []string{"", "nope", feed.NewID(), "' OR 1=1 --"} {
		_, err := s.Get(t.Context(), id)
		wantCode(t, fmt.Sprintf("Get(%q)", id), err, feed.CodeNotFound, "")
	}
}

func TestStore_Update(t *testing.T) {
	tests := []struct {
		name      string
		patch     feed.PostPatch
		wantTitle string
		wantBody  string
	}{
		{"TitleOnly", feed.PostPatch{Title: ptr("new title")}, "new title", "old body"},
		{"TitleTrimmed", feed.PostPatch{Title: ptr("  new title \n")}, "new title", "old body"},
		{"BodyOnly", feed.PostPatch{Body: ptr("  new\n\tbody 🎉 <script>alert(1)</script> ');--")}, "old title", "  new\n\tbody 🎉 <script>alert(1)</script> ');--"},
		{"BodyCleared", feed.PostPatch{Body: ptr("")}, "old title", ""},
		{"Both", feed.PostPatch{Title: ptr("t2"), Body: ptr("b2")}, "t2", "b2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newStore(t)
			orig := mustCreate(t, s, feed.NewPost{Title: "old title", Body: "old body", Author: "Ann"})
			mustCreate(t, s, feed.NewPost{Title: "other"})
			c.Add(5*time.Second + 7*time.Millisecond)

			patch := tt.patch
			patch.Version = 1
			got := mustUpdate(t, s, orig.ID, patch)
			want := orig
			want.Title, want.Body = tt.wantTitle, tt.wantBody
			want.Version, want.Seq = 2, 3
			want.UpdatedAt = feed.Time{Time: t0.Add(5*time.Second + 7*time.Millisecond)}
			if got != want {
				t.Fatalf("Update() = %#v; want %#v", got, want)
			}
			if s.Seq() != 3 {
				t.Fatalf("Seq() = %d; want 3", s.Seq())
			}
			if g := mustGet(t, s, orig.ID); g != got {
				t.Fatalf("Get() = %#v; want %#v", g, got)
			}

			// A second update moves on from the first.
			c.Add(time.Second)
			got2 := mustUpdate(t, s, orig.ID, feed.PostPatch{Version: 2, Title: ptr("third")})
			if got2.Version != 3 || got2.Seq != 4 || got2.Title != "third" || got2.Body != tt.wantBody ||
				!got2.UpdatedAt.After(got.UpdatedAt.Time) || got2.CreatedAt != orig.CreatedAt {
				t.Fatalf("second Update() = %#v; want version 3, seq 4, title %q, body %q, later updatedAt, same createdAt",
					got2, "third", tt.wantBody)
			}
		})
	}
}

func TestStore_Update_ClockStepsBack(t *testing.T) {
	s, c := newStore(t)
	p := mustCreate(t, s, feed.NewPost{Title: "t"})
	c.Add(-time.Hour)
	got := mustUpdate(t, s, p.ID, feed.PostPatch{Version: 1, Body: ptr("b")})
	if got.UpdatedAt.Before(got.CreatedAt.Time) {
		t.Fatalf("Update() updatedAt = %v, createdAt = %v; want updatedAt >= createdAt", got.UpdatedAt, got.CreatedAt)
	}
	if got.UpdatedAt != p.UpdatedAt {
		t.Fatalf("Update() updatedAt = %v; want %v (never going back)", got.UpdatedAt, p.UpdatedAt)
	}
}

func TestStore_Update_Errors(t *testing.T) {
	tests := []struct {
		name      string
		patch     feed.PostPatch
		wantCode  string
		wantField string
	}{
		{"ErrVersionMissing", feed.PostPatch{Title: ptr("t")}, feed.CodeInvalid, "version"},
		{"ErrVersionNegative", feed.PostPatch{Version: -1, Title: ptr("t")}, feed.CodeInvalid, "version"},
		{"ErrNothingToUpdate", feed.PostPatch{Version: 2}, feed.CodeInvalid, "title"},
		{"ErrTitleEmpty", feed.PostPatch{Version: 2, Title: ptr("")}, feed.CodeInvalid, "title"},
		{"ErrTitleWhitespaceOnly", feed.PostPatch{Version: 2, Title: ptr(" \n\t ")}, feed.CodeInvalid, "title"},
		{"ErrTitle201", feed.PostPatch{Version: 2, Title: ptr(strings.Repeat("é", 201))}, feed.CodeInvalid, "title"},
		{"ErrTitleInvalidUTF8", feed.PostPatch{Version: 2, Title: ptr("a\xffb")}, feed.CodeInvalid, "title"},
		{"ErrTitleControl", feed.PostPatch{Version: 2, Title: ptr("a\x1bb")}, feed.CodeInvalid, "title"},
		{"ErrBody20001", feed.PostPatch{Version: 2, Body: ptr(strings.Repeat("é", 20001))}, feed.CodeInvalid, "body"},
		{"ErrBodyInvalidUTF8", feed.PostPatch{Version: 2, Body: ptr("\xc3(")}, feed.CodeInvalid, "body"},
		{"ErrBodyControl", feed.PostPatch{Version: 2, Body: ptr("a\x00b")}, feed.CodeInvalid, "body"},
		{"ErrBodyVerticalTab", feed.PostPatch{Version: 2, Body: ptr("a\vb")}, feed.CodeInvalid, "body"},
		{"ErrStaleVersion", feed.PostPatch{Version: 1, Title: ptr("t")}, feed.CodeConflict, ""},
		{"ErrFutureVersion", feed.PostPatch{Version: 3, Body: ptr("b")}, feed.CodeConflict, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newStore(t)
			p := mustCreate(t, s, feed.NewPost{Title: "v1", Body: "body"})
			c.Add(time.Second)
			p = mustUpdate(t, s, p.ID, feed.PostPatch{Version: 1, Title: ptr("v2")})
			before := allChanges(t, s)
			c.Add(time.Second)

			_, err := s.Update(t.Context(), p.ID, tt.patch)
			e := wantCode(t, "Update()", err, tt.wantCode, tt.wantField)
			if tt.wantCode == feed.CodeConflict {
				if e.Post == nil || *e.Post != p {
					t.Fatalf("Update() conflict post = %+v; want the current post %+v", e.Post, p)
				}
				if e.Post.Version != 2 || e.Post.Title != "v2" {
					t.Fatalf("Update() conflict post = version %d, title %q; want 2, %q", e.Post.Version, e.Post.Title, "v2")
				}
			} else if e.Post != nil {
				t.Fatalf("Update() error post = %+v; want nil", e.Post)
			}
			wantUntouched(t, s, 2, before)
		})
	}
}

func TestStore_Update_NotFound(t *testing.T) {
	s, _ := newStore(t)
	p := mustCreate(t, s, feed.NewPost{Title: "t"})
	dead := mustCreate(t, s, feed.NewPost{Title: "dead"})
	mustDelete(t, s, dead.ID, 1)
	before := allChanges(t, s)
	tests := []struct {
		name string
		id   string
	}{
		{"ErrUnknownID", feed.NewID()},
		{"ErrEmptyID", ""},
		{"ErrDeleted", dead.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []int64{1, 2} {
				_, err := s.Update(t.Context(), tt.id, feed.PostPatch{Version: v, Title: ptr("x")})
				wantCode(t, fmt.Sprintf("Update(%q, version %d)", tt.id, v), err, feed.CodeNotFound, "")
			}
			wantUntouched(t, s, 3, before)
		})
	}
	if got := mustGet(t, s, p.ID); got != p {
		t.Fatalf("Get() = %+v; want %+v", got, p)
	}
}

func TestStore_Delete(t *testing.T) {
	tests := []struct {
		name    string
		version int64 // given to Delete; the post is at version 2
	}{
		{"MatchingVersion", 2},
		{"VersionZeroDeletesAnyVersion", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newStore(t)
			p := mustCreate(t, s, feed.NewPost{Title: "doomed", Body: "secret body", Author: "Ann"})
			keep := mustCreate(t, s, feed.NewPost{Title: "keep"})
			c.Add(time.Second)
			p = mustUpdate(t, s, p.ID, feed.PostPatch{Version: 1, Body: ptr("more secret")})
			c.Add(time.Second)

			got := mustDelete(t, s, p.ID, tt.version)
			want := p
			want.Title, want.Body, want.Deleted = "", "", true
			want.Version, want.Seq = 3, 4
			want.UpdatedAt = feed.Time{Time: t0.Add(2 * time.Second)}
			if got != want {
				t.Fatalf("Delete() = %+v; want tombstone %+v", got, want)
			}
			if s.Seq() != 4 {
				t.Fatalf("Seq() after Delete = %d; want 4", s.Seq())
			}

			_, err := s.Get(t.Context(), p.ID)
			wantCode(t, "Get() after Delete", err, feed.CodeNotFound, "")
			page, err := s.List(t.Context(), feed.PageQuery{Limit: 10})
			if err != nil || len(page.Posts) != 1 || page.Posts[0] != keep || page.Seq != 4 {
				t.Fatalf("List() after Delete = %+v, %v; want only %+v at seq 4", page, err, keep)
			}
			changes, err := s.Changes(t.Context(), 3, 10)
			if err != nil || len(changes) != 1 || changes[0] != want {
				t.Fatalf("Changes(3) after Delete = %+v, %v; want [%+v]", changes, err, want)
			}

			// The tombstone cannot be changed or deleted again, and nothing moves.
			before := allChanges(t, s)
			_, err = s.Update(t.Context(), p.ID, feed.PostPatch{Version: 3, Title: ptr("back")})
			wantCode(t, "Update() of deleted post", err, feed.CodeNotFound, "")
			for _, v := range []int64{0, 3} {
				_, err = s.Delete(t.Context(), p.ID, v)
				wantCode(t, fmt.Sprintf("Delete(version %d) of deleted post", v), err, feed.CodeNotFound, "")
			}
			wantUntouched(t, s, 4, before)
		})
	}
}

func TestStore_Delete_Errors(t *testing.T) {
	tests := []struct {
		name      string
		id        func(p feed.Post) string
		version   int64
		wantCode  string
		wantField string
	}{
		{"ErrStaleVersion", func(p feed.Post) string { return p.ID }, 1, feed.CodeConflict, ""},
		{"ErrFutureVersion", func(p feed.Post) string { return p.ID }, 3, feed.CodeConflict, ""},
		{"ErrNegativeVersion", func(p feed.Post) string { return p.ID }, -1, feed.CodeInvalid, "version"},
		{"ErrUnknownID", func(feed.Post) string { return feed.NewID() }, 0, feed.CodeNotFound, ""},
		{"ErrEmptyID", func(feed.Post) string { return "" }, 0, feed.CodeNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			p := mustCreate(t, s, feed.NewPost{Title: "v1"})
			p = mustUpdate(t, s, p.ID, feed.PostPatch{Version: 1, Title: ptr("v2")})
			before := allChanges(t, s)

			_, err := s.Delete(t.Context(), tt.id(p), tt.version)
			e := wantCode(t, fmt.Sprintf("Delete(version %d)", tt.version), err, tt.wantCode, tt.wantField)
			if tt.wantCode == feed.CodeConflict && (e.Post == nil || *e.Post != p) {
				t.Fatalf("Delete() conflict post = %+v; want the current post %+v", e.Post, p)
			}
			wantUntouched(t, s, 2, before)
			if got := mustGet(t, s, p.ID); got != p {
				t.Fatalf("Get() after failed Delete = %+v; want %+v", got, p)
			}
		})
	}
}

func TestStore_Create_Invalid(t *testing.T) {
	tests := []struct {
		name      string
		in        feed.NewPost
		wantField string
	}{
		{"ErrTitleRequired", feed.NewPost{Body: "b"}, "title"},
		{"ErrTitleWhitespaceOnly", feed.NewPost{Title: " \t\n "}, "title"},
		{"ErrTitle201", feed.NewPost{Title: strings.Repeat("😀", 201)}, "title"},
		{"ErrTitleInvalidUTF8", feed.NewPost{Title: "\xff"}, "title"},
		{"ErrTitleNUL", feed.NewPost{Title: "a\x00b"}, "title"},
		{"ErrTitleFormFeed", feed.NewPost{Title: "a\fb"}, "title"},
		{"ErrTitleESC", feed.NewPost{Title: "a\x1b[2Jb"}, "title"},
		{"ErrTitleNEL", feed.NewPost{Title: "a\u0085b"}, "title"},
		{"ErrTitleDEL", feed.NewPost{Title: "a\x7fb"}, "title"},
		{"ErrBody20001", feed.NewPost{Title: "t", Body: strings.Repeat("é", 20001)}, "body"},
		{"ErrBodyInvalidUTF8", feed.NewPost{Title: "t", Body: "ok \xed\xa0\x80"}, "body"},
		{"ErrBodyNUL", feed.NewPost{Title: "t", Body: "\x00"}, "body"},
		{"ErrBodyVerticalTab", feed.NewPost{Title: "t", Body: "a\vb"}, "body"},
		{"ErrBodyESC", feed.NewPost{Title: "t", Body: "\x1b"}, "body"},
		{"ErrBodyNEL", feed.NewPost{Title: "t", Body: "\u0085"}, "body"},
		{"ErrBodyDEL", feed.NewPost{Title: "t", Body: "\x7f"}, "body"},
		{"ErrAuthor65", feed.NewPost{Title: "t", Author: strings.Repeat("a", 65)}, "author"},
		{"ErrAuthorInvalidUTF8", feed.NewPost{Title: "t", Author: "\xc0\xaf"}, "author"},
		{"ErrAuthorNUL", feed.NewPost{Title: "t", Author: "a\x00"}, "author"},
		{"ErrAuthorBackspace", feed.NewPost{Title: "t", Author: "a\bb"}, "author"},
		{"ErrAuthorESC", feed.NewPost{Title: "t", Author: "a\x1bb"}, "author"},
		{"ErrAuthorNEL", feed.NewPost{Title: "t", Author: "a\u0085b"}, "author"},
		{"ErrAuthorDEL", feed.NewPost{Title: "t", Author: "a\x7fb"}, "author"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			p, err := s.Create(t.Context(), tt.in)
			wantCode(t, "Create()", err, feed.CodeInvalid, tt.wantField)
			if p != (feed.Post{}) {
				t.Fatalf("Create() post = %+v; want the zero Post with an error", p)
			}
			wantUntouched(t, s, 0, []feed.Post{})
			page, err := s.List(t.Context(), feed.PageQuery{Limit: 10})
			if err != nil || len(page.Posts) != 0 || page.Seq != 0 {
				t.Fatalf("List() after invalid Create = %+v, %v; want no posts, seq 0", page, err)
			}
		})
	}
}

// TestStore_SeqNotReusedAfterFailedWrite checks that failed writes of every
// kind leave no hole and take no number: the next success gets Seq()+1.
// TestStore_LineEndingsStoredAsLF: CRLF and lone CR reach the database as
// LF, on create and on update (the store normalises what it is given).
func TestStore_LineEndingsStoredAsLF(t *testing.T) {
	s, _ := newStore(t)
	p := mustCreate(t, s, feed.NewPost{Title: "a\r\nb", Body: "one\r\ntwo\rthree", Author: "x\ry"})
	if p.Title != "a\nb" || p.Body != "one\ntwo\nthree" || p.Author != "x\ny" {
		t.Errorf("Create() = %+v; want title, body and author with LF line endings", p)
	}
	p = mustUpdate(t, s, p.ID, feed.PostPatch{Version: 1, Title: ptr("c\rd"), Body: ptr("\r\n\r")})
	got, err := s.Get(t.Context(), p.ID)
	if err != nil || got.Title != "c\nd" || got.Body != "\n\n" {
		t.Errorf("Get() after Update() = %+v, %v; want title %q, body %q", got, err, "c\nd", "\n\n")
	}
}

func TestStore_SeqNotReusedAfterFailedWrite(t *testing.T) {
	s, _ := newStore(t)
	p := mustCreate(t, s, feed.NewPost{Title: "t"})
	dead := mustCreate(t, s, feed.NewPost{Title: "dead"})
	mustDelete(t, s, dead.ID, 0)
	failures := []struct {
		name string
		do   func() error
	}{
		{"InvalidCreate", func() error { _, err := s.Create(t.Context(), feed.NewPost{}); return err }},
		{"InvalidUpdate", func() error {
			_, err := s.Update(t.Context(), p.ID, feed.PostPatch{Version: 1, Title: ptr("\x00")})
			return err
		}},
		{"ConflictUpdate", func() error {
			_, err := s.Update(t.Context(), p.ID, feed.PostPatch{Version: 9, Title: ptr("x")})
			return err
		}},
		{"ConflictDelete", func() error { _, err := s.Delete(t.Context(), p.ID, 9); return err }},
		{"NotFoundUpdate", func() error {
			_, err := s.Update(t.Context(), dead.ID, feed.PostPatch{Version: 2, Title: ptr("x")})
			return err
		}},
		{"NotFoundDelete", func() error { _, err := s.Delete(t.Context(), feed.NewID(), 0); return err }},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			seq := s.Seq()
			if err := f.do(); err == nil {
				t.Fatalf("%s = nil error; want an error", f.name)
			}
			if s.Seq() != seq {
				t.Fatalf("Seq() after %s = %d; want %d", f.name, s.Seq(), seq)
			}
			var err error
			p, err = s.Update(t.Context(), p.ID, feed.PostPatch{Version: p.Version, Body: ptr(f.name)})
			if err != nil || p.Seq != seq+1 || s.Seq() != seq+1 {
				t.Fatalf("Update() after %s = seq %d, %v, Seq() = %d; want seq %d", f.name, p.Seq, err, s.Seq(), seq+1)
			}
		})
	}
	// Seqs in the database are exactly 1..n: no gap, no reuse.
	seqs := map[int64]bool{}
	for _, c := range allChanges(t, s) {
		seqs[c.Seq] = true
	}
	if s.Seq() != 3+int64(len(failures)) || !seqs[s.Seq()] {
		t.Fatalf("Seq() = %d; want %d, the seq of the last change", s.Seq(), 3+len(failures))
	}
}

// feedOrder sorts posts the way List promises: createdAt desc, then id desc.
func feedOrder(a, b feed.Post) int {
	if c := b.CreatedAt.Compare(a.CreatedAt.Time); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}

// listAll pages through the whole feed with limit and returns the pages.
func listAll(t *testing.T, s *store.Store, limit int) [][]feed.Post {
	t.Helper()
	var pages [][]feed.Post
	before := ""
	for range 1000 {
		page, err := s.List(t.Context(), feed.PageQuery{Before: before, Limit: limit})
		if err != nil {
			t.Fatalf("List(%q, %d) = %v; want nil error", before, limit, err)
		}
		if page.Seq != s.Seq() {
			t.Fatalf("List(%q, %d).Seq = %d; want Seq() = %d", before, limit, page.Seq, s.Seq())
		}
		// The first page is the head; any other leads back to the one above it.
		wantPrev := ""
		if before != "" {
			wantPrev = store.CursorOf(page.Posts[0])
		}
		if page.Prev != wantPrev {
			t.Fatalf("List(%q, %d).Prev = %q; want %q", before, limit, page.Prev, wantPrev)
		}
		pages = append(pages, page.Posts)
		if page.Next == "" {
			return pages
		}
		if len(page.Posts) != limit {
			t.Fatalf("List(%q, %d) = %d posts with next %q; want a full page before the last", before, limit, len(page.Posts), page.Next)
		}
		before = page.Next
	}
	t.Fatalf("List(%d) never returned an empty Next", limit)
	return nil
}

// pagedFeed fills s with posts that make paging hard: seven in the same
// millisecond, others a millisecond or more around them, created out of
// order, two deleted and one edited. It returns the live posts in feed
// order and the deleted ones.
func pagedFeed(t *testing.T) (s *store.Store, want, deleted []feed.Post) {
	t.Helper()
	s, c := newStore(t)
	var live []feed.Post
	create := func(at time.Time, title string) feed.Post {
		c.Set(at)
		p := mustCreate(t, s, feed.NewPost{Title: title})
		live = append(live, p)
		return p
	}
	create(t0.Add(time.Second), "later 1")
	for i := range 7 {
		create(t0, fmt.Sprint("tie ", i))
	}
	create(t0.Add(-time.Second), "earlier 1")
	create(t0.Add(time.Millisecond), "next ms")
	create(t0.Add(-time.Millisecond), "previous ms")
	create(t0.Add(time.Hour), "latest")
	create(t0.Add(-time.Hour), "earliest")
	for i := range 3 {
		create(t0.Add(time.Duration(i)*time.Minute), fmt.Sprint("minute ", i))
	}
	// Delete one tie and one other; edit another (updates do not move a post).
	c.Set(t0.Add(2 * time.Hour))
	for _, i := range []int{3, 9} {
		deleted = append(deleted, mustDelete(t, s, live[i].ID, 0))
	}
	live[5] = mustUpdate(t, s, live[5].ID, feed.PostPatch{Version: 1, Title: ptr("edited tie")})
	live = slices.Delete(slices.Clone(live), 9, 10)
	live = slices.Delete(live, 3, 4)

	want = slices.Clone(live)
	slices.SortFunc(want, feedOrder)
	if len(want) != 14 {
		t.Fatalf("test setup: %d live posts; want 14", len(want))
	}
	return s, want, deleted
}

func TestStore_List_Pagination(t *testing.T) {
	s, want, _ := pagedFeed(t)
	for _, limit := range []int{1, 2, 3, 7, 14, 15, feed.MaxLimit} {
		t.Run(fmt.Sprint("Limit", limit), func(t *testing.T) {
			pages := listAll(t, s, limit)
			wantPages := (len(want) + limit - 1) / limit
			if len(pages) != wantPages {
				t.Fatalf("List(limit %d) took %d pages; want %d", limit, len(pages), wantPages)
			}
			got := slices.Concat(pages...)
			if !slices.Equal(got, want) {
				t.Fatalf("List(limit %d) pages = %v; want %v", limit, titles(got), titles(want))
			}
		})
	}
}

// TestStore_List_BackUp pages down to the bottom of the feed, then back up
// to the head through Prev, as a reader who dropped the pages above does.
func TestStore_List_BackUp(t *testing.T) {
	s, want, _ := pagedFeed(t)
	for _, limit := range []int{1, 2, 3, 5, 7, 13, 14, 15, feed.MaxLimit} {
		t.Run(fmt.Sprint("Limit", limit), func(t *testing.T) {
			pages := listAll(t, s, limit)
			bottom := pages[len(pages)-1]
			got := slices.Clone(bottom)
			after := store.CursorOf(bottom[0])
			if len(pages) == 1 {
				after = "" // the bottom page is the head: it has no Prev
			}
			for n := 0; after != ""; n++ {
				if n == len(want) {
					t.Fatalf("List(after, limit %d) never returned an empty Prev", limit)
				}
				page, err := s.List(t.Context(), feed.PageQuery{After: after, Limit: limit})
				if err != nil {
					t.Fatalf("List(after %q, %d) = %v; want nil error", after, limit, err)
				}
				if page.Seq != s.Seq() {
					t.Fatalf("List(after %q, %d).Seq = %d; want Seq() = %d", after, limit, page.Seq, s.Seq())
				}
				if len(page.Posts) == 0 || page.Next != store.CursorOf(page.Posts[len(page.Posts)-1]) {
					t.Fatalf("List(after %q, %d) = %v, next %q; want posts and the oldest one's cursor", after, limit, titles(page.Posts), page.Next)
				}
				atHead := page.Posts[0] == want[0]
				if atHead != (page.Prev == "") {
					t.Fatalf("List(after %q, %d) = %v, prev %q; want prev empty exactly on the page with %q",
						after, limit, titles(page.Posts), page.Prev, want[0].Title)
				}
				got = append(slices.Clone(page.Posts), got...)
				after = page.Prev
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paging up with limit %d = %v; want %v", limit, titles(got), titles(want))
			}
		})
	}
}

// TestStore_List_After asks for the page after every position in the feed,
// live or deleted, and at both ends.
func TestStore_List_After(t *testing.T) {
	s, want, deleted := pagedFeed(t)
	for _, limit := range []int{1, 3, 7, feed.MaxLimit} {
		for i, p := range want {
			after := store.CursorOf(p)
			page, err := s.List(t.Context(), feed.PageQuery{After: after, Limit: limit})
			if err != nil {
				t.Fatalf("List(after %q, %d) = %v; want nil error", p.Title, limit, err)
			}
			first := max(0, i-limit)
			wantPrev, wantNext := "", after // an empty page leads back to the cursor
			if first > 0 {
				wantPrev = store.CursorOf(want[first])
			}
			if i > 0 {
				wantNext = store.CursorOf(want[i-1])
			}
			if !slices.Equal(page.Posts, want[first:i]) || page.Prev != wantPrev || page.Next != wantNext {
				t.Errorf("List(after %q, %d) = %v, prev %q, next %q; want %v, prev %q, next %q",
					p.Title, limit, titles(page.Posts), page.Prev, page.Next, titles(want[first:i]), wantPrev, wantNext)
			}
		}
	}
	// A deleted post's cursor still marks its place; the post is not listed.
	for _, d := range deleted {
		i := slices.IndexFunc(want, func(p feed.Post) bool { return feedOrder(p, d) > 0 })
		if i < 0 {
			i = len(want)
		}
		page, err := s.List(t.Context(), feed.PageQuery{After: store.CursorOf(d), Limit: feed.MaxLimit})
		if err != nil || !slices.Equal(page.Posts, want[:i]) {
			t.Errorf("List(after deleted %s) = %v, %v; want %v", d.ID, titles(page.Posts), err, titles(want[:i]))
		}
	}
	// Below the bottom: an empty before page leads back up to its cursor.
	bottom := store.CursorOf(want[len(want)-1])
	page, err := s.List(t.Context(), feed.PageQuery{Before: bottom, Limit: 10})
	if err != nil || len(page.Posts) != 0 || page.Next != "" || page.Prev != bottom {
		t.Errorf("List(before the oldest) = %+v, %v; want no posts, no next, prev %q", page, err, bottom)
	}
}

func titles(posts []feed.Post) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = p.Title
	}
	return out
}

func TestStore_List_Empty(t *testing.T) {
	s, _ := newStore(t)
	page, err := s.List(t.Context(), feed.PageQuery{Limit: feed.DefaultLimit})
	if err != nil {
		t.Fatalf("List() = %v; want nil error", err)
	}
	if page.Posts == nil || len(page.Posts) != 0 || page.Next != "" || page.Seq != 0 {
		t.Fatalf("List() = %#v; want an empty non-nil Posts, no Next, seq 0", page)
	}
	// Only deleted posts: still empty, but the seq has moved.
	p := mustCreate(t, s, feed.NewPost{Title: "t"})
	mustDelete(t, s, p.ID, 1)
	page, err = s.List(t.Context(), feed.PageQuery{Limit: feed.DefaultLimit})
	if err != nil || len(page.Posts) != 0 || page.Next != "" || page.Seq != 2 {
		t.Fatalf("List() with only a tombstone = %+v, %v; want no posts, no Next, seq 2", page, err)
	}
}

func TestStore_List_Invalid(t *testing.T) {
	s, _ := newStore(t)
	for range 3 {
		mustCreate(t, s, feed.NewPost{Title: "t"})
	}
	top, err := s.List(t.Context(), feed.PageQuery{Limit: 1})
	if err != nil || top.Next == "" {
		t.Fatalf("List(limit 1) = %+v, %v; want a Next", top, err)
	}
	cursor := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
	tests := []struct {
		name      string
		q         feed.PageQuery
		wantField string
	}{
		{"ErrLimitZero", feed.PageQuery{Limit: 0}, "limit"},
		{"ErrLimitNegative", feed.PageQuery{Limit: -1}, "limit"},
		{"ErrLimitTooBig", feed.PageQuery{Limit: feed.MaxLimit + 1}, "limit"},
		{"ErrLimitTooBigAfter", feed.PageQuery{After: top.Next, Limit: feed.MaxLimit + 1}, "limit"},
		{"ErrCursorNotBase64", feed.PageQuery{Before: "!!not base64!!", Limit: 10}, "before"},
		{"ErrCursorPadded", feed.PageQuery{Before: cursor("123.abc") + "==", Limit: 10}, "before"},
		{"ErrCursorNoDot", feed.PageQuery{Before: cursor("1234567"), Limit: 10}, "before"},
		{"ErrCursorNoTime", feed.PageQuery{Before: cursor(".abc"), Limit: 10}, "before"},
		{"ErrCursorBadTime", feed.PageQuery{Before: cursor("soon.abc"), Limit: 10}, "before"},
		{"ErrCursorNoID", feed.PageQuery{Before: cursor("1234567."), Limit: 10}, "before"},
		{"ErrAfterNotBase64", feed.PageQuery{After: "!!not base64!!", Limit: 10}, "after"},
		{"ErrAfterPadded", feed.PageQuery{After: cursor("123.abc") + "==", Limit: 10}, "after"},
		{"ErrAfterNoDot", feed.PageQuery{After: cursor("1234567"), Limit: 10}, "after"},
		{"ErrAfterBadTime", feed.PageQuery{After: cursor("soon.abc"), Limit: 10}, "after"},
		{"ErrAfterNoID", feed.PageQuery{After: cursor("1234567."), Limit: 10}, "after"},
		{"ErrBeforeAndAfter", feed.PageQuery{Before: top.Next, After: top.Next, Limit: 10}, "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.List(t.Context(), tt.q)
			wantCode(t, fmt.Sprintf("List(%+v)", tt.q), err, feed.CodeInvalid, tt.wantField)
			if len(page.Posts) != 0 || page.Next != "" || page.Prev != "" {
				t.Fatalf("List(%+v) = %+v; want an empty page with the error", tt.q, page)
			}
		})
	}
	for _, limit := range []int{feed.MinLimit, feed.MaxLimit} {
		for _, q := range []feed.PageQuery{{Limit: limit}, {Before: top.Next, Limit: limit}, {After: top.Next, Limit: limit}} {
			if _, err := s.List(t.Context(), q); err != nil {
				t.Fatalf("List(%+v) = %v; want nil error", q, err)
			}
		}
	}
}

func TestStore_List_SeqIsReadTime(t *testing.T) {
	s, _ := newStore(t)
	p := mustCreate(t, s, feed.NewPost{Title: "a"})
	mustCreate(t, s, feed.NewPost{Title: "b"})
	first, err := s.List(t.Context(), feed.PageQuery{Limit: 1})
	if err != nil || first.Seq != 2 || first.Next == "" {
		t.Fatalf("List(limit 1) = %+v, %v; want seq 2 and a Next", first, err)
	}
	mustUpdate(t, s, p.ID, feed.PostPatch{Version: 1, Title: ptr("a2")})
	second, err := s.List(t.Context(), feed.PageQuery{Before: first.Next, Limit: 1})
	if err != nil || second.Seq != 3 || s.Seq() != 3 {
		t.Fatalf("List(next) = %+v, %v; want seq 3 = Seq() %d", second, err, s.Seq())
	}
}

func TestStore_Changes(t *testing.T) {
	s, c := newStore(t)
	latest := map[string]feed.Post{} // the expected state of every post
	keep := func(p feed.Post) feed.Post { latest[p.ID] = p; return p }
	tick := func() { c.Add(10 * time.Millisecond) }

	a := keep(mustCreate(t, s, feed.NewPost{Title: "a"})) // 1
	tick()
	b := keep(mustCreate(t, s, feed.NewPost{Title: "b"})) // 2
	tick()
	cc := keep(mustCreate(t, s, feed.NewPost{Title: "c", Body: "c body"})) // 3
	tick()
	a = keep(mustUpdate(t, s, a.ID, feed.PostPatch{Version: a.Version, Title: ptr("a2")})) // 4
	tick()
	keep(mustDelete(t, s, b.ID, b.Version)) // 5
	tick()
	d := keep(mustCreate(t, s, feed.NewPost{Title: "d"})) // 6
	tick()
	keep(mustUpdate(t, s, cc.ID, feed.PostPatch{Version: cc.Version, Body: ptr("c2")})) // 7
	tick()
	keep(mustUpdate(t, s, a.ID, feed.PostPatch{Version: a.Version, Body: ptr("a body")})) // 8
	tick()
	keep(mustDelete(t, s, d.ID, 0)) // 9
	tick()
	keep(mustCreate(t, s, feed.NewPost{Title: "e"})) // 10
	if s.Seq() != 10 {
		t.Fatalf("Seq() = %d; want 10", s.Seq())
	}

	for since := int64(-1); since <= s.Seq()+1; since++ {
		t.Run(fmt.Sprint("Since", since), func(t *testing.T) {
			var want []feed.Post
			for _, p := range latest {
				if p.Seq > since {
					want = append(want, p)
				}
			}
			slices.SortFunc(want, func(x, y feed.Post) int { return int(x.Seq - y.Seq) })

			got, err := s.Changes(t.Context(), since, 100)
			if err != nil {
				t.Fatalf("Changes(%d, 100) = %v; want nil error", since, err)
			}
			if len(got) != len(want) || !slices.Equal(got, want) {
				t.Fatalf("Changes(%d, 100) = %+v; want %+v", since, got, want)
			}

			// Paging by the last returned seq covers the same changes.
			for _, limit := range []int{1, 2, 3} {
				var paged []feed.Post
				next := since
				for range 100 {
					page, err := s.Changes(t.Context(), next, limit)
					if err != nil {
						t.Fatalf("Changes(%d, %d) = %v; want nil error", next, limit, err)
					}
					if len(page) > limit {
						t.Fatalf("Changes(%d, %d) = %d posts; want at most %d", next, limit, len(page), limit)
					}
					if len(page) == 0 {
						break
					}
					paged = append(paged, page...)
					next = page[len(page)-1].Seq
				}
				if !slices.Equal(paged, want) {
					t.Fatalf("Changes(%d) paged by %d = %v; want %v", since, limit, titles(paged), titles(want))
				}
			}
		})
	}

	got, err := s.Changes(t.Context(), s.Seq(), 10)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Changes(Seq()) = %#v, %v; want an empty non-nil slice", got, err)
	}
	// Spot-check tombstones: both deleted posts come back erased.
	tombstones := 0
	for _, p := range allChanges(t, s) {
		if p.Deleted {
			tombstones++
			if p.Title != "" || p.Body != "" || (p.ID != b.ID && p.ID != d.ID) {
				t.Fatalf("Changes() tombstone = %+v; want an erased b or d", p)
			}
		}
	}
	if tombstones != 2 {
		t.Fatalf("Changes(0) tombstones = %d; want 2", tombstones)
	}
}

func TestStore_ConcurrentCreates(t *testing.T) {
	const writers, perWriter = 8, 50
	s := openStore(t, t.TempDir(), store.Options{Name: "n"})

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		got  []feed.Post
		errs []error
		stop = make(chan struct{})
	)
	// Readers run alongside the writers: they must never see an error.
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.List(t.Context(), feed.PageQuery{Limit: 20}); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("List() = %w", err))
					mu.Unlock()
				}
				if _, err := s.Changes(t.Context(), s.Seq()-5, 10); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("Changes() = %w", err))
					mu.Unlock()
				}
			}
		})
	}
	for w := range writers {
		wg.Go(func() {
			last := int64(0)
			for i := range perWriter {
				p, err := s.Create(t.Context(), feed.NewPost{Title: fmt.Sprintf("w%d #%d", w, i)})
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("Create(w%d #%d) = %w", w, i, err))
				} else {
					got = append(got, p)
					if p.Seq <= last {
						errs = append(errs, fmt.Errorf("Create(w%d #%d) seq = %d after %d; want increasing", w, i, p.Seq, last))
					}
					last = p.Seq
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	const n = writers * perWriter
	if len(got) != n || s.Seq() != n {
		t.Fatalf("%d creates succeeded, Seq() = %d; want %d, %d", len(got), s.Seq(), n, n)
	}
	seqs := make([]int64, 0, n)
	ids := map[string]bool{}
	for _, p := range got {
		seqs = append(seqs, p.Seq)
		ids[p.ID] = true
	}
	slices.Sort(seqs)
	for i, seq := range seqs {
		if seq != int64(i+1) {
			t.Fatalf("sorted seqs[%d] = %d; want %d (seqs exactly 1..%d, no duplicates)", i, seq, i+1, n)
		}
	}
	if len(ids) != n {
		t.Fatalf("%d distinct ids; want %d", len(ids), n)
	}
	stored := allChanges(t, s)
	slices.SortFunc(got, func(x, y feed.Post) int { return int(x.Seq - y.Seq) })
	if !slices.Equal(stored, got) {
		t.Fatalf("Changes(0) differs from what Create returned (%d stored, %d returned)", len(stored), len(got))
	}
	var listed int
	for _, page := range listAll(t, s, feed.MaxLimit) {
		listed += len(page)
	}
	if listed != n {
		t.Fatalf("List() pages hold %d posts; want %d", listed, n)
	}
}

func TestStore_Apply_BatchFailsOpsOneByOne(t *testing.T) {
	s, _ := newStore(t)
	p := mustCreate(t, s, feed.NewPost{Title: "first"})
	before := s.Seq()
	ops := []store.Op{
		store.CreateOp(feed.NewPost{Title: "a"}),
		store.UpdateOp(p.ID, feed.PostPatch{Version: 7, Title: ptr("stale")}), // conflict
		store.CreateOp(feed.NewPost{Title: ""}),                               // invalid
		store.UpdateOp(p.ID, feed.PostPatch{Version: 1, Title: ptr("edited")}),
		store.DeleteOp(feed.NewID(), 0), // not found
		store.CreateOp(feed.NewPost{Title: "b"}),
	}
	res := s.Apply(t.Context(), ops)
	if len(res) != len(ops) {
		t.Fatalf("Apply returned %d results; want %d", len(res), len(ops))
	}
	wantCode := map[int]string{1: feed.CodeConflict, 2: feed.CodeInvalid, 4: feed.CodeNotFound}
	wantSeq := map[int]int64{0: before + 1, 3: before + 2, 5: before + 3}
	for i, r := range res {
		if code, bad := wantCode[i]; bad {
			if got := feed.AsError(r.Err).Code; got != code {
				t.Errorf("op %d: error code %q (%v); want %q", i, got, r.Err, code)
			}
			continue
		}
		if r.Err != nil {
			t.Fatalf("op %d: %v; want success", i, r.Err)
		}
		if r.Post.Seq != wantSeq[i] {
			t.Errorf("op %d: seq %d; want %d (successful ops take consecutive seqs in order)", i, r.Post.Seq, wantSeq[i])
		}
	}
	if got := s.Seq(); got != before+3 {
		t.Errorf("Seq() = %d after the batch; want %d", got, before+3)
	}
	changes, err := s.Changes(t.Context(), before, 100)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, c := range changes {
		titles = append(titles, c.Title)
	}
	if want := []string{"a", "edited", "b"}; !slices.Equal(titles, want) {
		t.Errorf("changes after the batch: %q; want %q (failed ops leave no trace)", titles, want)
	}
}

func TestStore_Apply_ClosedFailsEveryOp(t *testing.T) {
	s, _ := newStore(t)
	s.Close()
	res := s.Apply(t.Context(), []store.Op{store.CreateOp(feed.NewPost{Title: "a"}), store.CreateOp(feed.NewPost{Title: "b"})})
	for i, r := range res {
		if r.Err == nil || !strings.Contains(r.Err.Error(), "closed") {
			t.Errorf("op %d on a closed store: %v; want a 'closed' error", i, r.Err)
		}
	}
}
