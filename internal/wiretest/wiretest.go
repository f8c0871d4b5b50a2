// Package wiretest decodes the frames of wire protocol v1 for tests, with
// the field names docs/PROTOCOL.md documents and types of its own: not the
// server's (feed, realtime), so that a field the server renames or drops
// fails a test instead of following along silently.
//
// It also builds the worst case a writer can send (worst.go): texts at
// the post limits escaped in the most bytes, and posts one character over.
//
// It is internal test support for the hub's tests, the desktop's, the
// lanfeedd end-to-end tests and the reliability tests; Go programs that
// talk to a node use lanfeed/client.
package wiretest

import (
	"encoding/json"
	"testing"
)

// Frame is any frame a node sends, decoded loosely: each frame type sets
// the fields it has.
type Frame struct {
	Type     string          `json:"type"`
	Event    string          `json:"event"`
	Seq      int64           `json:"seq"`
	ID       *int64          `json:"id"` // ack and error: the emit's id
	Code     string          `json:"code"`
	Message  string          `json:"message"`
	Field    string          `json:"field"`
	Post     *Post           `json:"post"` // error: the current post of a conflict
	Epoch    string          `json:"epoch"`
	Proto    int             `json:"proto"`
	Node     Node            `json:"node"`
	Peer     Peer            `json:"peer"`
	CanWrite bool            `json:"canWrite"`
	Reason   string          `json:"reason"`
	Data     json.RawMessage `json:"data"`

	Raw []byte `json:"-"` // the frame as it came
}

// Node is a node's identity as hello and /api/info show it.
type Node struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Peer is a connected peer as hello and peers events show it.
type Peer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Since string `json:"since"`
}

// Post is a post as the wire carries it; times stay strings, compared as
// the node sent them.
type Post struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Author    string `json:"author"`
	Origin    string `json:"origin"` // the node that owns the post
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	Version   int64  `json:"version"`
	Deleted   bool   `json:"deleted"`
	Seq       int64  `json:"seq"`
}

// PostData is the data of a posts event.
type PostData struct {
	Action string `json:"action"`
	Post   Post   `json:"post"`
}

// PeersData is the data of a peers event.
type PeersData struct {
	Action string `json:"action"`
	Peer   Peer   `json:"peer"`
	Count  int    `json:"count"`
}

// Decode parses one frame and keeps its bytes in Raw.
func Decode(raw []byte) (Frame, error) {
	var f Frame
	err := json.Unmarshal(raw, &f)
	f.Raw = raw
	return f, err
}

// String returns the frame as it came.
func (f Frame) String() string { return string(f.Raw) }

// IsPost reports whether f is a posts event.
func (f Frame) IsPost() bool { return f.Type == "event" && f.Event == "posts" }

// IsPeers reports whether f is a peers event.
func (f Frame) IsPeers() bool { return f.Type == "event" && f.Event == "peers" }

// EmitID returns the id an ack or error echoes, or 0 if it has none.
func (f Frame) EmitID() int64 {
	if f.ID == nil {
		return 0
	}
	return *f.ID
}

// PostData decodes the data of a posts event or fails the test.
func (f Frame) PostData(tb testing.TB) PostData {
	tb.Helper()
	var d PostData
	if err := json.Unmarshal(f.Data, &d); err != nil {
		tb.Fatalf("posts event data %s: %v", f.Data, err)
	}
	return d
}

// PostEvent checks that f is a posts event whose post carries the event's
// seq, and returns its action and post; otherwise it fails the test.
func (f Frame) PostEvent(tb testing.TB) (action string, p Post) {
	tb.Helper()
	if !f.IsPost() {
		tb.Fatalf("frame %s; want a posts event", f.Raw)
	}
	d := f.PostData(tb)
	if d.Post.Seq != f.Seq {
		tb.Fatalf("posts event %s: post seq %d; want the event's seq %d", f.Raw, d.Post.Seq, f.Seq)
	}
	return d.Action, d.Post
}

// AckPost decodes the data of an ack, the committed post, or fails the test.
func (f Frame) AckPost(tb testing.TB) Post {
	tb.Helper()
	var p Post
	if err := json.Unmarshal(f.Data, &p); err != nil {
		tb.Fatalf("ack data %s: %v", f.Data, err)
	}
	return p
}
