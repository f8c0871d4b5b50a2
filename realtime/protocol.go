package realtime

import (
	"encoding/json"
	"strconv"

	"lanfeed/feed"
)

// Proto is the wire protocol version announced in hello.
const Proto = 1

// Event names and the actions they carry.
const (
	EventPosts = "posts"
	EventPeers = "peers"

	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
	ActionJoin   = "join"
	ActionLeave  = "leave"
)

// Emit event names a peer may send.
const (
	EmitCreate = "posts.create"
	EmitUpdate = "posts.update"
	EmitDelete = "posts.delete"
)

// Identity is who this node is: what hello and /api/info announce.
type Identity struct {
	Node  feed.Node
	Epoch string
}

// PeerInfo describes a connected peer to other peers.
type PeerInfo struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	Since feed.Time `json:"since"`
}

// Origin names the peer whose emit caused a change, so that the change is
// broadcast to every other peer and answered to this one with an ack. The
// zero Origin (a write from REST or the desktop window) reaches every peer.
type Origin struct {
	Peer   uint64 // 0: no peer
	EmitID int64  // the emit's id, echoed in the ack
}

// PostData is the data of a posts event.
type PostData struct {
	Action string    `json:"action"`
	Post   feed.Post `json:"post"`
}

// PeersData is the data of a peers event.
type PeersData struct {
	Action string   `json:"action"`
	Peer   PeerInfo `json:"peer"`
	Count  int      `json:"count"`
}

// eventFrame is the envelope every consumer of an event receives.
type eventFrame struct {
	Type  string `json:"type"`
	Event string `json:"event"`
	Seq   int64  `json:"seq,omitempty"`
	Data  any    `json:"data"`
}

type helloFrame struct {
	Type     string    `json:"type"`
	Proto    int       `json:"proto"`
	Node     feed.Node `json:"node"`
	Epoch    string    `json:"epoch"`
	Seq      int64     `json:"seq"`
	Peer     PeerInfo  `json:"peer"`
	CanWrite bool      `json:"canWrite"`
}

type errorFrame struct {
	Type string `json:"type"`
	ID   *int64 `json:"id,omitempty"`
	*feed.Error
}

// authFrame tells a peer its write access changed (the token was rotated).
type authFrame struct {
	Type     string `json:"type"`
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

// EncodePostEvent returns the envelope of a posts event. Encoding a Post
// cannot fail, so neither can this.
func EncodePostEvent(action string, p feed.Post) []byte {
	// Written by hand, the same bytes as mustJSON(eventFrame{...}) (the
	// tests compare both): this runs for every change and every replayed post.
	b := make([]byte, 0, postFrameSize(p))
	b = append(b, `{"type":"event","event":"posts"`...)
	if p.Seq != 0 { // omitempty
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, p.Seq, 10)
	}
	b = append(b, `,"data":{"action":`...)
	b = feed.AppendJSONString(b, action)
	b = append(b, `,"post":`...)
	b = p.AppendJSON(b)
	return append(b, '}', '}')
}

// postFrameSize is room enough for a post frame without escapes, so most
// encodings allocate once.
func postFrameSize(p feed.Post) int {
	return 256 + len(p.ID) + len(p.Title) + len(p.Body) + len(p.Author)
}

// EncodePeersEvent returns the envelope of a peers event.
func EncodePeersEvent(action string, peer PeerInfo, count int) []byte {
	return mustJSON(eventFrame{Type: "event", Event: EventPeers, Data: PeersData{Action: action, Peer: peer, Count: count}})
}

// EncodeAck returns the ack a peer gets for its emit id that committed p.
func EncodeAck(id int64, p feed.Post) []byte {
	// By hand like EncodePostEvent; the same bytes as encoding/json gives for
	// {type, id, seq, data} (protocol_internal_test.go compares them).
	b := make([]byte, 0, postFrameSize(p))
	b = append(b, `{"type":"ack","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, p.Seq, 10)
	b = append(b, `,"data":`...)
	b = p.AppendJSON(b)
	return append(b, '}')
}

// ActionOf names the change that left p in its state, for replays where only
// the latest state is known.
func ActionOf(p feed.Post) string {
	switch {
	case p.Deleted:
		return ActionDelete
	case p.Version == 1:
		return ActionCreate
	default:
		return ActionUpdate
	}
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
