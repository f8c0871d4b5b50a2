package realtime

import (
	"strings"
	"testing"
	"time"

	"lanfeed/feed"
)

// ackFrame is the shape of an ack, encoded by encoding/json for comparison
// with EncodeAck.
type ackFrame struct {
	Type string    `json:"type"`
	ID   int64     `json:"id"`
	Seq  int64     `json:"seq"`
	Data feed.Post `json:"data"`
}

func TestEncodeAck_SameBytesAsEncodingJSON(t *testing.T) {
	at := feed.UnixMilli(time.Date(2026, 12, 1, 9, 5, 7, 89e6, time.UTC).UnixMilli())
	posts := []feed.Post{
		{ID: feed.NewID(), Title: "Lunch <b>&</b> \"soup\"", Body: "line 1\nline 2\t\u2028 caf\u00e9 \xff",
			Author: "L\u00e9a", CreatedAt: at, UpdatedAt: at, Version: 1, Seq: 42},
		{ID: feed.NewID(), Author: "bob", CreatedAt: at, UpdatedAt: at, Version: 3, Deleted: true, Seq: 1 << 53},
		{Title: strings.Repeat("x", 200)}, // seq 0: omitted from the event, as omitempty does
	}
	for _, p := range posts {
		for _, id := range []int64{0, 7, -3, 1<<63 - 1} {
			want := mustJSON(ackFrame{Type: "ack", ID: id, Seq: p.Seq, Data: p})
			if got := EncodeAck(id, p); string(got) != string(want) {
				t.Errorf("EncodeAck(%d, seq %d) =\n%s\nwant (encoding/json)\n%s", id, p.Seq, got, want)
			}
		}
	}
}
