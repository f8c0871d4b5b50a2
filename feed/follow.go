package feed

// States of a followed node, as FollowInfo.State reports them.
const (
	// FollowConnecting: no connection yet since the follow started.
	FollowConnecting = "connecting"
	// FollowCatchingUp: connected, applying the changes it missed; Seq of
	// NodeSeq shows the progress.
	FollowCatchingUp = "catching_up"
	// FollowLive: caught up; its changes are applied as they happen.
	FollowLive = "live"
	// FollowOffline: unreachable since Since; retried with backoff.
	FollowOffline = "offline"
	// FollowRefused: it sent something this node refused (Reason says
	// what); retried with backoff, and refused still while a retry catches
	// up, until one gets it live. A node that answers with another node's
	// id stays refused until followed again.
	FollowRefused = "refused"
)

// FollowInfo is a node this node follows and how replicating it goes: what
// GET /api/follows lists and the window's nodes section shows.
type FollowInfo struct {
	Node  string `json:"node"` // the followed node's id
	Name  string `json:"name"` // its display name, as last heard
	URL   string `json:"url"`
	State string `json:"state"` // FollowConnecting, FollowCatchingUp, FollowLive, FollowOffline or FollowRefused
	// Seq is how far this node has applied the followed node's log; NodeSeq
	// is that node's seq when it last said hello: catching up is Seq of
	// NodeSeq.
	Seq     int64  `json:"seq"`
	NodeSeq int64  `json:"nodeSeq"`
	Since   Time   `json:"since"`            // when State began
	Reason  string `json:"reason,omitempty"` // why it is offline or refused
}

// NearbyNode is a node that discovery sees on the LAN and this node does
// not follow: what GET /api/nearby lists and the window's nodes section
// offers to follow. Its id is what its announcement claims; following it
// checks the claim against the node's hello.
type NearbyNode struct {
	Node string   `json:"node"` // its id, as announced
	Name string   `json:"name"` // its display name, as announced
	URL  string   `json:"url"`  // the address to follow it at: the first of URLs
	URLs []string `json:"urls"` // every address it was seen at, likeliest to work first
	Seen Time     `json:"seen"` // when it last answered
}

// MeshSettings are this node's following settings, kept in its database:
// what GET and PUT /api/settings and the window's settings carry.
type MeshSettings struct {
	// AutoFollow follows every node discovered on the LAN once its hello
	// confirms its announced id, except the nodes unfollowed here.
	AutoFollow bool `json:"autoFollow"`
}
