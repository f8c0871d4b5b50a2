package loadgen

import (
	"testing"
	"time"
)

func TestHist_Quantile(t *testing.T) {
	var h Hist
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.Quantile(c.q)
		if d := got - c.want; d < 0 || d > c.want/50 { // buckets are 1/64 wide, upper bound reported
			t.Errorf("Quantile(%v) = %v; want %v within 2%%", c.q, got, c.want)
		}
	}
	if h.Count() != 1000 {
		t.Errorf("Count() = %d; want 1000", h.Count())
	}
}

func TestHist_Empty(t *testing.T) {
	var h Hist
	if got := h.Quantile(0.99); got != 0 {
		t.Errorf("Quantile(0.99) of nothing = %v; want 0", got)
	}
}

// What the publisher writes must be what a peer reads back, for both
// protocols, once the server has wrapped it in its event.
func TestPostBody_RoundTrip(t *testing.T) {
	for _, c := range []struct{ proto, event string }{
		{Lanfeed, `{"type":"event","event":"posts","seq":7,"data":{"action":"create","post":{"id":"01a2","title":"bench","body":"42 123456789","author":"x","origin":"01a3","seq":7}}}`},
		{SocketIO, `42["posts",{"action":"create","post":{"id":"u","title":"bench","body":"42 123456789","author":"bench","seq":7}}]`},
		{LanfeedSIO, `42["posts",{"action":"create","post":{"id":"01a2","title":"bench","body":"42 123456789","author":"x","origin":"01a3","seq":7}},"7"]`},
	} {
		if k := classify(c.proto, []byte(c.event)); k != msgPost {
			t.Errorf("classify(%s event) = %d; want msgPost", c.proto, k)
		}
		idx, sent, ok := postBody([]byte(c.event))
		if !ok || idx != 42 || sent != 123456789 {
			t.Errorf("postBody(%s event) = %d, %d, %v; want 42, 123456789, true", c.proto, idx, sent, ok)
		}
		emit := emitFrame(c.proto, nil, 42, 123456789)
		if idx, sent, ok := postBody(emit); !ok || idx != 42 || sent != 123456789 {
			t.Errorf("postBody(emitFrame(%s)) = %d, %d, %v; want 42, 123456789, true (frame %s)", c.proto, idx, sent, ok, emit)
		}
	}
}

func TestAnswer(t *testing.T) {
	for _, c := range []struct {
		proto, msg string
		kind, id   int
	}{
		{Lanfeed, `{"type":"ack","id":17,"seq":3,"data":{}}`, ansAck, 17},
		{Lanfeed, `{"type":"error","id":18,"code":"rate_limited","message":"slow down"}`, ansError, 18},
		{Lanfeed, `{"type":"event","event":"peers","data":{}}`, ansOther, 0},
		{SocketIO, `4317[{"seq":3}]`, ansAck, 17},
		{SocketIO, `4318[{"error":{"code":"invalid"}}]`, ansError, 18},
		{LanfeedSIO, `4317[{"id":"01a2","title":"bench","seq":3}]`, ansAck, 17},
		{LanfeedSIO, `4318[{"error":{"code":"rate_limited","message":"slow down"}}]`, ansError, 18},
	} {
		kind, id := answer(c.proto, []byte(c.msg))
		if kind != c.kind || id != c.id {
			t.Errorf("answer(%s, %s) = %d, %d; want %d, %d", c.proto, c.msg, kind, id, c.kind, c.id)
		}
	}
}
