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

// Size limits. A peer's message and a REST body may be as large as the
// largest valid write JSON-escaped in the worst way, so that every post
// within feed's limits (counted in code points) gets through on every
// transport, and the web UI's counter agrees with the node. JSON lets a
// writer spell any character as a \uXXXX escape, and encoders do (Python's
// json.dumps escapes all of non-ASCII by default), so:
//
//   - an ASCII character takes at most 6 bytes (\u0074);
//   - a counted code point takes at most 12: one outside the BMP as a
//     surrogate pair (\ud83d\ude00), or a CRLF, which counts as one once
//     normalised to LF (\u000d\u000a). One in the BMP takes 6 at most.
//
// The largest write is a create with every field at its limit:
//
//	{"type":"emit","id":-9223372036854775808,"event":"posts.create","data":
//	 {"title":"<200>","body":"<20000>","author":"<64>"}}
//
// An update's data (id, version, title, body) is smaller, and a REST body
// is the data alone; limits_test.go builds each worst case and sends it.
// Surrounding white space that Normalize trims from a title or author is
// not counted by the limits, nor bounded here.
const (
	escapedASCII = 6
	escapedRune  = 12
	// maxCreateJSON is the worst case of a create's data (a NewPost).
	maxCreateJSON = 2 + 2 + 3 + // braces, two commas, three colons
		(len("title")+len("body")+len("author"))*escapedASCII + 3*2 + // keys, quoted
		(feed.MaxTitle+feed.MaxBody+feed.MaxAuthor)*escapedRune + 3*2 // values, quoted
	// maxEmitEnvelope is the worst case of an emit around its data.
	maxEmitEnvelope = 2 + 3 + 4 + // braces, three commas, four colons
		(len("type")+len("id")+len("event")+len("data"))*escapedASCII + 4*2 + // keys, quoted
		len("emit")*escapedASCII + 2 + len("-9223372036854775808") + len(EmitCreate)*escapedASCII + 2
	// jsonSlack is room for white space between tokens, which JSON does
	// not bound (pretty-printing adds some), and for a post a few
	// characters over a limit: it should hear which field is too long,
	// not lose its connection.
	jsonSlack = 1 << 10
	// maxWriteJSON is the default limit of a message and of a REST body:
	// 244,528 bytes with today's post limits.
	maxWriteJSON = maxEmitEnvelope + maxCreateJSON + jsonSlack
)

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
