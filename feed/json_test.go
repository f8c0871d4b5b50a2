package feed

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// jsonStrings are texts whose JSON escaping differs from the plain bytes:
// every ASCII control character, HTML, quotes, U+2028/U+2029, invalid and
// truncated UTF-8, and text that needs no escape at all.
func jsonStrings() []string {
	s := []string{
		"", "plain text", "line\nbreak\ttab", `"quoted" \back\slash/`, "<script>alert(1)</script> & co",
		"caf\u00e9 \u65e5\u672c \U0001F600", "sep\u2028ara\u2029tors", "bad \xff byte", "cut \xe2\x80", "\xc0\xaf overlong",
		"\xed\xa0\x80 surrogate", "' OR 1=1; --", "\u007f\u0080\u009f\u00a0", strings.Repeat("long body ", 2000),
	}
	var ctl strings.Builder
	for c := range 0x20 {
		ctl.WriteByte(byte(c))
	}
	return append(s, ctl.String())
}

func TestPost_AppendJSONIsJSONMarshal(t *testing.T) {
	at := UnixMilli(time.Date(2026, 12, 1, 9, 5, 7, 89e6, time.UTC).UnixMilli())
	for _, text := range jsonStrings() {
		for _, p := range []Post{
			{ID: NewID(), Title: text, Body: text, Author: text, Origin: NewID(), CreatedAt: at, UpdatedAt: at, Version: 1, Seq: 1},
			{ID: text, Origin: text, Deleted: true, Version: 1 << 62, Seq: -1},
			{}, // the zero Post, zero Times included
		} {
			want, err := json.Marshal(p)
			if err != nil {
				t.Fatalf("json.Marshal(%+v): %v", p, err)
			}
			if got := p.AppendJSON(nil); string(got) != string(want) {
				t.Errorf("AppendJSON(%q) =\n%s\nwant (json.Marshal)\n%s", text, got, want)
			}
		}
	}
}

func TestTime_AppendJSONIsAppendFormat(t *testing.T) {
	times := []time.Time{
		{}, time.UnixMilli(0), time.UnixMilli(1), time.UnixMilli(-1),
		time.Date(2026, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(2026, 2, 3, 4, 5, 6, 7e6, time.FixedZone("CET", 3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.UTC), // sub-millisecond digits are cut, as the layout does
	}
	for _, tm := range times {
		want := `"` + tm.UTC().Format(timeLayout) + `"`
		if got := (Time{tm}).AppendJSON(nil); string(got) != want {
			t.Errorf("Time{%v}.AppendJSON() = %s; want %s", tm, got, want)
		}
	}
}

// FuzzPostJSON holds AppendJSON to json.Marshal for any text and numbers.
func FuzzPostJSON(f *testing.F) {
	for _, s := range jsonStrings() {
		f.Add(s, s, s, int64(1764579907089), int64(1), int64(1), false)
	}
	f.Add("a", "b\u2028", NewID(), int64(-62135596800000), int64(-1), int64(1)<<62, true)
	f.Fuzz(func(t *testing.T, title, body, origin string, ms, version, seq int64, deleted bool) {
		at := UnixMilli(ms)
		p := Post{ID: title, Title: title, Body: body, Author: body, Origin: origin, CreatedAt: at, UpdatedAt: at,
			Version: version, Deleted: deleted, Seq: seq}
		want, err := json.Marshal(p)
		if err != nil {
			t.Skip("not encodable by encoding/json either") // a year beyond 9999 in MarshalJSON's own check
		}
		if got := p.AppendJSON(nil); string(got) != string(want) {
			t.Fatalf("AppendJSON() =\n%s\nwant (json.Marshal)\n%s", got, want)
		}
		// json.Marshal formats times through Time.MarshalJSON, which is
		// AppendJSON itself: hold that to the time package's own layout.
		if got, want := at.AppendJSON(nil), `"`+at.UTC().Format(timeLayout)+`"`; string(got) != want {
			t.Fatalf("Time(%d ms).AppendJSON() = %s; want %s", ms, got, want)
		}
	})
}
