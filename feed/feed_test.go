package feed

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// wantInvalid fails unless err is an *Error with CodeInvalid naming field.
func wantInvalid(t *testing.T, call string, err error, field string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s = %v (%T); want *feed.Error with code %q, field %q", call, err, err, CodeInvalid, field)
	}
	if e.Code != CodeInvalid || e.Field != field {
		t.Fatalf("%s = code %q, field %q; want code %q, field %q", call, e.Code, e.Field, CodeInvalid, field)
	}
	if e.Message == "" {
		t.Fatalf("%s: message is empty; want a message users can read", call)
	}
}

func ptr(s string) *string { return &s }

func TestNewPost_Normalize(t *testing.T) {
	tests := []struct {
		name      string
		in        NewPost
		wantField string // "" means valid
	}{
		{"OK", NewPost{Title: "Hello", Body: "world", Author: "Ann"}, ""},
		{"OKEmptyBody", NewPost{Title: "Hello"}, ""},
		{"OKEmptyAuthorMeansNodeName", NewPost{Title: "Hello", Body: "x"}, ""},
		{"OKWhitespaceAuthorMeansNodeName", NewPost{Title: "Hello", Author: " \t "}, ""},
		{"OKTitle200MultiByte", NewPost{Title: strings.Repeat("é", 200)}, ""},
		{"OKTitle200Emoji", NewPost{Title: strings.Repeat("😀", 200)}, ""},
		{"OKTitle200AfterTrim", NewPost{Title: "  " + strings.Repeat("a", 200) + "\n\t "}, ""},
		{"OKTitleOneRune", NewPost{Title: "x"}, ""},
		{"OKBody20000", NewPost{Title: "t", Body: strings.Repeat("é", 20000)}, ""},
		{"OKBodyWhitespaceOnly", NewPost{Title: "t", Body: "  \n\t  "}, ""},
		{"OKAuthor64", NewPost{Title: "t", Author: strings.Repeat("ü", 64)}, ""},
		{"OKNewlineAndTab", NewPost{Title: "a\tb\nc", Body: "line 1\n\tline 2\n", Author: "A\tB"}, ""},
		{"OKCRLFAndCR", NewPost{Title: "a\rb", Body: "line\r\nline\r", Author: "a\r\nb"}, ""},
		{"OKBody20000CRLF", NewPost{Title: "t", Body: strings.Repeat("\r\n", 20000)}, ""},
		{"ErrBody20001CRLF", NewPost{Title: "t", Body: strings.Repeat("\r\n", 20001)}, "body"},
		{"ErrBodyCRThenNUL", NewPost{Title: "t", Body: "a\r\x00"}, "body"},

		{"ErrTitleRequired", NewPost{Title: ""}, "title"},
		{"ErrTitleWhitespaceOnly", NewPost{Title: " \t\n  "}, "title"},
		{"ErrTitle201MultiByte", NewPost{Title: strings.Repeat("é", 201)}, "title"},
		{"ErrTitle201Emoji", NewPost{Title: strings.Repeat("😀", 201)}, "title"},
		{"ErrTitleInvalidUTF8", NewPost{Title: "ab\xffcd"}, "title"},
		{"ErrTitleNUL", NewPost{Title: "a\x00b"}, "title"},
		{"ErrTitleESC", NewPost{Title: "a\x1b[31mred"}, "title"},
		{"ErrTitleNEL", NewPost{Title: "a\u0085b"}, "title"},
		{"ErrTitleDEL", NewPost{Title: "a\x7fb"}, "title"},
		{"ErrBody20001", NewPost{Title: "t", Body: strings.Repeat("é", 20001)}, "body"},
		{"ErrBodyInvalidUTF8", NewPost{Title: "t", Body: "\xc3"}, "body"},
		{"ErrBodyNUL", NewPost{Title: "t", Body: "\x00"}, "body"},
		{"ErrBodyESC", NewPost{Title: "t", Body: "\x1b"}, "body"},
		{"ErrBodyNEL", NewPost{Title: "t", Body: "\u0085"}, "body"},
		{"ErrBodyDEL", NewPost{Title: "t", Body: "\x7f"}, "body"},
		{"ErrAuthor65", NewPost{Title: "t", Author: strings.Repeat("ü", 65)}, "author"},
		{"ErrAuthorInvalidUTF8", NewPost{Title: "t", Author: "\xfe\xff"}, "author"},
		{"ErrAuthorNUL", NewPost{Title: "t", Author: "a\x00b"}, "author"},
		{"ErrAuthorESC", NewPost{Title: "t", Author: "a\x1bb"}, "author"},
		{"ErrAuthorNEL", NewPost{Title: "t", Author: "a\u0085b"}, "author"},
		{"ErrAuthorDEL", NewPost{Title: "t", Author: "a\x7fb"}, "author"},
		// The first failing field is the one named.
		{"ErrTitleBeforeBody", NewPost{Title: "", Body: "\x00", Author: "\xff"}, "title"},
		{"ErrBodyBeforeAuthor", NewPost{Title: "t", Body: "\x00", Author: "\xff"}, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			err := in.Normalize()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Normalize(%+q) = %v; want nil", tt.in.Title, err)
				}
				return
			}
			wantInvalid(t, "Normalize()", err, tt.wantField)
		})
	}
}

func TestNewPost_Normalize_Trims(t *testing.T) {
	in := NewPost{Title: " \t Hello \n", Body: "  body stays \n\t", Author: "  Ann  "}
	if err := in.Normalize(); err != nil {
		t.Fatalf("Normalize() = %v; want nil", err)
	}
	want := NewPost{Title: "Hello", Body: "  body stays \n\t", Author: "Ann"}
	if in != want {
		t.Fatalf("Normalize() left %+q; want %+q", in, want)
	}
}

// TestNormalize_LineEndings: CRLF and lone CR become LF in every field of
// a create and an update, whatever else is around them.
func TestNormalize_LineEndings(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"CRLF", "one\r\ntwo\r\n", "one\ntwo\n"},
		{"LoneCR", "one\rtwo\r", "one\ntwo\n"},
		{"CRCRLF", "a\r\r\nb", "a\n\nb"},
		{"LFCR", "a\n\rb", "a\n\nb"},
		{"Mixed", "\r\n\n\r", "\n\n\n"},
		{"LFUntouched", "a\nb", "a\nb"},
		{"CRBetweenMultiByte", "é\r😀\r\né", "é\n😀\né"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := NewPost{Title: "t " + tt.in + " t", Body: tt.in, Author: "a " + tt.in + " a"}
			if err := in.Normalize(); err != nil {
				t.Fatalf("NewPost.Normalize() = %v; want nil", err)
			}
			if want := (NewPost{Title: "t " + tt.want + " t", Body: tt.want, Author: "a " + tt.want + " a"}); in != want {
				t.Errorf("NewPost.Normalize() left %+q; want %+q", in, want)
			}
			p := PostPatch{Version: 1, Title: ptr("t " + tt.in + " t"), Body: ptr(tt.in)}
			if err := p.Normalize(); err != nil {
				t.Fatalf("PostPatch.Normalize() = %v; want nil", err)
			}
			if *p.Title != "t "+tt.want+" t" || *p.Body != tt.want {
				t.Errorf("PostPatch.Normalize() left %q, %q; want %q, %q", *p.Title, *p.Body, "t "+tt.want+" t", tt.want)
			}
		})
	}
	// A title or author that is only line breaks is blank once trimmed.
	blank := NewPost{Title: "\r\n\r"}
	wantInvalid(t, "NewPost{Title: CRLF CR}.Normalize()", blank.Normalize(), "title")
	// Display names are not normalised: CR stays a control character.
	wantInvalid(t, `CheckName("name", "a\r\nb")`, CheckName("name", "a\r\nb"), "name")
}

func TestPostPatch_Normalize(t *testing.T) {
	tests := []struct {
		name      string
		in        PostPatch
		wantField string
	}{
		{"OKTitleOnly", PostPatch{Version: 1, Title: ptr("new")}, ""},
		{"OKBodyOnly", PostPatch{Version: 3, Body: ptr("new body")}, ""},
		{"OKBoth", PostPatch{Version: 2, Title: ptr("t"), Body: ptr("b")}, ""},
		{"OKEmptyBodyClearsIt", PostPatch{Version: 1, Body: ptr("")}, ""},
		{"OKTitle200Emoji", PostPatch{Version: 1, Title: ptr(strings.Repeat("😀", 200))}, ""},
		{"OKBody20000", PostPatch{Version: 1, Body: ptr(strings.Repeat("é", 20000))}, ""},
		{"OKNewlineAndTab", PostPatch{Version: 1, Title: ptr("a\tb"), Body: ptr("a\n\tb")}, ""},
		{"OKCRLFAndCR", PostPatch{Version: 1, Title: ptr("a\rb"), Body: ptr("\r\n\r")}, ""},
		{"ErrBody20001CR", PostPatch{Version: 1, Body: ptr(strings.Repeat("\r", 20001))}, "body"},

		{"ErrVersionMissing", PostPatch{Title: ptr("t")}, "version"},
		{"ErrVersionNegative", PostPatch{Version: -1, Title: ptr("t")}, "version"},
		{"ErrNothingToUpdate", PostPatch{Version: 1}, "title"},
		{"ErrTitleEmpty", PostPatch{Version: 1, Title: ptr("")}, "title"},
		{"ErrTitleWhitespaceOnly", PostPatch{Version: 1, Title: ptr("  \n ")}, "title"},
		{"ErrTitle201", PostPatch{Version: 1, Title: ptr(strings.Repeat("é", 201))}, "title"},
		{"ErrTitleInvalidUTF8", PostPatch{Version: 1, Title: ptr("\xff")}, "title"},
		{"ErrTitleNUL", PostPatch{Version: 1, Title: ptr("a\x00b")}, "title"},
		{"ErrTitleESC", PostPatch{Version: 1, Title: ptr("a\x1bb")}, "title"},
		{"ErrTitleNEL", PostPatch{Version: 1, Title: ptr("a\u0085b")}, "title"},
		{"ErrTitleDEL", PostPatch{Version: 1, Title: ptr("a\x7fb")}, "title"},
		{"ErrBody20001", PostPatch{Version: 1, Body: ptr(strings.Repeat("a", 20001))}, "body"},
		{"ErrBodyInvalidUTF8", PostPatch{Version: 1, Body: ptr("ok\xe2\x82")}, "body"},
		{"ErrBodyNUL", PostPatch{Version: 1, Body: ptr("\x00")}, "body"},
		{"ErrBodyESC", PostPatch{Version: 1, Body: ptr("\x1b")}, "body"},
		{"ErrBodyNEL", PostPatch{Version: 1, Body: ptr("\u0085")}, "body"},
		{"ErrBodyDEL", PostPatch{Version: 1, Body: ptr("\x7f")}, "body"},
		{"ErrVersionBeforeTitle", PostPatch{Title: ptr("")}, "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			err := in.Normalize()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Normalize() = %v; want nil", err)
				}
				return
			}
			wantInvalid(t, "Normalize()", err, tt.wantField)
		})
	}
}

func TestPostPatch_Normalize_TrimsTitleNotBody(t *testing.T) {
	p := PostPatch{Version: 1, Title: ptr("  new title \t"), Body: ptr("  body \n")}
	if err := p.Normalize(); err != nil {
		t.Fatalf("Normalize() = %v; want nil", err)
	}
	if *p.Title != "new title" {
		t.Fatalf("Normalize() title = %q; want %q", *p.Title, "new title")
	}
	if *p.Body != "  body \n" {
		t.Fatalf("Normalize() body = %q; want %q", *p.Body, "  body \n")
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name    string
		field   string
		in      string
		wantErr bool
	}{
		{"OK", "name", "kitchen-laptop", false},
		{"OKOneRune", "name", "k", false},
		{"OK64MultiByte", "name", strings.Repeat("ñ", 64), false},
		{"OKTab", "name", "a\tb", false},
		{"ErrEmpty", "name", "", true},
		{"Err65MultiByte", "name", strings.Repeat("ñ", 65), true},
		{"ErrInvalidUTF8", "name", "\xff", true},
		{"ErrNUL", "name", "a\x00", true},
		{"ErrCR", "name", "a\r", true},
		{"ErrESC", "name", "\x1b", true},
		{"ErrNEL", "name", "\u0085", true},
		{"ErrDEL", "name", "\x7f", true},
		{"ErrNamesGivenField", "peer", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckName(tt.field, tt.in)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("CheckName(%q, %+q) = %v; want nil", tt.field, tt.in, err)
				}
				return
			}
			wantInvalid(t, fmt.Sprintf("CheckName(%q, %+q)", tt.field, tt.in), err, tt.field)
		})
	}
}

func TestTime_MarshalJSON(t *testing.T) {
	plus2 := time.FixedZone("UTC+2", 2*60*60)
	tests := []struct {
		name string
		in   Time
		want string
	}{
		{"Epoch", UnixMilli(0), `"1970-01-01T00:00:00.000Z"`},
		{"WholeSecondKeepsThreeDigits", Time{time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)}, `"2026-11-22T09:30:00.000Z"`},
		{"TrailingZerosKept", UnixMilli(time.Date(2026, 11, 22, 9, 30, 0, 250e6, time.UTC).UnixMilli()), `"2026-11-22T09:30:00.250Z"`},
		{"SubMillisecondsCut", Time{time.Date(2026, 11, 22, 9, 30, 0, 123456789, time.UTC)}, `"2026-11-22T09:30:00.123Z"`},
		{"OffsetShownAsUTC", Time{time.Date(2026, 11, 22, 11, 30, 0, 7e6, plus2)}, `"2026-11-22T09:30:00.007Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantJSON(t, tt.in, tt.want) })
	}
}

func TestTime_UnmarshalJSON(t *testing.T) {
	want := UnixMilli(time.Date(2026, 11, 22, 9, 30, 0, 250e6, time.UTC).UnixMilli())
	tests := []struct {
		name string
		in   string
		want Time
	}{
		{"UTC", `"2026-11-22T09:30:00.250Z"`, want},
		{"PositiveOffset", `"2026-11-22T11:30:00.250+02:00"`, want},
		{"NegativeOffset", `"2026-11-22T04:00:00.250-05:30"`, want},
		{"SubMillisecondsCut", `"2026-11-22T09:30:00.250999999Z"`, want},
		{"NoFraction", `"2026-11-22T09:30:00Z"`, UnixMilli(want.UnixMilli() - 250)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Time
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal(%s) error = %v; want nil", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Unmarshal(%s) = %v; want %v", tt.in, got, tt.want)
			}
			if got.Location() != time.UTC {
				t.Fatalf("Unmarshal(%s) location = %v; want UTC", tt.in, got.Location())
			}
		})
	}
	for _, bad := range []string{`123`, `"yesterday"`, `"2026-11-22 09:30:00Z"`, `"2026-11-22"`, `{}`} {
		t.Run("Err"+bad, func(t *testing.T) {
			var got Time
			if err := json.Unmarshal([]byte(bad), &got); err == nil {
				t.Fatalf("Unmarshal(%s) = %v, nil; want an error", bad, got)
			}
		})
	}
}

func TestTime_JSONRoundTrip(t *testing.T) {
	for _, ms := range []int64{0, 1, 999, 1_795_000_000_123, -1_000, -1} {
		in := UnixMilli(ms)
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("Marshal(%d ms) error = %v", ms, err)
		}
		var out Time
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("Unmarshal(%s) error = %v", b, err)
		}
		if out != in || out.UnixMilli() != ms {
			t.Fatalf("round trip of %d ms = %v (%s); want %v", ms, out, b, in)
		}
	}
}

func TestPost_JSON(t *testing.T) {
	p := Post{
		ID: "0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b", Title: "t", Body: "b", Author: "a",
		Origin:    "0193a1b2-0000-7000-8000-00000000000a",
		CreatedAt: UnixMilli(time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC).UnixMilli()),
		UpdatedAt: UnixMilli(time.Date(2026, 11, 22, 9, 30, 0, 50e6, time.UTC).UnixMilli()),
		Version:   2, Seq: 7,
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("Marshal() error = %v", err)
	}
	want := `{"id":"0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b","title":"t","body":"b","author":"a",` +
		`"origin":"0193a1b2-0000-7000-8000-00000000000a",` +
		`"createdAt":"2026-11-22T09:30:00.000Z","updatedAt":"2026-11-22T09:30:00.050Z","version":2,"deleted":false,"seq":7}`
	if string(b) != want {
		t.Fatalf("Marshal() = %s; want %s", b, want)
	}
	var back Post
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal() error = %v", err)
	}
	if back != p {
		t.Fatalf("Unmarshal(Marshal(p)) = %+v; want %+v", back, p)
	}
}

func TestNow(t *testing.T) {
	before := time.Now().Add(-time.Millisecond)
	n := Now()
	after := time.Now()
	if n.Location() != time.UTC {
		t.Fatalf("Now() location = %v; want UTC", n.Location())
	}
	if n.Nanosecond()%int(time.Millisecond) != 0 {
		t.Fatalf("Now() = %v; want whole milliseconds", n)
	}
	if n.Before(before) || n.After(after) {
		t.Fatalf("Now() = %v; want between %v and %v", n, before, after)
	}
}

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewID_Format(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 36 || !uuidV7.MatchString(id) {
			t.Fatalf("NewID() = %q; want a lowercase UUIDv7 (36 chars, version 7, variant 10)", id)
		}
		if seen[id] {
			t.Fatalf("NewID() = %q twice; want unique ids", id)
		}
		seen[id] = true
	}
}

func TestNewID_Timestamp(t *testing.T) {
	before := time.Now().UnixMilli()
	id := NewID()
	after := time.Now().UnixMilli()
	raw, err := hex.DecodeString(id[0:8] + id[9:13])
	if err != nil {
		t.Fatalf("NewID() = %q: timestamp is not hex: %v", id, err)
	}
	var ms int64
	for _, b := range raw {
		ms = ms<<8 | int64(b)
	}
	// One millisecond of slack: an id made right after a burst (such as the
	// step-back test's) may sit a fraction of a millisecond past the clock.
	if ms < before || ms > after+1 {
		t.Fatalf("NewID() = %s: timestamp %d ms; want the clock's, between %d and %d", id, ms, before, after)
	}
}

func TestRandomToken(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	a, b := RandomToken(16), RandomToken(16)
	if !hex32.MatchString(a) || !hex32.MatchString(b) {
		t.Fatalf("RandomToken(16) = %q, %q; want 32 lowercase hex chars", a, b)
	}
	if a == b {
		t.Fatalf("RandomToken(16) = %q twice; want different tokens", a)
	}
	if got := RandomToken(0); got != "" {
		t.Fatalf("RandomToken(0) = %q; want \"\"", got)
	}
}

func TestError_Error(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"WithField", Invalid("title", "title is required"), "invalid: title is required (field title)"},
		{"WithoutField", Errorf(CodeNotFound, "no post with id %q", "x"), `not_found: no post with id "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Fatalf("Error() = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestError_JSON(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"Invalid", Invalid("body", "body is too long"), `{"code":"invalid","message":"body is too long","field":"body"}`},
		{"NoFieldNoPost", Errorf(CodeNotFound, "gone"), `{"code":"not_found","message":"gone"}`},
		{"ConflictCarriesPost", &Error{Code: CodeConflict, Message: "m", Post: &Post{ID: "p", Version: 3, CreatedAt: UnixMilli(0), UpdatedAt: UnixMilli(0)}},
			`{"code":"conflict","message":"m","post":{"id":"p","title":"","body":"","author":"","origin":"",` +
				`"createdAt":"1970-01-01T00:00:00.000Z","updatedAt":"1970-01-01T00:00:00.000Z","version":3,"deleted":false,"seq":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantJSON(t, tt.err, tt.want) })
	}
}

// wantJSON fails unless v marshals to exactly want.
func wantJSON(t *testing.T, v any, want string) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal() error = %v; want nil", err)
	}
	if string(got) != want {
		t.Fatalf("Marshal() = %s; want %s", got, want)
	}
}

func TestAsError(t *testing.T) {
	conflict := &Error{Code: CodeConflict, Message: "changed meanwhile", Post: &Post{ID: "p"}}
	t.Run("KeepsFeedError", func(t *testing.T) {
		if got := AsError(conflict); got != conflict {
			t.Fatalf("AsError(e) = %v; want the same *Error %v", got, conflict)
		}
	})
	t.Run("UnwrapsFeedError", func(t *testing.T) {
		wrapped := fmt.Errorf("store: update post: %w", conflict)
		if got := AsError(wrapped); got != conflict {
			t.Fatalf("AsError(wrapped) = %v; want %v", got, conflict)
		}
		if got := AsError(wrapped).Code; got != CodeConflict {
			t.Fatalf("AsError(wrapped).Code = %q; want %q", got, CodeConflict)
		}
	})
	t.Run("HidesOtherErrors", func(t *testing.T) {
		secret := fmt.Errorf("store: open /home/ann/.lanfeed/lanfeed.db: %w",
			errors.New("SQL logic error: no such table: posts"))
		got := AsError(secret)
		if got.Code != CodeInternal {
			t.Fatalf("AsError(plain).Code = %q; want %q", got.Code, CodeInternal)
		}
		for _, leak := range []string{"/home/ann", "lanfeed.db", "SQL", "posts"} {
			if strings.Contains(got.Message, leak) || strings.Contains(got.Error(), leak) {
				t.Fatalf("AsError(plain) = %q; want no %q from the hidden error", got.Error(), leak)
			}
		}
		if got.Message == "" || got.Field != "" || got.Post != nil {
			t.Fatalf("AsError(plain) = %+v; want only a code and a generic message", got)
		}
		if code := AsError(secret).Code; code != CodeInternal {
			t.Fatalf("AsError(plain).Code = %q; want %q", code, CodeInternal)
		}
	})
}

func TestNewID_StrictlyIncreasingWithinAMillisecond(t *testing.T) {
	prev, sameMilli := NewID(), 0
	for range 10000 {
		id := NewID()
		if id <= prev {
			t.Fatalf("NewID() = %q after %q; want every id to sort after the previous one", id, prev)
		}
		if id[:13] == prev[:13] { // the 48-bit timestamp
			sameMilli++
		}
		prev = id
	}
	if sameMilli == 0 {
		t.Fatal("no two of 10,000 ids share a millisecond; want a test of ids made within one")
	}
}

// TestNewID_StrictlyIncreasingWhenTheClockStepsBack: inside a synctest
// bubble time.Now starts at 2000-01-01 UTC, decades behind the clock that
// made prev, and stands still until the goroutine sleeps. google/uuid reads
// time.Now, so every id below is made with a clock that stepped back, a
// hundred at a time in the same millisecond.
func TestNewID_StrictlyIncreasingWhenTheClockStepsBack(t *testing.T) {
	prev := NewID()
	synctest.Test(t, func(t *testing.T) {
		for i := range 1000 {
			if i%100 == 99 {
				time.Sleep(time.Millisecond)
			}
			id := NewID()
			if !uuidV7.MatchString(id) {
				t.Fatalf("NewID() = %q; want a UUIDv7", id)
			}
			if id <= prev {
				t.Fatalf("NewID() = %q after %q; want every id to sort after the previous one", id, prev)
			}
			prev = id
		}
	})
}

func TestPost_Validate(t *testing.T) {
	at := UnixMilli(time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC).UnixMilli())
	good := Post{ID: NewID(), Origin: NewID(), Title: "Lunch", Body: "at noon\n\tbring a mug", Author: "Ana",
		CreatedAt: at, UpdatedAt: UnixMilli(at.UnixMilli() + 5), Version: 3, Seq: 99}
	tomb := good
	tomb.Title, tomb.Body, tomb.Deleted = "", "", true
	valid := []struct {
		name string
		p    Post
	}{
		{"Live", good},
		{"Tombstone", tomb},
		{"EmptyBody", func() Post { p := good; p.Body = ""; return p }()},
		{"SeqIsNotChecked", func() Post { p := good; p.Seq = -5; return p }()},
		{"UpdatedEqualsCreated", func() Post { p := good; p.UpdatedAt = p.CreatedAt; return p }()},
		{"MaxLengths", func() Post {
			p := good
			p.Title, p.Body, p.Author = strings.Repeat("é", MaxTitle), strings.Repeat("😀", MaxBody), strings.Repeat("a", MaxAuthor)
			return p
		}()},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.Validate(); err != nil {
				t.Fatalf("Validate() = %v; want nil", err)
			}
		})
	}
	invalid := []struct {
		name  string
		edit  func(*Post)
		field string
	}{
		{"ErrIDNotUUID", func(p *Post) { p.ID = "nope" }, "id"},
		{"ErrIDUpperCase", func(p *Post) { p.ID = strings.ToUpper(p.ID) }, "id"},
		{"ErrIDSQL", func(p *Post) { p.ID = "' OR 1=1; --" + strings.Repeat("x", 24) }, "id"},
		{"ErrOriginEmpty", func(p *Post) { p.Origin = "" }, "origin"},
		{"ErrOriginNotV7", func(p *Post) { p.Origin = "0190a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2b" }, "origin"},
		{"ErrTitleEmpty", func(p *Post) { p.Title = "" }, "title"},
		{"ErrTitleUntrimmed", func(p *Post) { p.Title = " Lunch" }, "title"},
		{"ErrTitleTooLong", func(p *Post) { p.Title = strings.Repeat("x", MaxTitle+1) }, "title"},
		{"ErrTitleControl", func(p *Post) { p.Title = "a\x00b" }, "title"},
		{"ErrBodyTooLong", func(p *Post) { p.Body = strings.Repeat("y", MaxBody+1) }, "body"},
		{"ErrBodyInvalidUTF8", func(p *Post) { p.Body = "\xff" }, "body"},
		{"ErrTombstoneWithTitle", func(p *Post) { p.Deleted = true; p.Body = "" }, "title"},
		{"ErrTombstoneWithBody", func(p *Post) { p.Deleted, p.Title = true, "" }, "title"},
		{"ErrAuthorEmpty", func(p *Post) { p.Author = "" }, "author"},
		{"ErrAuthorUntrimmed", func(p *Post) { p.Author = "Ana\t" }, "author"},
		{"ErrAuthorTooLong", func(p *Post) { p.Author = strings.Repeat("z", MaxAuthor+1) }, "author"},
		{"ErrVersionZero", func(p *Post) { p.Version = 0 }, "version"},
		{"ErrVersionNegative", func(p *Post) { p.Version = -1 }, "version"},
		{"ErrCreatedZeroTime", func(p *Post) { p.CreatedAt = Time{} }, "createdAt"},
		{"ErrCreatedBefore1970", func(p *Post) { p.CreatedAt = UnixMilli(-1) }, "createdAt"},
		{"ErrUpdatedBeforeCreated", func(p *Post) { p.UpdatedAt = UnixMilli(p.CreatedAt.UnixMilli() - 1) }, "updatedAt"},
		{"ErrUpdatedAfter9999", func(p *Post) { p.UpdatedAt = UnixMilli(253402300800000) }, "updatedAt"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.edit(&p)
			wantInvalid(t, "Validate()", p.Validate(), tt.field)
		})
	}
}

func TestCheckID(t *testing.T) {
	for _, id := range []string{NewID(), "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b", "00000000-0000-7000-b000-000000000000"} {
		if err := CheckID("id", id); err != nil {
			t.Errorf("CheckID(%q) = %v; want nil", id, err)
		}
	}
	for _, id := range []string{
		"", "x", "0190a1b2c3d47e5f8a6b7c8d9e0f1a2b", "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2", // no dashes, short
		"0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b0", "{0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b}", // long, braced
		"0190A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B", "0190a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2b", // upper case, version 4
		"0190a1b2-c3d4-7e5f-ca6b-7c8d9e0f1a2b", "0190a1b2_c3d4-7e5f-8a6b-7c8d9e0f1a2b", // variant, separator
		"0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2g", "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1\x00b", // not hex
	} {
		wantInvalid(t, fmt.Sprintf("CheckID(%q)", id), CheckID("node", id), "node")
		if e := AsError(CheckID("node", id)); len(id) > 8 && strings.Contains(e.Message, id) {
			t.Errorf("CheckID(%q) message %q quotes the value; want it left out", id, e.Message)
		}
	}
}
