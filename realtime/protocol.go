package realtime

import (
	"encoding/json"
	"strconv"

	"lanfeed/feed"
)

// Proto is the wire protocol version announced in hello.
const Proto = 1

// OriginSelf is the value of /ws?origin= with which a follower asks for the
// posts this node originated only, replayed and live (see PROTOCOL.md).
const OriginSelf = "self"

// Emit event names a peer may send.
const (
	EmitCreate = "posts.create"
	EmitUpdate = "posts.update"
	EmitDelete = "posts.delete"
)

// maxWriteJSON is the default limit of a message and of a REST body:
// feed.MaxMessage, the largest valid write JSON-escaped in the worst way
// (see there how it is derived).
const maxWriteJSON = feed.MaxMessage

type helloFrame struct {
	Type     string    `json:"type,omitempty"`
	Proto    int       `json:"proto"`
	Node     feed.Node `json:"node"`
	Epoch    string    `json:"epoch"`
	Seq      int64     `json:"seq"`
	Peer     feed.Peer `json:"peer"`
	CanWrite bool      `json:"canWrite"`
}

type errorFrame struct {
	Type string `json:"type"`
	ID   *int64 `json:"id,omitempty"`
	*feed.Error
}

// authFrame tells a peer its write access changed (the token was rotated).
type authFrame struct {
	Type     string `json:"type,omitempty"`
	CanWrite bool   `json:"canWrite"`
	Reason   string `json:"reason"`
}

type seqFrame struct { // synced
	Type string `json:"type"`
	Seq  int64  `json:"seq"`
}

type resetFrame struct {
	Type  string `json:"type"`
	Epoch string `json:"epoch"`
}

// inbound is any message a peer sends; fields unused by its type are ignored.
type inbound struct {
	Type  string          `json:"type"`
	ID    *int64          `json:"id"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	Since *int64          `json:"since"`
	Epoch string          `json:"epoch"`
}

// emitUpdate and emitDelete are the data of posts.update and posts.delete.
type emitUpdate struct {
	ID string `json:"id"`
	feed.PostPatch
}

type emitDelete struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
}

// EncodeAck returns the ack a peer gets for its emit id that committed p.
func EncodeAck(id int64, p feed.Post) []byte {
	// By hand like feed.EncodePostEvent; the same bytes as encoding/json gives for
	// {type, id, seq, data} (protocol_internal_test.go compares them).
	b := make([]byte, 0, feed.PostFrameSize(p))
	b = append(b, `{"type":"ack","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, p.Seq, 10)
	b = append(b, `,"data":`...)
	b = p.AppendJSON(b)
	return append(b, '}')
}

func encodeError(id *int64, e *feed.Error) []byte {
	return mustJSON(errorFrame{Type: "error", ID: id, Error: e})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("realtime: encode frame: " + err.Error()) // only our own fixed types get here
	}
	return b
}
