package feed

import (
	"encoding/json"
	"strconv"
)

// Event names and the actions they carry. Every consumer of changes (the
// desktop window, LAN peers, followers) sees these same words.
const (
	EventPosts = "posts"
	EventPeers = "peers"

	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
	ActionJoin   = "join"
	ActionLeave  = "leave"
)

// Identity is who a node is: its public id and name, and the epoch of its
// database. Hello frames, /api/info and the window all announce it.
type Identity struct {
	Node
	Epoch string // random id of this database; a new database is a new epoch
}

// NodeInfo describes a running node: what GET /api/info returns and what the
// window's node panel shows.
type NodeInfo struct {
	Proto int `json:"proto"` // wire protocol version
	// Version is the build of lanfeed serving (internal/version), as
	// `lanfeedd version` and `lanfeed --version` print it.
	Version string   `json:"version"`
	Node    Node     `json:"node"`
	Epoch   string   `json:"epoch"`
	Seq     int64    `json:"seq"`   // seq of the last change delivered to peers
	Peers   int      `json:"peers"` // websocket peers connected now
	URLs    []string `json:"urls"`  // where the node serves, LAN addresses first
	// ListenError says why the LAN server is not running; only the desktop
	// window is told, since nobody on the LAN can ask.
	ListenError string `json:"listenError,omitempty"`
}

// Peer describes a connected peer to other peers.
type Peer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Since Time   `json:"since"`
}

// Caller names who asked for a change: a connected peer and the id of its
// emit, so that the change reaches every other consumer as an event and the
// caller as the answer to its emit. The zero Caller (REST, the window, a
// replica applied from another node) has no one to answer: everyone gets the
// event.
type Caller struct {
	Peer   uint64 // 0: no peer
	EmitID int64  // the emit's id, echoed in its answer
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

// Envelope is the shape of every event as consumers receive it. Seq is set
// for post changes only.
type Envelope struct {
	Type  string `json:"type"` // always "event"
	Event string `json:"event"`
	Seq   int64  `json:"seq,omitempty"`
	Data  any    `json:"data"`
}

// EncodePostEvent returns the envelope of a posts event. Encoding a Post
// cannot fail, so neither can this.
func EncodePostEvent(action string, p Post) []byte {
	// Written by hand, the same bytes as json.Marshal(Envelope{...}) (the
	// tests compare both): this runs for every change and every replayed post.
	b := make([]byte, 0, PostFrameSize(p))
	b = append(b, `{"type":"event","event":"posts"`...)
	if p.Seq != 0 { // omitempty
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, p.Seq, 10)
	}
	b = append(b, `,"data":{"action":`...)
	b = AppendJSONString(b, action)
	b = append(b, `,"post":`...)
	b = p.AppendJSON(b)
	return append(b, '}', '}')
}

// PostFrameSize is room enough for a frame carrying p when nothing needs
// escaping, so that most encodings allocate once.
func PostFrameSize(p Post) int {
	return 256 + len(p.ID) + len(p.Title) + len(p.Body) + len(p.Author) + len(p.Origin)
}

// EncodePeersEvent returns the envelope of a peers event.
func EncodePeersEvent(action string, peer Peer, count int) []byte {
	b, err := json.Marshal(Envelope{Type: "event", Event: EventPeers, Data: PeersData{Action: action, Peer: peer, Count: count}})
	if err != nil {
		panic("feed: encode peers event: " + err.Error()) // strings, a Time and an int cannot fail
	}
	return b
}

// ActionOf names the change that left p in its state, for replays where only
// the latest state is known.
func ActionOf(p Post) string {
	switch {
	case p.Deleted:
		return ActionDelete
	case p.Version == 1:
		return ActionCreate
	default:
		return ActionUpdate
	}
}

// SyncPage is one step of a resume: the changes a consumer missed after its
// seq, oldest first, as the envelopes live events carry. A consumer asks
// with the seq and epoch it holds; if they are not this database's (another
// epoch, or a seq it never reached) the page says Reset and starts from the
// beginning: the consumer drops what it holds. While More is set it asks
// again with Seq; once More is clear it is in sync up to Seq and applies
// live events with a greater seq.
type SyncPage struct {
	Epoch  string            `json:"epoch"`
	Reset  bool              `json:"reset"`
	Events []json.RawMessage `json:"events"`
	Seq    int64             `json:"seq"`
	More   bool              `json:"more"`
}
