package feed

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEncodePostEvent_SameBytesAsEncodingJSON(t *testing.T) {
	at := UnixMilli(time.Date(2026, 12, 1, 9, 5, 7, 89e6, time.UTC).UnixMilli())
	posts := []Post{
		{ID: NewID(), Title: "Lunch <b>&</b> \"soup\"", Body: "line 1\nline 2\t\u2028 caf\u00e9 \xff",
			Author: "L\u00e9a", Origin: NewID(), CreatedAt: at, UpdatedAt: at, Version: 1, Seq: 42},
		{ID: NewID(), Author: "bob", Origin: "<&\u2028>", CreatedAt: at, UpdatedAt: at, Version: 3, Deleted: true, Seq: 1 << 53},
		{Title: strings.Repeat("x", 200)}, // seq 0: omitted from the event, as omitempty does
	}
	for _, p := range posts {
		for _, action := range []string{ActionCreate, ActionUpdate, ActionDelete} {
			want, err := json.Marshal(Envelope{Type: "event", Event: EventPosts, Seq: p.Seq, Data: PostData{Action: action, Post: p}})
			if err != nil {
				t.Fatal(err)
			}
			if got := EncodePostEvent(action, p); string(got) != string(want) {
				t.Errorf("EncodePostEvent(%s, seq %d) =\n%s\nwant (encoding/json)\n%s", action, p.Seq, got, want)
			}
		}
	}
}

func TestActionOf(t *testing.T) {
	for _, tt := range []struct {
		p    Post
		want string
	}{
		{Post{Version: 1}, ActionCreate},
		{Post{Version: 2}, ActionUpdate},
		{Post{Version: 1, Deleted: true}, ActionDelete},
		{Post{Version: 5, Deleted: true}, ActionDelete},
	} {
		if got := ActionOf(tt.p); got != tt.want {
			t.Errorf("ActionOf(version %d, deleted %v) = %q; want %q", tt.p.Version, tt.p.Deleted, got, tt.want)
		}
	}
}
