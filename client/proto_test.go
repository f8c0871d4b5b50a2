package client_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"lanfeed/client"
	"lanfeed/feed"

	"github.com/gorilla/websocket"
)

// badNode is a node on a real loopback port that says hello and then sends
// one scripted frame, and counts the connections it was given.
type badNode struct {
	ts    *httptest.Server
	conns atomic.Int32
}

func newBadNode(t *testing.T, kind int, frame []byte) *badNode {
	t.Helper()
	n := &badNode{}
	up := websocket.Upgrader{}
	n.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		n.conns.Add(1)
		hello := `{"type":"hello","proto":1,"node":{"id":"` + feed.NewID() + `","name":"bad"},"epoch":"e1","seq":0,` +
			`"peer":{"id":"p1","name":"x","since":"2026-01-01T00:00:00.000Z"}}`
		if ws.WriteMessage(websocket.TextMessage, []byte(hello)) != nil || ws.WriteMessage(kind, frame) != nil {
			return
		}
		for { // until the follower hangs up
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(n.ts.Close)
	return n
}

// padded is frame with spaces before its closing brace, size bytes long.
func padded(frame string, size int) []byte {
	return []byte(frame[:len(frame)-1] + strings.Repeat(" ", size-len(frame)) + "}")
}

// A node that breaks the protocol mid-connection stops the Follower with an
// error wrapping ErrProto, after the events before it, and is not redialled:
// what it sends is not a network failure, and the caller decides what to do
// with such a node (the mesh refuses it; tail exits).
func TestFollower_ProtocolBreachStops(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kind  int
		frame []byte
		why   string // in the error
	}{
		{"NotJSON", websocket.TextMessage, []byte(`{"type":"event","event":"posts","seq":`), "malformed frame"},
		{"PostWithoutItsSeq", websocket.TextMessage,
			[]byte(`{"type":"event","event":"posts","seq":9,"data":{"action":"create","post":{"id":"x"}}}`), "malformed frame"},
		{"BinaryFrame", websocket.BinaryMessage, []byte(`{"type":"synced","seq":0}`), "binary frame"},
		{"OverTheLimit", websocket.TextMessage, padded(`{"type":"synced","seq":0}`, feed.MaxMessage+1),
			fmt.Sprintf("over the %d-byte limit", feed.MaxMessage)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			n := newBadNode(t, tc.kind, tc.frame)
			r := follow(t, client.FollowConfig{Config: client.Config{URL: n.ts.URL, NoPresence: true, Resume: &client.Position{}}})
			want[*client.Hello](t, r.next(t))
			err := r.result(t, "after a frame that breaks the protocol")
			if !errors.Is(err, client.ErrProto) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("Run() = %v; want an error wrapping ErrProto saying %q", err, tc.why)
			}
			if len(r.retries) != 0 || n.conns.Load() != 1 {
				t.Errorf("%d retries, %d connections; want the node dialled once", len(r.retries), n.conns.Load())
			}
		})
	}
}

// A frame of exactly the protocol's largest message is read: the limit
// refuses only what no valid node sends.
func TestConn_FrameAtTheLimitIsRead(t *testing.T) {
	n := newBadNode(t, websocket.TextMessage, padded(`{"type":"synced","seq":0}`, feed.MaxMessage))
	c, err := client.Dial(bounded(t), client.Config{URL: n.ts.URL})
	if err != nil {
		t.Fatalf("Dial() = %v", err)
	}
	defer c.Close()
	if s := want[*client.Synced](t, next(t, c)); len(s.Raw()) != feed.MaxMessage {
		t.Fatalf("Synced of %d bytes; want %d", len(s.Raw()), feed.MaxMessage)
	}
}
