package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"lanfeed/feed"
)

func TestWsURL(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"HTTP", Config{URL: "http://192.168.1.5:7700"}, "ws://192.168.1.5:7700/ws"},
		{"HTTPSlash", Config{URL: "http://192.168.1.5:7700/"}, "ws://192.168.1.5:7700/ws"},
		{"HTTPS", Config{URL: "https://feed.lan"}, "wss://feed.lan/ws"},
		{"WS", Config{URL: "ws://192.168.1.5:7700/ws"}, "ws://192.168.1.5:7700/ws"},
		{"HostPort", Config{URL: "192.168.1.5:7700"}, "ws://192.168.1.5:7700/ws"},
		{"OtherPathKept", Config{URL: "http://proxy.lan/lanfeed/ws#top"}, "ws://proxy.lan/lanfeed/ws"},
		{"EverythingAsked", Config{URL: "h:1", Name: "bob smith", Token: "t0k", NoPresence: true, Resume: &Position{Epoch: "e1", Seq: 41}},
			"ws://h:1/ws?epoch=e1&name=bob+smith&presence=0&since=41&token=t0k"},
		{"ResumeWholeFeed", Config{URL: "h:1", Resume: &Position{}}, "ws://h:1/ws?since=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := wsURL(tt.cfg); err != nil || got.String() != tt.want {
				t.Errorf("wsURL(%+v) = %v, %v; want %q", tt.cfg, got, err, tt.want)
			}
		})
	}
	for raw, want := range map[string]string{
		"ftp://h:1":  "scheme must be http or ws",
		"http://":    "is not a node URL",
		"http://h:x": "is not a node URL",
	} {
		if _, err := wsURL(Config{URL: raw}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("wsURL(%q) = %v; want an error saying %q", raw, err, want)
		}
	}
}

// Frames that break what the package relies on are refused, not guessed
// at; frames of a newer protocol pass as Unknown.
func TestDecode(t *testing.T) {
	for _, raw := range []string{
		`not json`,
		`{"type":"event","event":"posts","data":{"action":"create","post":{"id":"x","seq":0}}}`,
		`{"type":"event","event":"posts","seq":5,"data":{"action":"create","post":{"id":"x","seq":4}}}`,
		`{"type":"ack","seq":5,"data":{"id":"x","seq":5}}`,
		`{"type":"ack","id":1,"seq":5,"data":"x"}`,
	} {
		if ev, err := decode([]byte(raw)); !errors.Is(err, ErrProto) || !strings.Contains(err.Error(), "malformed frame") {
			t.Errorf("decode(%s) = %T, %v; want a malformed frame error wrapping ErrProto", raw, ev, err)
		}
	}
	raw := `{"type":"event","event":"typing","data":{"peer":"p7"}}`
	ev, err := decode([]byte(raw))
	if u, ok := ev.(*Unknown); err != nil || !ok || u.Type != "event" || u.Event != "typing" || string(u.Raw()) != raw {
		t.Errorf("decode(%s) = %#v, %v; want Unknown event typing with its raw bytes", raw, ev, err)
	}
	raw = `{"type":"error","id":7,"code":"invalid","message":"title is required","field":"title"}`
	ev, err = decode([]byte(raw))
	if e, ok := ev.(*ErrorEvent); err != nil || !ok || e.ID != 7 || e.Err.Code != "invalid" || e.Err.Field != "title" {
		t.Errorf("decode(%s) = %#v, %v; want ErrorEvent 7 invalid title", raw, ev, err)
	}
}

// decode's one-pass path for posts events reads every frame as
// decodeFrame does: the same event, or an error for the same frames.
func TestDecode_PostsFastPathMatchesDecodeFrame(t *testing.T) {
	post := `{"id":"01a234c9-0b4c-7c10-864b-ef7dadeb95cd","title":"t","body":"b","author":"a",` +
		`"origin":"01a234c9-0b4c-7c10-864b-ef7dadeb95ce","createdAt":"2026-12-02T03:00:00.000Z",` +
		`"updatedAt":"2026-12-02T03:00:00.000Z","version":2,"deleted":false,"seq":%d}`
	frame := func(seq, postSeq int, tail string) string {
		return fmt.Sprintf(`{"type":"event","event":"posts","seq":%d,"data":{"action":"update","post":`+post+`}%s}`,
			seq, postSeq, tail)
	}
	for _, raw := range []string{
		frame(7, 7, ""),
		frame(7, 7, `,"proto":1,"epoch":"e"`),
		frame(7, 6, ""),                // seqs differ
		frame(0, 0, ""),                // no seq
		frame(7, 7, `,"type":"hello"`), // the last type wins: a hello after all
		frame(7, 7, `,"event":"peers"`),
		`{"type":"event","event":"posts","seq":7,"data":null}`,
		`{"type":"event","event":"posts","seq":7,"data":{"post":"x"}}`,
		`{"type":"event","event":"posts","seq":7,"data":{"action":"create","post":{"seq":7}}`, // cut short
	} {
		got, gotErr := decode([]byte(raw))
		want, wantErr := decodeFrame([]byte(raw))
		if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("decode(%s) = %#v, %v; want %#v, %v (decodeFrame)", raw, got, gotErr, want, wantErr)
		}
	}
}

// BenchmarkDecode_PostEvent compares the one-pass path with decodeFrame on
// a posts event as a node encodes it.
func BenchmarkDecode_PostEvent(b *testing.B) {
	raw := []byte(`{"type":"event","event":"posts","seq":7,"data":{"action":"create","post":{` +
		`"id":"01a234c9-0b4c-7c10-864b-ef7dadeb95cd","title":"post 7","body":"` + strings.Repeat("seeded post body. ", 6) +
		`","author":"bench","origin":"01a234c9-0b4c-7c10-864b-ef7dadeb95ce","createdAt":"2026-12-02T03:00:00.000Z",` +
		`"updatedAt":"2026-12-02T03:00:00.000Z","version":1,"deleted":false,"seq":7}}}`)
	for _, c := range []struct {
		name string
		fn   func([]byte) (Event, error)
	}{{"decode", decode}, {"decodeFrame", decodeFrame}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ev, err := c.fn(raw); err != nil {
					b.Fatalf("%s() = %v, %v; want a PostEvent", c.name, ev, err)
				}
			}
		})
	}
}

// canonicalPosts are posts whose frames, as nodes encode them, the
// canonical reader must take: every escape feed.AppendJSONString writes.
var canonicalPosts = []feed.Post{
	{ID: "01a234c9-0b4c-7c10-864b-ef7dadeb95cd", Title: "post 7", Body: strings.Repeat("seeded post body. ", 6),
		Author: "bench", Origin: "01a234c9-0b4c-7c10-864b-ef7dadeb95ce",
		CreatedAt: feed.UnixMilli(1764644400000), UpdatedAt: feed.UnixMilli(1764644400123), Version: 1, Seq: 7},
	{ID: "x", Title: `"quoted" \ back\slash / <b>&amp;</b>`, Body: "line 1\nline 2\r\n\ttab \b\f \x00 \x1f \x7f",
		Author: "Zoë 日本 🍲", Origin: "o", CreatedAt: feed.UnixMilli(0), UpdatedAt: feed.UnixMilli(253402300799999),
		Version: 9223372036854775807, Deleted: true, Seq: 1},
	{ID: "y", Title: "\u2028 and \u2029", Body: "bad \xff\xfe utf-8", Author: "", Origin: "", Version: 0, Seq: 1234567890123},
}

// The canonical reader takes what nodes encode, and reads it as
// decodeFrame does.
func TestDecodeCanonicalPost_ReadsWhatNodesEncode(t *testing.T) {
	for _, p := range canonicalPosts {
		raw := feed.EncodePostEvent("update", p)
		seq, action, got, ok := decodeCanonicalPost(raw)
		want, err := decodeFrame(raw)
		if !ok || err != nil {
			t.Fatalf("decodeCanonicalPost(%s) ok = %v, decodeFrame error %v; want true and nil", raw, ok, err)
		}
		if ev := (&PostEvent{frame{raw}, seq, action, got}); !reflect.DeepEqual(Event(ev), want) {
			t.Errorf("decodeCanonicalPost(%s) = %#v; want %#v (decodeFrame)", raw, ev, want)
		}
	}
}

// What it cannot read with certainty it leaves to encoding/json.
func TestDecodeCanonicalPost_LeavesTheRest(t *testing.T) {
	raw := string(feed.EncodePostEvent("create", canonicalPosts[0]))
	for _, bad := range []string{
		strings.Replace(raw, `"title":`, `"title" :`, 1), // a space
		strings.Replace(raw, `"seq":7}}}`, `"seq":7},"x":1}}`, 1),
		strings.Replace(raw, `"version":1`, `"version":1.0`, 1),
		strings.Replace(raw, `"version":1`, `"version":-1`, 1),
		strings.Replace(raw, `"version":1`, `"version":01`, 1),
		strings.Replace(raw, `"version":1`, `"version":99999999999999999999`, 1),
		strings.Replace(raw, `"post 7"`, `"\ud83c\udf72"`, 1), // a surrogate pair
		strings.Replace(raw, `"post 7"`, `"\x"`, 1),
		strings.Replace(raw, `"post 7"`, "\"a\xffb\"", 1),
		strings.Replace(raw, `"post 7"`, "\"a\nb\"", 1),
		strings.Replace(raw, `"post 7"`, `"\u12"`, 1),
		strings.Replace(raw, `"deleted":false`, `"deleted":null`, 1),
		strings.Replace(raw, `"2025-12-02T03:00:00.123Z"`, `"yesterday"`, 1),
		raw + " ",
		raw[:len(raw)-1],
		raw[:len(raw)/2],
	} {
		if bad == raw {
			t.Fatalf("test case does not change the frame: %s", bad)
		}
		if _, _, p, ok := decodeCanonicalPost([]byte(bad)); ok {
			t.Errorf("decodeCanonicalPost(%s) = %+v, ok; want it left to encoding/json", bad, p)
		}
	}
}

// FuzzDecodeCanonicalPost: whatever the canonical reader takes,
// encoding/json reads as the same event.
func FuzzDecodeCanonicalPost(f *testing.F) {
	for _, p := range canonicalPosts {
		f.Add(feed.EncodePostEvent("create", p))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		seq, action, p, ok := decodeCanonicalPost(raw)
		if !ok {
			return
		}
		var want postFrame
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("decodeCanonicalPost(%q) took a frame encoding/json refuses: %v", raw, err)
		}
		if want.Type != "event" || want.Event != "posts" || want.Seq != seq || want.Data.Action != action || !reflect.DeepEqual(want.Data.Post, p) {
			t.Fatalf("decodeCanonicalPost(%q) = %d %q %#v; encoding/json reads %#v", raw, seq, action, p, want)
		}
	})
}
