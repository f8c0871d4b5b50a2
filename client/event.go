package client

import (
	"bytes"
	"encoding/json"

	"lanfeed/feed"
)

// Event is one frame from the node, decoded: *Hello, *PostEvent,
// *PeersEvent, *Ack, *Reset, *Synced, *Auth, *ErrorEvent or *Unknown.
// Raw returns the frame exactly as the node sent it.
type Event interface {
	Raw() []byte
	event()
}

// frame is what every Event embeds: the bytes it was decoded from.
type frame struct{ raw []byte }

// Raw returns the frame as the node sent it. The caller must not modify it.
func (f frame) Raw() []byte { return f.raw }
func (frame) event()        {}

// Peer is how the node shows a connected peer to others: the vocabulary's
// feed.Peer, named here so that client code reads on its own.
type Peer = feed.Peer

// Hello is the node's first frame on every connection.
type Hello struct {
	frame
	Proto int       // wire protocol version; this package speaks 1
	Node  feed.Node // who the node is; its ID, not its address, identifies it
	Epoch string    // the node's database; another epoch means other seqs
	Seq   int64     // the node's seq when it said hello: live events are newer
	Peer  Peer      // how other peers see this connection
	// CanWrite reports whether the node accepted the token: without one,
	// emits are refused with feed.CodeUnauthorized.
	CanWrite bool
}

// PostEvent is a change of one post, live or replayed by a resume.
type PostEvent struct {
	frame
	Seq    int64     // the change's seq; equal to Post.Seq
	Action string    // feed.ActionCreate, ActionUpdate or ActionDelete (Post is then the tombstone)
	Post   feed.Post // the post as the change left it
}

// PeersEvent says a peer joined or left. It is not part of the post stream:
// it has no seq. Connections dialled with Config.NoPresence get none.
type PeersEvent struct {
	frame
	Action string // feed.ActionJoin or feed.ActionLeave
	Peer   Peer
	Count  int // peers connected after the change
}

// Ack answers one of this connection's emits: the write is committed. It
// stands in the stream where the change's PostEvent would have been; the
// emitting call returns the same post.
type Ack struct {
	frame
	ID   int64 // the emit's id
	Seq  int64
	Post feed.Post
}

// Reset says the position asked for is not this node's: another epoch, or a
// seq it never reached. Drop every post held from this node; the replay
// that follows starts from 0.
type Reset struct {
	frame
	Epoch string // the node's epoch
}

// Synced ends a replay: every change up to Seq has been sent, and live
// events follow.
type Synced struct {
	frame
	Seq int64
}

// Auth says the connection's write access changed (the node's owner changed
// the pairing token); reading goes on.
type Auth struct {
	frame
	CanWrite bool
	Reason   string
}

// ErrorEvent is an error frame that answers none of this connection's
// pending emits (those return the error to their caller instead), such as a
// malformed message or a refused sync.
type ErrorEvent struct {
	frame
	ID  int64 // the id the frame echoes; 0 if none
	Err *feed.Error
}

// Unknown is a frame this package does not know, from a newer node. Type
// and Event are its "type" and "event" fields.
type Unknown struct {
	frame
	Type  string
	Event string
}

// wireFrame has the fields of every server frame of protocol v1; each type
// uses some of them.
type wireFrame struct {
	Type     string          `json:"type"`
	Event    string          `json:"event"`
	ID       *int64          `json:"id"`
	Seq      int64           `json:"seq"`
	Data     json.RawMessage `json:"data"`
	Proto    int             `json:"proto"`
	Node     feed.Node       `json:"node"`
	Epoch    string          `json:"epoch"`
	Peer     Peer            `json:"peer"`
	CanWrite bool            `json:"canWrite"`
	Reason   string          `json:"reason"`
	Code     string          `json:"code"`
	Message  string          `json:"message"`
	Field    string          `json:"field"`
	Post     *feed.Post      `json:"post"`
}

// postFrame is a posts event read in one pass. A follower's catch-up
// receives these by the hundred thousand, and wireFrame reads each twice:
// the whole frame with its data kept raw, then the data (a fifth of a
// follower's CPU during a catch-up, bench/ANALYSIS.md).
type postFrame struct {
	Type  string `json:"type"`
	Event string `json:"event"`
	Seq   int64  `json:"seq"`
	Data  struct {
		Action string    `json:"action"`
		Post   feed.Post `json:"post"`
	} `json:"data"`
}

// postPrefix starts every posts event a lanfeed node encodes.
var postPrefix = []byte(`{"type":"event","event":"posts"`)

// decode turns one frame into its Event. It checks what the rest of the
// package relies on (a post event's seq, an ack's id), not every rule the
// node promises: callers that apply posts validate them like any write.
//
// A posts event laid out byte for byte as feed.EncodePostEvent writes it
// is read by decodeCanonicalPost without encoding/json. Another posts
// event takes the one-pass postFrame; anything
// it does not read as a valid posts event (another type after all, a bad
// seq, a JSON error) goes through decodeFrame, which has the last word and
// the error messages. They differ only on frames no node encodes: postFrame
// ignores a field a posts event does not carry even when it has the wrong
// JSON type, and merges a repeated "data" where the last one wins in
// decodeFrame. Either way the post is then validated like any write.
func decode(raw []byte) (Event, error) {
	if seq, action, p, ok := decodeCanonicalPost(raw); ok && seq >= 1 && p.Seq == seq {
		return &PostEvent{frame{raw}, seq, action, p}, nil
	}
	if bytes.HasPrefix(raw, postPrefix) {
		var p postFrame
		if json.Unmarshal(raw, &p) == nil && p.Type == "event" && p.Event == "posts" && p.Seq >= 1 && p.Data.Post.Seq == p.Seq {
			return &PostEvent{frame{raw}, p.Seq, p.Data.Action, p.Data.Post}, nil
		}
	}
	return decodeFrame(raw)
}

// decodeFrame is decode for any frame.
func decodeFrame(raw []byte) (Event, error) {
	var w wireFrame
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, malformed(raw, err.Error())
	}
	f := frame{raw}
	switch w.Type {
	case "hello":
		return &Hello{f, w.Proto, w.Node, w.Epoch, w.Seq, w.Peer, w.CanWrite}, nil
	case "event":
		switch w.Event {
		case "posts":
			var d struct {
				Action string    `json:"action"`
				Post   feed.Post `json:"post"`
			}
			if err := json.Unmarshal(w.Data, &d); err != nil {
				return nil, malformed(raw, err.Error())
			}
			if w.Seq < 1 || d.Post.Seq != w.Seq {
				return nil, malformed(raw, "a posts event needs a seq, the same as its post's")
			}
			return &PostEvent{f, w.Seq, d.Action, d.Post}, nil
		case "peers":
			var d struct {
				Action string `json:"action"`
				Peer   Peer   `json:"peer"`
				Count  int    `json:"count"`
			}
			if err := json.Unmarshal(w.Data, &d); err != nil {
				return nil, malformed(raw, err.Error())
			}
			return &PeersEvent{f, d.Action, d.Peer, d.Count}, nil
		}
	case "ack":
		var p feed.Post
		if err := json.Unmarshal(w.Data, &p); err != nil {
			return nil, malformed(raw, err.Error())
		}
		if w.ID == nil || w.Seq < 1 || p.Seq != w.Seq {
			return nil, malformed(raw, "an ack needs an id and a seq, the same as its post's")
		}
		return &Ack{f, *w.ID, w.Seq, p}, nil
	case "reset":
		return &Reset{f, w.Epoch}, nil
	case "synced":
		return &Synced{f, w.Seq}, nil
	case "auth":
		return &Auth{f, w.CanWrite, w.Reason}, nil
	case "error":
		e := &ErrorEvent{frame: f, Err: &feed.Error{Code: w.Code, Message: w.Message, Field: w.Field, Post: w.Post}}
		if w.ID != nil {
			e.ID = *w.ID
		}
		return e, nil
	}
	return &Unknown{f, w.Type, w.Event}, nil
}
