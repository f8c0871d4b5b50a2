// Package app holds lanfeed's use cases. Every writer (Wails bindings, REST,
// websocket emits) goes through Service, which validates, commits to the
// store and then, only after the commit succeeded, publishes one Event to
// the fan-out. Store and realtime meet here and in main, nowhere else.
package app

import (
	"context"
	"encoding/json"
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
	Name     string // feed.EventPosts or feed.EventPeers
	Seq      int64  // seq of a post change; 0 for presence
	Envelope []byte
	By       feed.Caller // who asked for the change; the hub answers it
	Post     feed.Post   // the changed post, for a posts event
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
	s.Hub.Broadcast(realtime.Message{Seq: ev.Seq, Frame: ev.Envelope, By: ev.By, Post: ev.Post,
		Presence: ev.Name == feed.EventPeers})
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

	identity atomic.Pointer[feed.Identity]
	token    atomic.Pointer[string]
	// onRotate runs after the token changed; Open sets it to revoke the
	// websocket peers holding the old one.
	onRotate func()
	// onRename runs after the node was renamed; Open sets it to announce
	// the new name on the LAN.
	onRename func()
	// mesh follows other nodes; Open sets it. Without it (a bare Service)
	// following is not available.
	mesh *Mesh
}

// errNoMesh answers the following calls of a Service that has no Mesh.
var errNoMesh = feed.Errorf(feed.CodeNotFound, "this node does not follow other nodes")

// Follows lists the nodes this node follows and how replicating each goes.
func (s *Service) Follows(ctx context.Context) ([]feed.FollowInfo, error) {
	if s.mesh == nil {
		return []feed.FollowInfo{}, nil
	}
	return s.mesh.Follows(ctx)
}

// Follow follows the node at rawURL (see Mesh.Follow).
func (s *Service) Follow(ctx context.Context, rawURL string) (feed.FollowInfo, error) {
	if s.mesh == nil {
		return feed.FollowInfo{}, errNoMesh
	}
	return s.mesh.Follow(ctx, rawURL)
}

// Unfollow stops following node and drops its posts here (see
// Mesh.Unfollow).
func (s *Service) Unfollow(ctx context.Context, node string) error {
	if s.mesh == nil {
		return errNoMesh
	}
	return s.mesh.Unfollow(ctx, node)
}

// Nearby lists the nodes discovered on the LAN that this node does not
// follow (see Mesh.Nearby).
func (s *Service) Nearby(ctx context.Context) ([]feed.NearbyNode, error) {
	if s.mesh == nil {
		return []feed.NearbyNode{}, nil
	}
	return s.mesh.Nearby(ctx)
}

// Settings returns the following settings in effect (see Mesh.Settings).
func (s *Service) Settings(ctx context.Context) (feed.MeshSettings, error) {
	if s.mesh == nil {
		return feed.MeshSettings{}, nil
	}
	return s.mesh.Settings(ctx)
}

// SetSettings stores and applies the following settings (see
// Mesh.SetSettings).
func (s *Service) SetSettings(ctx context.Context, ms feed.MeshSettings) (feed.MeshSettings, error) {
	if s.mesh == nil {
		return feed.MeshSettings{}, errNoMesh
	}
	return s.mesh.SetSettings(ctx, ms)
}

// NewService returns a Service over st publishing to sink.
func NewService(ctx context.Context, st *store.Store, sink Sink, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{store: st, sink: sink, log: log}
	n, err := st.Node(ctx)
	if err != nil {
		return nil, err
	}
	s.identity.Store(&n.Identity)
	s.token.Store(&n.Token)
	return s, nil
}

// Identity returns the node's id, display name and epoch.
func (s *Service) Identity() feed.Identity { return *s.identity.Load() }

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
	s.identity.Store(&n.Identity)
	if s.onRename != nil {
		s.onRename()
	}
	return n.Node, nil
}

// Seq returns the seq of the last committed change.
func (s *Service) Seq() int64 { return s.store.Seq() }

// List returns a page of the feed.
func (s *Service) List(ctx context.Context, q feed.PageQuery) (feed.Page, error) {
	return s.store.List(ctx, q)
}

// Get returns one live post.
func (s *Service) Get(ctx context.Context, id string) (feed.Post, error) {
	return s.store.Get(ctx, id)
}

// Create validates and commits a new post, then publishes it.
func (s *Service) Create(ctx context.Context, in feed.NewPost, by feed.Caller) (feed.Post, error) {
	return s.commit(ctx, feed.ActionCreate, by, store.CreateOp(in))
}

// Update commits a change to post id at the given version, then publishes it.
func (s *Service) Update(ctx context.Context, id string, patch feed.PostPatch, by feed.Caller) (feed.Post, error) {
	return s.commit(ctx, feed.ActionUpdate, by, store.UpdateOp(id, patch))
}

// Delete tombstones post id (version 0: any version), then publishes it.
func (s *Service) Delete(ctx context.Context, id string, version int64, by feed.Caller) (feed.Post, error) {
	return s.commit(ctx, feed.ActionDelete, by, store.DeleteOp(id, version))
}

// maxBatch bounds one group commit, so that the leader's own wait and the
// size of one transaction stay small under any load.
const maxBatch = 256

// writeReq is one write waiting for a group commit: one op, or a batch of
// ops that must commit together (replicas and their position).
type writeReq struct {
	ctx context.Context
	// action names the change of a single op; "" (a batch) derives each
	// event's action from its post.
	action  string
	by      feed.Caller
	ops     []store.Op
	results []store.Result
	// done gets true when results are set, false when this caller must lead.
	done chan bool
}

// commit queues one write and returns once it is committed and published.
//
// Group commit: while one batch commits (and waits for its fsync), later
// writes queue up; the caller that finds no batch under way leads: it takes
// up to maxBatch queued ops, commits them in one transaction, publishes
// their events in seq order, answers each caller, and passes the lead to
// the oldest write still queued. Only the leader publishes, so events leave
// in seq order; a lone writer leads its own batch of one at once.
func (s *Service) commit(ctx context.Context, action string, by feed.Caller, op store.Op) (feed.Post, error) {
	if err := op.Check(); err != nil { // bad input never waits in the queue
		return feed.Post{}, err
	}
	res := s.enqueue(&writeReq{ctx: ctx, action: action, by: by, ops: []store.Op{op}})
	return res[0].Post, res[0].Err
}

// applyBatch commits ops in one transaction through the group commit, like
// any write, and publishes an event for each op that changed a post, in seq
// order. The mesh commits replicas with their position this way.
func (s *Service) applyBatch(ctx context.Context, ops []store.Op) []store.Result {
	if len(ops) == 0 {
		return nil
	}
	return s.enqueue(&writeReq{ctx: ctx, ops: ops})
}

// enqueue queues req, leads if it must, and returns req's results.
func (s *Service) enqueue(req *writeReq) []store.Result {
	req.done = make(chan bool, 1)
	req.results = make([]store.Result, len(req.ops))
	s.queueMu.Lock()
	s.queue = append(s.queue, req)
	lead := !s.leading
	s.leading = true
	s.queueMu.Unlock()
	if lead || !<-req.done {
		s.lead()
	}
	return req.results
}

// lead commits one batch from the head of the queue and hands over.
// A caller whose context ends while it waits still waits for its turn (it
// may be handed the lead); if its context has ended before its batch
// begins, its write is skipped and it gets the context's error. Once the
// batch begins, the write commits whatever the context says: a caller that
// gives up then does not know the outcome, as with any network write.
func (s *Service) lead() {
	s.queueMu.Lock()
	n, total := 0, 0
	for n < len(s.queue) && (n == 0 || total+len(s.queue[n].ops) <= maxBatch) {
		total += len(s.queue[n].ops)
		n++
	}
	batch := slices.Clone(s.queue[:n])
	clear(s.queue[:n]) // answered requests must not stay reachable from the queue
	s.queue = s.queue[n:]
	s.queueMu.Unlock()
	// Whatever happens below, even a panic, every caller gets an answer and
	// the lead moves on; otherwise one panic would stop every later write.
	defer s.handOff(batch)

	ops := make([]store.Op, 0, total)
	live := make([]*writeReq, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			for i := range r.results {
				r.results[i].Err = err
			}
			continue
		}
		for i := range r.results {
			r.results[i].Err = errNotCommitted // stays if the batch breaks off
		}
		ops = append(ops, r.ops...)
		live = append(live, r)
	}
	results := s.store.Apply(context.Background(), ops)
	for _, r := range live {
		n := copy(r.results, results)
		results = results[n:]
		for _, res := range r.results[:n] {
			if res.Err != nil || res.Unchanged { // an op that changed nothing took no seq: no event
				continue
			}
			action := r.action
			if action == "" {
				action = feed.ActionOf(res.Post)
			}
			s.publish(Event{Name: feed.EventPosts, Seq: res.Post.Seq,
				Envelope: feed.EncodePostEvent(action, res.Post), By: r.by, Post: res.Post})
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

// Sync returns the changes a consumer missed after since, up to limit of
// them: the one resume rule for the window and for websocket peers (see
// feed.SyncPage). A since of this node's epoch that it has not reached yet,
// a negative one, or another epoch gets a reset and the changes from 0.
//
// A non-empty origin keeps only the changes of posts with that origin (a
// follower asks for this node's own posts). Seqs then have gaps, and the
// last page's Seq is this node's seq, which the consumer resumes from.
func (s *Service) Sync(ctx context.Context, since int64, epoch, origin string, limit int) (feed.SyncPage, error) {
	id := s.Identity()
	page := feed.SyncPage{Epoch: id.Epoch, Events: []json.RawMessage{}}
	// Read before the changes, which then include everything up to it: a
	// consumer may hold a seq committed but not yet published (from a page
	// read meanwhile), so "beyond this node" is judged by the database.
	current := s.store.Seq()
	if since < 0 || (epoch != "" && epoch != id.Epoch) || since > current {
		page.Reset, since = true, 0
	}
	var posts []feed.Post
	var err error
	if origin == "" {
		posts, err = s.store.Changes(ctx, since, limit)
	} else {
		posts, err = s.store.ChangesOf(ctx, origin, since, limit)
	}
	if err != nil {
		return feed.SyncPage{}, err
	}
	page.Seq = since
	for _, p := range posts {
		page.Events = append(page.Events, feed.EncodePostEvent(feed.ActionOf(p), p))
		page.Seq = max(page.Seq, p.Seq)
	}
	page.More = len(posts) == limit
	if origin != "" && !page.More {
		// The changes skipped are read too: the consumer's position is
		// this node's seq, not the seq of the last post it was sent.
		page.Seq = max(page.Seq, current)
	}
	return page, nil
}

// Presence publishes a peers event.
func (s *Service) Presence(action string, peer feed.Peer, count int) {
	s.publish(Event{Name: feed.EventPeers, Envelope: feed.EncodePeersEvent(action, peer, count)})
}

func (s *Service) publish(ev Event) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.sink.Publish(ev)
}
