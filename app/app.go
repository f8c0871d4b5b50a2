// Package app holds lanfeed's use cases. Every writer (Wails bindings, REST,
// websocket emits) goes through Service, which validates, commits to the
// store and then, only after the commit succeeded, publishes one Event to
// the fan-out. Store and realtime meet here and in main, nowhere else.
package app

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"lanfeed/feed"
	"lanfeed/realtime"
	"lanfeed/store"
)

// Event is one change as every consumer sees it. Envelope holds the exact
// bytes that LAN peers receive and that the desktop window is given.
type Event struct {
	Name     string // realtime.EventPosts or realtime.EventPeers
	Seq      int64  // seq of a post change; 0 for presence
	Envelope []byte
	Origin   realtime.Origin // the peer that caused it, if any
	Ack      []byte          // what Origin gets instead of Envelope
}

// Sink consumes events. Publish is called in seq order and must not block.
type Sink interface {
	Publish(Event)
}

// Fanout is the Sink that hands each event to every consumer: the websocket
// hub and the desktop UI. Consumers are added during wiring, before traffic.
type Fanout struct {
	mu    sync.RWMutex
	sinks []Sink
}

// Add appends a consumer.
func (f *Fanout) Add(s Sink) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sinks = append(f.sinks, s)
}

// Publish implements Sink.
func (f *Fanout) Publish(ev Event) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, s := range f.sinks {
		s.Publish(ev)
	}
}

// HubSink adapts a realtime hub to Sink.
type HubSink struct{ Hub *realtime.Hub }

// Publish implements Sink.
func (s HubSink) Publish(ev Event) {
	s.Hub.Broadcast(realtime.Message{Seq: ev.Seq, Frame: ev.Envelope, Origin: ev.Origin.Peer, Reply: ev.Ack,
		Presence: ev.Name == realtime.EventPeers})
}

// Service is the one path for reads and writes. It implements
// realtime.Service.
type Service struct {
	store *store.Store
	sink  Sink
	log   *slog.Logger

	// Writes wait in queue; one caller at a time leads: it commits the whole
	// queue as one batch (one fsync), publishes the events in seq order and
	// hands the lead to the next waiter. See commit.
	queueMu sync.Mutex
	queue   []*writeReq
	leading bool
	// pubMu keeps presence events from interleaving with a post publish.
	pubMu sync.Mutex

	identity atomic.Pointer[realtime.Identity]
	token    atomic.Pointer[string]
	// onRotate runs after the token changed; Open sets it to revoke the
	// websocket peers holding the old one.
	onRotate func()
}

// New returns a Service over st publishing to sink.
func New(ctx context.Context, st *store.Store, sink Sink, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{store: st, sink: sink, log: log}
	n, err := st.Node(ctx)
	if err != nil {
		return nil, err
	}
	s.identity.Store(&realtime.Identity{Node: n.Node, Epoch: n.Epoch})
	s.token.Store(&n.Token)
	return s, nil
}

// Identity returns the node's id, display name and epoch.
func (s *Service) Identity() realtime.Identity { return *s.identity.Load() }

// Authorize reports whether token is the current pairing token.
func (s *Service) Authorize(token string) bool {
	return realtime.ConstantTimeEqual(token, *s.token.Load())
}

// Token returns the pairing token, for the desktop owner to share.
func (s *Service) Token() string { return *s.token.Load() }

// RotateToken replaces the pairing token; the old one stops working at once,
// and websocket peers that connected with it are told so.
func (s *Service) RotateToken(ctx context.Context) (string, error) {
	t, err := s.store.RotateToken(ctx)
	if err != nil {
		return "", err
	}
	s.token.Store(&t)
	if s.onRotate != nil {
		s.onRotate()
	}
	return t, nil
}

// SetName renames the node.
func (s *Service) SetName(ctx context.Context, name string) (feed.Node, error) {
	if err := s.store.SetName(ctx, name); err != nil {
		return feed.Node{}, err
	}
	n, err := s.store.Node(ctx)
	if err != nil {
		return feed.Node{}, err
	}
	s.identity.Store(&realtime.Identity{Node: n.Node, Epoch: n.Epoch})
	return n.Node, nil
}

// Seq returns the seq of the last committed change.
func (s *Service) Seq() int64 { return s.store.Seq() }

// List returns a page of the feed.
func (s *Service) List(ctx context.Context, before string, limit int) (feed.Page, error) {
	return s.store.List(ctx, before, limit)
}

// Get returns one live post.
func (s *Service) Get(ctx context.Context, id string) (feed.Post, error) {
	return s.store.Get(ctx, id)
}

// Create validates and commits a new post, then publishes it.
func (s *Service) Create(ctx context.Context, in feed.NewPost, o realtime.Origin) (feed.Post, error) {
	return s.commit(ctx, realtime.ActionCreate, o, store.CreateOp(in))
}

// Update commits a change to post id at the given version, then publishes it.
func (s *Service) Update(ctx context.Context, id string, patch feed.PostPatch, o realtime.Origin) (feed.Post, error) {
	return s.commit(ctx, realtime.ActionUpdate, o, store.UpdateOp(id, patch))
}

// Delete tombstones post id (version 0: any version), then publishes it.
func (s *Service) Delete(ctx context.Context, id string, version int64, o realtime.Origin) (feed.Post, error) {
	return s.commit(ctx, realtime.ActionDelete, o, store.DeleteOp(id, version))
}

// maxBatch bounds one group commit, so that the leader's own wait and the
// size of one transaction stay small under any load.
const maxBatch = 256

// writeReq is one write waiting for a group commit.
type writeReq struct {
	ctx    context.Context
	action string
	origin realtime.Origin
	op     store.Op
	result store.Result
	// done gets true when result is set, false when this caller must lead.
	done chan bool
}

// commit queues one write and returns once it is committed and published.
//
// Group commit: while one batch commits (and waits for its fsync), later
// writes queue up; the caller that finds no batch under way leads: it takes
// up to maxBatch queued writes, commits them in one transaction, publishes
// their events in seq order, answers each caller, and passes the lead to
// the oldest write still queued. Only the leader publishes, so events leave
// in seq order; a lone writer leads its own batch of one at once.
func (s *Service) commit(ctx context.Context, action string, o realtime.Origin, op store.Op) (feed.Post, error) {
	if err := op.Check(); err != nil { // bad input never waits in the queue
		return feed.Post{}, err
	}
	req := &writeReq{ctx: ctx, action: action, origin: o, op: op, done: make(chan bool, 1)}
	s.queueMu.Lock()
	s.queue = append(s.queue, req)
	lead := !s.leading
	s.leading = true
	s.queueMu.Unlock()
	if lead || !<-req.done {
		s.lead()
	}
	return req.result.Post, req.result.Err
}

// lead commits one batch from the head of the queue and hands over.
// A caller whose context ends while it waits still waits for its turn (it
// may be handed the lead); if its context has ended before its batch
// begins, its write is skipped and it gets the context's error. Once the
// batch begins, the write commits whatever the context says: a caller that
// gives up then does not know the outcome, as with any network write.
func (s *Service) lead() {
	s.queueMu.Lock()
	n := min(len(s.queue), maxBatch)
	batch := slices.Clone(s.queue[:n])
	clear(s.queue[:n]) // answered requests must not stay reachable from the queue
	s.queue = s.queue[n:]
	s.queueMu.Unlock()
	// Whatever happens below, even a panic, every caller gets an answer and
	// the lead moves on; otherwise one panic would stop every later write.
	defer s.handOff(batch)

	ops := make([]store.Op, 0, len(batch))
	live := make([]*writeReq, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.result.Err = err
			continue
		}
		r.result.Err = errNotCommitted // stays if the batch breaks off
		ops = append(ops, r.op)
		live = append(live, r)
	}
	for i, res := range s.store.Apply(context.Background(), ops) {
		r := live[i]
		r.result = res
		if res.Err == nil {
			s.publish(s.event(r.action, r.origin, res.Post))
		}
	}
}

// errNotCommitted is the answer of a write whose batch broke off.
var errNotCommitted = feed.Errorf(feed.CodeInternal, "the write was not saved: the node hit an internal error; try again")

// handOff answers every request of batch and passes the lead to the oldest
// request still queued, or ends it.
func (s *Service) handOff(batch []*writeReq) {
	s.queueMu.Lock()
	var next *writeReq
	if len(s.queue) > 0 {
		next = s.queue[0]
	} else {
		s.leading = false
		s.queue = nil
	}
	s.queueMu.Unlock()
	for _, r := range batch {
		r.done <- true
	}
	if next != nil {
		next.done <- false // next leads; it is still in the queue, so it commits itself
	}
}

// event builds the Event of one committed change.
func (s *Service) event(action string, o realtime.Origin, p feed.Post) Event {
	ev := Event{Name: realtime.EventPosts, Seq: p.Seq, Envelope: realtime.EncodePostEvent(action, p), Origin: o}
	if o.Peer != 0 {
		ev.Ack = realtime.EncodeAck(o.EmitID, p)
	}
	return ev
}

// Replay returns the envelopes of posts changed after since, for a peer's sync.
func (s *Service) Replay(ctx context.Context, since int64, limit int) ([]realtime.Change, error) {
	posts, err := s.store.Changes(ctx, since, limit)
	if err != nil {
		return nil, err
	}
	changes := make([]realtime.Change, len(posts))
	for i, p := range posts {
		changes[i] = realtime.Change{Seq: p.Seq, Frame: realtime.EncodePostEvent(realtime.ActionOf(p), p)}
	}
	return changes, nil
}

// Presence publishes a peers event.
func (s *Service) Presence(action string, peer realtime.PeerInfo, count int) {
	s.publish(Event{Name: realtime.EventPeers, Envelope: realtime.EncodePeersEvent(action, peer, count)})
}

func (s *Service) publish(ev Event) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.sink.Publish(ev)
}
