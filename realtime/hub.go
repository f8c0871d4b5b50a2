// Package realtime is lanfeed's LAN server: the websocket hub speaking wire
// protocol v1 (and Socket.IO at /socket.io/, whose sockets are peers of the
// same hub with the same guarantees) and the REST API, on one HTTP handler.
// It knows nothing of SQL or Wails; it reaches posts through the Service
// interface.
//
// Guarantees:
//   - Ordering: Broadcast is called in seq order, and every peer receives the
//     messages of one Broadcast in that order; a peer's own writes come back
//     as acks in the same slot, so each peer sees a gap-free seq stream once
//     it is live. A follower that asked for the node's own posts only
//     (?origin=self) sees gaps where replicas changed; its replay still ends
//     at the node's seq.
//   - Resume: a peer that sends sync gets the latest state of every post
//     changed after its seq, read page by page from the database at the pace
//     it reads, then "synced", then live events, with no gap and no duplicate
//     between the two.
//   - Backpressure: each peer has an outbox bounded in bytes (outbox.go)
//     and at most one writer goroutine, which runs only while the outbox has
//     work. Broadcast never blocks and never waits on a peer: it appends
//     to each outbox; the frames of peers with no writer running are
//     written by a flusher goroutine (one per core) with one non-blocking
//     write per peer, and only what a socket does not take starts its writer
//     (a single goroutine per peer, not one per message). A peer whose
//     outbox overflows is closed with 1013 and must resume with sync.
//   - Shutdown: Close says goodbye (1001) to every peer and waits for all the
//     goroutines the hub started.
//   - Limits: every request must name the node in its Host header (421
//     otherwise); emits and syncs go through a token bucket per peer, REST
//     writes one per source address (rate_limited, then 1008 for a peer that
//     keeps going); websocket peers are capped in total and per address (503).
//     A rotated token stops working for every peer at once.
package realtime

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lanfeed/feed"

	"github.com/gorilla/websocket"
)

// Defaults for Config; each can be overridden, mostly by tests.
const (
	// DefaultQueueBytes bounds a peer's outgoing queue: about a thousand
	// typical events, far more than a healthy reader ever lags behind.
	DefaultQueueBytes = 1 << 20
	// DefaultSendBuffer is the kernel send buffer of a peer's connection
	// (Linux doubles it for its bookkeeping). It covers the bandwidth-delay
	// product of a LAN (1 Gbit/s at 1 ms is 125 KB) and bounds what a peer
	// that stops reading holds in the kernel besides its queue; left to the
	// kernel's autotuning it grows to 4 MiB on loopback.
	DefaultSendBuffer = 128 << 10
	// DefaultMaxMessage is the largest message a peer may send and the
	// largest REST body, in bytes: derived from feed's post limits so that
	// the largest valid post fits however its writer escapes it (see
	// feed.MaxMessage).
	DefaultMaxMessage = maxWriteJSON
	// DefaultPingPeriod keeps NAT and proxy mappings alive and detects dead
	// peers; it must be well under DefaultPongWait.
	DefaultPingPeriod = 25 * time.Second
	// DefaultPongWait is how long a peer may stay silent (no message, no pong)
	// before it is dropped.
	DefaultPongWait = 60 * time.Second
	// DefaultWriteWait bounds one frame's write: a peer whose socket does not
	// drain for this long is gone.
	DefaultWriteWait = 10 * time.Second
	// DefaultReplayPage is how many posts a sync reads from the database at a
	// time: enough to amortise the query, small enough to bound memory.
	DefaultReplayPage = 256
	// closeGrace is how long we wait for a peer's reply to our close frame.
	closeGrace = time.Second
	// DefaultWriteRate and DefaultWriteBurst limit each websocket peer's
	// emits: people post a few times a minute, scripts in short bursts;
	// nobody needs more than ten a second for long.
	DefaultWriteRate  = 10
	DefaultWriteBurst = 50
	// DefaultHTTPWriteRate and DefaultHTTPWriteBurst limit REST writes per
	// source address; the burst is larger because one address may be a
	// script importing a backlog.
	DefaultHTTPWriteRate  = 10
	DefaultHTTPWriteBurst = 200
	// abuseFactor: a peer refused this many bursts' worth of emits in a row
	// is not backing off, and is closed with 1008.
	abuseFactor = 3
	// DefaultFloodCooldown keeps a flooder from reconnecting for a fresh
	// burst at once; a well-behaved client's backoff waits about as long.
	DefaultFloodCooldown = 10 * time.Second
	// DefaultMaxPeers and DefaultMaxPeersPerAddr cap websocket peers in
	// total and per source address; each peer costs two goroutines and
	// buffers, so the caps bound memory.
	DefaultMaxPeers        = 10000
	DefaultMaxPeersPerAddr = 256
)

// Service is what the hub and the REST API need from the application. Writes
// publish their event through Broadcast before returning.
type Service interface {
	Identity() feed.Identity
	// Seq is the seq of the last committed change; it may be one ahead of
	// the hub's while a commit is on its way to Broadcast.
	Seq() int64
	// Authorize reports whether token is the node's pairing token.
	Authorize(token string) bool
	List(ctx context.Context, q feed.PageQuery) (feed.Page, error)
	Get(ctx context.Context, id string) (feed.Post, error)
	Create(ctx context.Context, in feed.NewPost, by feed.Caller) (feed.Post, error)
	Update(ctx context.Context, id string, patch feed.PostPatch, by feed.Caller) (feed.Post, error)
	Delete(ctx context.Context, id string, version int64, by feed.Caller) (feed.Post, error)
	// Sync returns one page of up to limit changes after since, or a reset
	// when since and epoch are not this database's (see feed.SyncPage). A
	// non-empty origin keeps only the posts of that node; the last page's
	// Seq is then the node's seq all the same.
	Sync(ctx context.Context, since int64, epoch, origin string, limit int) (feed.SyncPage, error)
	// Presence is told when a peer joins or leaves; count includes the change.
	Presence(action string, peer feed.Peer, count int)
	// Follows lists the nodes this node follows, with their state.
	Follows(ctx context.Context) ([]feed.FollowInfo, error)
	// Follow follows the node at url; Unfollow stops following node and
	// removes its posts here.
	Follow(ctx context.Context, url string) (feed.FollowInfo, error)
	Unfollow(ctx context.Context, node string) error
	// Nearby lists the nodes discovered on the LAN that this node does
	// not follow.
	Nearby(ctx context.Context) ([]feed.NearbyNode, error)
	// Settings returns the following settings in effect; SetSettings
	// stores and applies new ones and returns those in effect.
	Settings(ctx context.Context) (feed.MeshSettings, error)
	SetSettings(ctx context.Context, s feed.MeshSettings) (feed.MeshSettings, error)
}

// Message is one broadcast: Frame goes to every peer but By's, which gets
// the answer to its emit instead: an ack carrying Post. Seq is 0 for
// messages outside the post stream. Presence marks a peers event, which
// peers that opted out skip.
type Message struct {
	Seq      int64
	Frame    []byte
	By       feed.Caller
	Post     feed.Post // the change's post, for By's ack
	Presence bool
}

// Config configures a Hub. Zero durations and sizes take the defaults.
type Config struct {
	Service Service
	// Seq is the seq of the last change already in the database.
	Seq int64
	// AllowedOrigins lists browser origins (e.g. "http://laptop.local:7700")
	// accepted besides the node's own host. Requests without Origin are
	// accepted: they come from programs, not web pages.
	AllowedOrigins []string
	QueueBytes     int   // bytes; default DefaultQueueBytes
	SendBuffer     int   // bytes; default DefaultSendBuffer; negative: the kernel's autotuning
	MaxMessage     int64 // bytes, of a websocket message and of a REST body; default DefaultMaxMessage
	PingPeriod     time.Duration
	PongWait       time.Duration
	WriteWait      time.Duration
	ReplayPage     int
	// AllowedHosts lists names the Host header may carry besides IP
	// literals, localhost and the machine's host name (plain and .local);
	// any other gets 421, against DNS rebinding. "*" turns the check off.
	AllowedHosts []string
	// WriteRate (writes a second, default DefaultWriteRate) and WriteBurst
	// (default DefaultWriteBurst) are each websocket peer's token bucket for
	// emits. A negative WriteRate turns the limit off.
	WriteRate  float64
	WriteBurst int
	// HTTPWriteRate (default DefaultHTTPWriteRate) and HTTPWriteBurst
	// (default DefaultHTTPWriteBurst) are the token bucket of REST writes
	// per source address. A negative HTTPWriteRate turns the limit off.
	HTTPWriteRate  float64
	HTTPWriteBurst int
	// Now is the clock of the write limits' token buckets; default
	// time.Now. Tests set it to step time instead of sleeping.
	Now func() time.Time
	// FloodCooldown is how long the address of a peer closed with 1008 for
	// flooding may not open new websocket connections (429); default
	// DefaultFloodCooldown.
	FloodCooldown time.Duration
	// MaxPeers (default DefaultMaxPeers) and MaxPeersPerAddr (default
	// DefaultMaxPeersPerAddr) cap websocket peers; beyond them the upgrade
	// is refused with 503.
	MaxPeers        int
	MaxPeersPerAddr int
	// URLs returns the addresses the node serves, for /api/info.
	URLs func() []string
	// SocketIOConformance replaces the Socket.IO endpoint's lanfeed events
	// by the handlers the official Socket.IO protocol test suite expects
	// (sioconform.go). For cmd/sioconform only: a node never sets it.
	SocketIOConformance bool
	// UI is the built web UI served at "/"; nil serves a short notice.
	UI     http.FileSystem
	Logger *slog.Logger
}

// Hub tracks the connected peers and fans messages out to them.
type Hub struct {
	cfg      Config
	svc      Service
	log      *slog.Logger
	upgrader websocket.Upgrader
	handler  http.Handler

	hosts    map[string]bool // names accepted in Host besides IP literals
	anyHost  bool
	httpRate *addrLimiter // nil: no limit
	conns    connLimiter
	barred   penaltyBox // addresses of flooders, for FloodCooldown

	pubMu   sync.Mutex   // one Broadcast at a time, so queues see seq order
	lastSeq atomic.Int64 // seq of the last broadcast post change
	nextID  atomic.Uint64
	// noDirect turns direct writes off: every frame goes through the
	// peers' writers (tests compare the two paths). Set before the first
	// peer connects.
	noDirect bool

	// flushers write the broadcast frames of idle peers, one per
	// GOMAXPROCS (at NewHub), each for the peers whose id it is given.
	flushers  []*flusher
	flushStop chan struct{} // closed by Close: the flushers end

	sioMu       sync.Mutex
	sioSessions map[string]*pollSession    // Socket.IO polling sessions by sid
	sioPending  map[*websocket.Conn]func() // Socket.IO connections waiting for their CONNECT, and how to end each
	sioClosed   bool                       // Close ran: no new handshakes

	mu     sync.RWMutex
	peers  map[*peer]struct{}
	closed bool
	wg     sync.WaitGroup // every peer goroutine
}

// defaultTo replaces a zero or negative setting with its default.
func defaultTo[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// NewHub returns a hub with no peers. Serve it with Handler.
func NewHub(cfg Config) *Hub {
	defaultTo(&cfg.QueueBytes, DefaultQueueBytes)
	defaultTo(&cfg.SendBuffer, DefaultSendBuffer)
	defaultTo(&cfg.MaxMessage, int64(DefaultMaxMessage))
	defaultTo(&cfg.PingPeriod, DefaultPingPeriod)
	defaultTo(&cfg.PongWait, DefaultPongWait)
	defaultTo(&cfg.WriteWait, DefaultWriteWait)
	defaultTo(&cfg.ReplayPage, DefaultReplayPage)
	if cfg.WriteRate == 0 { // negative: no limit
		cfg.WriteRate = DefaultWriteRate
	}
	defaultTo(&cfg.WriteBurst, DefaultWriteBurst)
	if cfg.HTTPWriteRate == 0 { // negative: no limit
		cfg.HTTPWriteRate = DefaultHTTPWriteRate
	}
	defaultTo(&cfg.HTTPWriteBurst, DefaultHTTPWriteBurst)
	defaultTo(&cfg.FloodCooldown, DefaultFloodCooldown)
	defaultTo(&cfg.MaxPeers, DefaultMaxPeers)
	defaultTo(&cfg.MaxPeersPerAddr, DefaultMaxPeersPerAddr)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.URLs == nil {
		cfg.URLs = func() []string { return nil }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Hub{cfg: cfg, svc: cfg.Service, log: cfg.Logger, peers: map[*peer]struct{}{},
		flushStop: make(chan struct{}),
		hosts:     hostNames(cfg.AllowedHosts), anyHost: slices.Contains(cfg.AllowedHosts, "*"),
		conns: connLimiter{max: cfg.MaxPeers, perAddr: cfg.MaxPeersPerAddr}}
	if cfg.HTTPWriteRate > 0 {
		h.httpRate = &addrLimiter{rate: cfg.HTTPWriteRate, burst: cfg.HTTPWriteBurst}
	}
	h.lastSeq.Store(cfg.Seq)
	h.flushers = make([]*flusher, runtime.GOMAXPROCS(0))
	for i := range h.flushers {
		h.flushers[i] = &flusher{wake: make(chan struct{}, 1)}
	}
	h.upgrader = websocket.Upgrader{
		// Memory per idle peer: peers send little, so a small read buffer
		// will do (bigger messages are read through it in pieces), and write
		// buffers come from a pool, held only while a frame is written.
		// Not 0: gorilla must read through peerConn (see there).
		ReadBufferSize:   256,
		WriteBufferSize:  4096,
		WriteBufferPool:  &writeBuffers,
		HandshakeTimeout: cfg.WriteWait, // bounds writing the 101 answer
		CheckOrigin:      h.checkOrigin,
		// Handshake failures answer with the same JSON error as the API.
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			w.Header().Set("Sec-WebSocket-Version", "13") // the version we speak (RFC 6455 4.4)
			// gorilla's reasons read "websocket: the client is not using ...".
			writeJSON(w, status, feed.Errorf(feed.CodeBadRequest, "%s is the websocket endpoint, and this request is not a valid handshake: %s",
				r.URL.Path, strings.TrimPrefix(reason.Error(), "websocket: ")))
		},
	}
	h.handler = h.checkHost(h.routes())
	return h
}

// writeBuffers is shared by every hub's upgrader.
var writeBuffers sync.Pool

// Seq returns the seq of the last post change broadcast.
func (h *Hub) Seq() int64 { return h.lastSeq.Load() }

// Broadcast queues m for every peer. It never blocks on a peer; callers must
// call it in seq order (the application does, after each commit).
func (h *Hub) Broadcast(m Message) {
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	h.mu.RLock()
	defer h.mu.RUnlock()
	if m.Seq > 0 {
		h.lastSeq.Store(m.Seq)
	}
	var frames [dialects][]byte // the event in each dialect, translated once
	for p := range h.peers {
		if m.Presence && !p.presence {
			continue
		}
		if p.origin != "" && m.Seq > 0 && m.Post.Origin != p.origin {
			continue // a follower asking for this node's own posts: seq gaps are expected
		}
		d := p.dialect
		if m.By.Peer != 0 && p.id == m.By.Peer {
			if ack := d.ack(m.By.EmitID, m.Post); ack != nil {
				if p.outbox.send(ack, 0) {
					h.stage(p)
				}
				continue
			}
		}
		if frames[d.kind] == nil {
			frames[d.kind] = d.event(m.Frame)
		}
		if p.outbox.send(frames[d.kind], m.Seq) {
			h.stage(p)
		}
	}
	h.flush()
}

// stage puts p on the staging list of its flusher, for flush to hand
// over. The peers are shared out by id, so that a peer always has the
// same flusher (its frames stay in order) and the writes use every core.
// Called by Broadcast, under h.pubMu, which guards the staging lists.
func (h *Hub) stage(p *peer) {
	f := h.flushers[p.id%uint64(len(h.flushers))]
	f.staged = append(f.staged, p)
}

// flusher is one of the hub's flusher goroutines (flushLoop) and the
// peers listed for it.
type flusher struct {
	staged []*peer // listed by the broadcast under way (h.pubMu), not yet handed over

	mu      sync.Mutex
	list    []*peer
	running bool          // started at the first listing
	wake    chan struct{} // one wake-up pending at most
}

// flush hands the peers staged by a broadcast to their flushers,
// starting each the first time. A flusher writes to every idle peer it is
// given, not a goroutine per peer per post: while peers keep up, each post
// costs one write() per peer and nothing else; when a flusher falls
// behind, the posts broadcast meanwhile wait in the outboxes and leave
// together, one write() per peer for all of them, as the corking writers
// batch them. Called by Broadcast with h.pubMu held and h.mu read-locked,
// so Close cannot begin to wait before a flusher is counted.
func (h *Hub) flush() {
	for _, f := range h.flushers {
		if len(f.staged) == 0 {
			continue // none of this broadcast's peers is f's
		}
		if !h.closed { // else Close drops what is queued and ends the flushers
			f.mu.Lock()
			f.list = append(f.list, f.staged...)
			if !f.running {
				f.running = true
				h.wg.Add(1)
				go h.flushLoop(f)
			}
			f.mu.Unlock()
			select {
			case f.wake <- struct{}{}:
			default: // a wake-up is pending: the flusher will see these too
			}
		}
		clear(f.staged) // the peers are not kept alive by the staging list
		f.staged = f.staged[:0]
	}
}

// flushLoop is a flusher: it writes what the peers listed on f have
// queued until Close. A peer that closes meanwhile gets its close frame
// from its writer, which drops whatever is queued.
func (h *Hub) flushLoop(f *flusher) {
	defer h.wg.Done()
	var buf []byte   // the frames of one peer, framed
	var list []*peer // the list being written; swapped with f.list
	for {
		select {
		case <-f.wake:
		case <-h.flushStop:
			return
		}
		f.mu.Lock()
		list, f.list = f.list, list[:0]
		f.mu.Unlock()
		for i, p := range list {
			p.outbox.flushDirect(&buf)
			list[i] = nil
		}
		if cap(buf) > corkLimit {
			buf = nil // a burst's buffer is not kept
		}
	}
}

// appendTextFrame appends msg framed as one final, unmasked, uncompressed
// text frame, byte for byte as gorilla's WriteMessage frames it on the
// server side (RFC 6455 5.2: the length in 7 bits, or 126 and 16 bits, or
// 127 and 64). The hub enables no compression, so every peer gets the same
// frame as from its writer.
func appendTextFrame(b, msg []byte) []byte {
	n := len(msg)
	b = append(b, finalBit|websocket.TextMessage)
	switch {
	case n >= 1<<16:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	case n > 125:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, byte(n))
	}
	return append(b, msg...)
}

// Peers returns the connected peers, longest connected first.
func (h *Hub) Peers() []feed.Peer {
	h.mu.RLock()
	list := make([]feed.Peer, 0, len(h.peers))
	for p := range h.peers {
		list = append(list, p.info)
	}
	h.mu.RUnlock()
	slices.SortFunc(list, func(a, b feed.Peer) int {
		if c := a.Since.Compare(b.Since.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return list
}

// Count returns the number of connected peers.
func (h *Hub) Count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.peers)
}

// register adds p and queues its hello; p is live from the current seq on,
// or replays initial first.
func (h *Hub) register(p *peer, initial *syncRequest) (count int, err error) {
	id := h.svc.Identity()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, errClosed
	}
	seq := h.lastSeq.Load()
	p.outbox = newOutbox(h.cfg.QueueBytes, seq, initial, p.startWriter)
	if p.out.raw != nil && !h.noDirect {
		p.outbox.direct = p.out.writeDirect
	}
	// A token rotated since the upgrade checked it: RevokeWriters, which
	// waits for h.mu, may already have run and missed this peer.
	if p.canWrite && !p.mayWrite() {
		p.revoked.Store(true)
	}
	h.wg.Add(1) // the peer's reader, started by the caller; the writer counts itself (see kick)
	hello := helloFrame{Proto: Proto, Node: id.Node, Epoch: id.Epoch, Seq: seq,
		Peer: p.info, CanWrite: p.canWrite && !p.revoked.Load()}
	for _, f := range p.dialect.hello(p, hello, initial == nil) {
		p.outbox.push(f, 0)
	}
	h.peers[p] = struct{}{}
	p.outbox.pingEvery(h.cfg.PingPeriod)
	return len(h.peers), nil
}

func (h *Hub) unregister(p *peer) (count int, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.peers[p]; !ok {
		return len(h.peers), false
	}
	delete(h.peers, p)
	return len(h.peers), true
}

var errClosed = errors.New("realtime: hub is closed")

// RevokeWriters takes write access away from every peer whose token is no
// longer the pairing token and tells it so with an auth frame carrying
// reason. The application calls it right after rotating the token; their
// emits are refused from the rotation on anyway, since each emit re-checks
// the peer's token. It returns how many peers lost write access.
func (h *Hub) RevokeWriters(reason string) int {
	var frames [dialects][]byte // built once per dialect
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for p := range h.peers {
		if p.canWrite && !p.mayWrite() && p.revoked.CompareAndSwap(false, true) {
			d := p.dialect
			if frames[d.kind] == nil {
				frames[d.kind] = d.auth(reason)
			}
			p.outbox.push(frames[d.kind], 0)
			n++
		}
	}
	return n
}

// TokenChanged is the reason RevokeWriters gives after a token rotation.
const TokenChanged = tokenChanged

// Close refuses new peers, says goodbye (1001) to every connected one and
// waits until all their goroutines have ended or ctx is done, in which case
// it drops the remaining connections. Calling it again waits again.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	if !h.closed {
		close(h.flushStop)
	}
	h.closed = true
	peers := make([]*peer, 0, len(h.peers))
	for p := range h.peers {
		peers = append(peers, p)
	}
	h.mu.Unlock()
	for _, p := range peers {
		p.outbox.close(websocket.CloseGoingAway, "server shutting down")
	}
	h.endHandshakes()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, p := range peers {
			p.conn.Close()
		}
		<-done
		return ctx.Err()
	}
}
