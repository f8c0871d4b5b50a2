package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"lanfeed/client"
	"lanfeed/discovery"
	"lanfeed/feed"
	"lanfeed/store"
)

// Mesh replicates the nodes this node follows: one follower per row of
// store.Follows, each with its own goroutine, so that a slow or hostile
// node slows nobody else. A follower applies what it receives through the
// Service's group commit, replicas and position in one transaction, so
// this node's clients get one event per applied change, in seq order, and a
// crash neither loses nor repeats a change.
//
// A follower trusts nothing it receives: a node answering with another
// node's id is refused for good (until followed again); a change the store
// refuses, a seq going backwards, a malformed or oversized frame (the
// client's ErrProto), or an epoch that changes more often than
// MeshConfig.EpochChanges allows is logged with the node named, shown as
// refused, and the connection dropped and retried with backoff from the
// committed position.
type Mesh struct {
	svc *Service
	st  *store.Store
	log *slog.Logger
	cfg MeshConfig

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every follower and pending follow

	mu        sync.Mutex
	followers map[string]*follower // by node id
	hinting   map[string]bool      // node ids whose hint is being tried
	closed    bool
	// declined holds the nodes unfollowed here (store.Declined): no hint
	// follows them. Unfollow adds a node before it stops the follower, an
	// explicit follow removes it.
	declined map[string]bool
	// nearby is what discovery sees now, by node id, followed nodes too
	// (Observe); Nearby leaves those out.
	nearby map[string]discovery.Node
	// autoFollow is the stored setting (feed.MeshSettings.AutoFollow);
	// cfg.forceAutoFollow turns it on whatever is stored.
	autoFollow bool
	settingsMu sync.Mutex // one SetSettings at a time
}

// MeshConfig tunes a Mesh; zero values take the defaults.
type MeshConfig struct {
	// Batch is how many replicas one transaction applies during catch-up;
	// default DefaultMeshBatch.
	Batch int
	// MinBackoff and MaxBackoff bound the wait before a follower dials a
	// node again; defaults client.DefaultMinBackoff, client.DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// EpochChanges is how many new epochs a node may announce within
	// EpochWindow; each one drops its replicas and replicates it from 0,
	// so a node flapping beyond that is refused (nothing dropped) until
	// it has stopped for a window. Defaults DefaultEpochChanges and
	// DefaultEpochWindow.
	EpochChanges int
	EpochWindow  time.Duration

	// forceAutoFollow is Config.AutoFollow: auto-follow is on for this run
	// whatever the stored setting says.
	forceAutoFollow bool
}

// DefaultMeshBatch amortises one transaction's fixed costs (its fsync,
// the WAL frames of the pages every replica touches) over many replicas
// during a catch-up: 1,024 took about a sixth less CPU per change than 256
// in BenchmarkStore_ApplyBatch, and 4,096 no less than 1,024. A local
// write queued behind such a transaction waits for it: about 30 ms of CPU
// at the 2026-12-02 cost of a replica (bench/ANALYSIS.md).
const DefaultMeshBatch = 1024

// A node's epoch changes when its database is recreated: rarely, by hand.
// Three times in ten minutes is a generous allowance for someone trying
// things out; more is a broken or hostile node making every follower drop
// and copy it again and again.
const (
	DefaultEpochChanges = 3
	DefaultEpochWindow  = 10 * time.Minute
)

// follower is one followed node's replication loop and its state.
type follower struct {
	node   string
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	state feed.FollowInfo

	// epochs are the new epochs the node announced (in a reset) within the
	// last window, oldest first. Only the follower's goroutine uses them.
	epochs []epochChange
}

type epochChange struct {
	epoch string
	at    time.Time
}

// newEpoch records that the node announced epoch at now and returns an
// error if that is one epoch change too many within window: the node
// flaps. A reset to the epoch announced last is no new change (the retry
// of a refused one).
func (f *follower) newEpoch(epoch string, now time.Time, limit int, window time.Duration) error {
	i := 0
	for i < len(f.epochs) && now.Sub(f.epochs[i].at) >= window {
		i++
	}
	f.epochs = f.epochs[i:]
	if n := len(f.epochs); n == 0 || f.epochs[n-1].epoch != epoch {
		f.epochs = append(f.epochs, epochChange{epoch, now})
	}
	if len(f.epochs) > limit {
		return fmt.Errorf("epoch flapping: %d new epochs within %v (at most %d are followed); the latest, %s, is refused",
			len(f.epochs), window, limit, epoch)
	}
	return nil
}

func (f *follower) set(fn func(*feed.FollowInfo)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.state)
}

func (f *follower) info() feed.FollowInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// newMesh returns a Mesh over svc; start starts its followers.
func newMesh(svc *Service, st *store.Store, log *slog.Logger, cfg MeshConfig) *Mesh {
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultMeshBatch
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = client.DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(client.DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.EpochChanges <= 0 {
		cfg.EpochChanges = DefaultEpochChanges
	}
	if cfg.EpochWindow <= 0 {
		cfg.EpochWindow = DefaultEpochWindow
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Mesh{svc: svc, st: st, log: log, cfg: cfg, ctx: ctx, cancel: cancel, followers: map[string]*follower{},
		hinting: map[string]bool{}, declined: map[string]bool{}, nearby: map[string]discovery.Node{}}
}

// start reads the settings and the declined nodes and starts a follower
// for every followed node.
func (m *Mesh) start(ctx context.Context) error {
	rows, err := m.st.Follows(ctx)
	if err != nil {
		return err
	}
	declined, err := m.st.Declined(ctx)
	if err != nil {
		return err
	}
	settings, err := m.st.MeshSettings(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range declined {
		m.declined[id] = true
	}
	m.autoFollow = settings.AutoFollow
	for _, row := range rows {
		m.startLocked(row)
	}
	return nil
}

// startLocked starts the follower of row, replacing a running one. m.mu
// must be held.
func (m *Mesh) startLocked(row store.Follow) {
	if m.closed {
		return
	}
	if old := m.followers[row.Node]; old != nil {
		old.cancel()
		<-old.done
	}
	ctx, cancel := context.WithCancel(m.ctx)
	f := &follower{node: row.Node, cancel: cancel, done: make(chan struct{}),
		state: feed.FollowInfo{Node: row.Node, Name: row.Name, URL: row.URL, State: feed.FollowConnecting,
			Seq: row.Seq, Since: feed.Now()}}
	m.followers[row.Node] = f
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(f.done)
		m.run(ctx, f)
	}()
}

// stop stops node's follower, if it runs, and waits for it.
func (m *Mesh) stop(node string) {
	m.mu.Lock()
	f := m.followers[node]
	delete(m.followers, node)
	m.mu.Unlock()
	if f != nil {
		f.cancel()
		<-f.done
	}
}

// Close stops every follower and waits for them. It is idempotent.
func (m *Mesh) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
}

// errWrongNode ends a follower for good: the address answers as another
// node, and the id, not the address, decides who a node is.
var errWrongNode = errors.New("wrong node")

// run replicates f's node until ctx ends: each round resumes from the
// position committed in the store, so nothing applied is asked for twice
// and nothing refused is skipped.
func (m *Mesh) run(ctx context.Context, f *follower) {
	bo := client.Backoff{Min: m.cfg.MinBackoff, Max: m.cfg.MaxBackoff}
	for {
		row, err := m.st.Follow(ctx, f.node)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Error("follow: cannot read the position", "node", f.node, "err", err)
			}
			return
		}
		r := &replication{m: m, f: f, row: row, pos: row.Seq, epoch: row.Epoch}
		fc := client.FollowConfig{
			Config: client.Config{URL: row.URL, Name: m.svc.Identity().Name, NoPresence: true, OwnPostsOnly: true,
				Resume: &client.Position{Epoch: row.Epoch, Seq: row.Seq}},
			MinBackoff: m.cfg.MinBackoff, MaxBackoff: m.cfg.MaxBackoff,
			OnRetry: func(err error, wait time.Duration) {
				// r.pending stays: the Follower resumes after it, and the
				// next hello commits it before anything else.
				m.log.Info("follow: node unreachable", "node", row.Node, "name", row.Name, "url", row.URL, "err", err, "retry", wait)
				f.set(func(s *feed.FollowInfo) {
					if s.State != feed.FollowOffline {
						s.Since = feed.Now()
					}
					s.State, s.Reason = feed.FollowOffline, err.Error()
				})
			},
		}
		err = runRound(ctx, client.NewFollower(fc), r.handle)
		if ctx.Err() != nil {
			return
		}
		// A node that stayed live for a while earns a quick retry; one that
		// is refused each time it goes live keeps backing off.
		if !r.liveAt.IsZero() && time.Since(r.liveAt) > m.cfg.MaxBackoff {
			bo.Reset()
		}
		f.set(func(s *feed.FollowInfo) { s.State, s.Reason, s.Since = feed.FollowRefused, err.Error(), feed.Now() })
		if errors.Is(err, errWrongNode) {
			m.log.Warn("follow: another node answers at the address; stopped until followed again", "node", row.Node,
				"name", row.Name, "url", row.URL, "err", err)
			return
		}
		wait := bo.Next()
		m.log.Warn("follow: refused what the node sent; dropping the connection", "node", row.Node, "name", row.Name,
			"url", row.URL, "err", err, "retry", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// runRound runs fl, turning a panic (a bug, here or in what the node's
// frames reach) into an error: one follower's failure must not stop the
// node or the other followers.
func runRound(ctx context.Context, fl *client.Follower, handle func(client.Event) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error while following: %v", p)
		}
	}()
	return fl.Run(ctx, handle)
}

// replication is one round of a follower: one client.Follower, across its
// reconnects, and the changes received but not yet committed.
type replication struct {
	m   *Mesh
	f   *follower
	row store.Follow

	epoch string // the node's epoch, from hello or reset
	pos   int64  // the node's seq of the last change received
	// helloEpoch is the epoch of the current connection's hello; while it
	// is not epoch, the next frame must be the reset that says so.
	helloEpoch string
	pending    []store.Op
	synced     bool      // the replay of the current connection has ended
	liveAt     time.Time // when a connection of this round first reached live
}

// handle is the client.Follower's handler: it checks each event and
// batches replicas, committing them with their position when the batch is
// full, at the end of a replay and at once for each live change.
func (r *replication) handle(ev client.Event) error {
	switch ev := ev.(type) {
	case *client.Hello:
		if ev.Node.ID != r.row.Node {
			return fmt.Errorf("%w: %s answers as node %s (%s), not %s", errWrongNode, r.row.URL, ev.Node.ID, ev.Node.Name, r.row.Node)
		}
		if ev.Epoch == "" {
			return errors.New("hello without an epoch")
		}
		if r.epoch == "" { // the first hello: the position counts in its epoch
			r.epoch = ev.Epoch
		}
		r.helloEpoch = ev.Epoch
		// Left from a connection that broke mid-batch; they came in r.epoch,
		// which a new epoch here would answer with a reset.
		if err := r.flush(); err != nil {
			return err
		}
		if ev.Node.Name != r.row.Name && feed.CheckName("name", ev.Node.Name) == nil {
			if err := r.m.st.RenameFollow(r.m.ctx, r.row.Node, ev.Node.Name); err == nil {
				r.row.Name = strings.TrimSpace(ev.Node.Name)
			}
		}
		r.synced = false
		r.f.set(func(s *feed.FollowInfo) {
			// Reason stays until live: the last problem, while a retry
			// catches up. A refused node stays refused until a retry gets
			// it live: its state does not flicker with every retry.
			s.Name, s.NodeSeq = r.row.Name, ev.Seq
			if s.State != feed.FollowRefused {
				s.State, s.Since = feed.FollowCatchingUp, feed.Now()
			}
		})
	case *client.Reset:
		// The node's database is another one: what is held from it goes,
		// telling this node's clients, and replication starts from 0.
		if ev.Epoch == "" || ev.Epoch == r.epoch || ev.Epoch != r.helloEpoch {
			return fmt.Errorf("reset to epoch %q, which is not the new epoch %s of its hello", ev.Epoch, r.helloEpoch)
		}
		if err := r.f.newEpoch(ev.Epoch, time.Now(), r.m.cfg.EpochChanges, r.m.cfg.EpochWindow); err != nil {
			return err // before the drop: a flapping node costs nothing more
		}
		r.pending = r.pending[:0]
		if err := r.m.drop(r.m.ctx, r.row.Node); err != nil {
			return fmt.Errorf("drop replicas for the new epoch %s: %w", ev.Epoch, err)
		}
		r.m.log.Info("follow: node has a new epoch; its replicas were dropped", "node", r.row.Node, "name", r.row.Name, "epoch", ev.Epoch)
		r.epoch, r.pos = ev.Epoch, 0
		r.f.set(func(s *feed.FollowInfo) { s.Seq = 0 })
	case *client.PostEvent:
		if r.helloEpoch != r.epoch {
			return fmt.Errorf("change %d in epoch %s without a reset from epoch %s", ev.Seq, r.helloEpoch, r.epoch)
		}
		if ev.Seq <= r.pos {
			return fmt.Errorf("seq went backwards: %d after %d", ev.Seq, r.pos)
		}
		op := store.ReplicaOp(r.row.Node, ev.Post)
		if err := op.Check(); err != nil {
			return fmt.Errorf("change %d refused: %w", ev.Seq, err)
		}
		r.pending = append(r.pending, op)
		r.pos = ev.Seq
		if r.synced || len(r.pending) >= r.m.cfg.Batch {
			return r.flush()
		}
	case *client.Synced:
		if r.helloEpoch != r.epoch {
			return fmt.Errorf("synced in epoch %s without a reset from epoch %s", r.helloEpoch, r.epoch)
		}
		if ev.Seq < r.pos {
			return fmt.Errorf("synced at %d, behind change %d it sent", ev.Seq, r.pos)
		}
		r.pos = ev.Seq
		r.synced = true
		if r.liveAt.IsZero() {
			r.liveAt = time.Now()
		}
		if err := r.flush(); err != nil {
			return err
		}
		r.f.set(func(s *feed.FollowInfo) {
			s.State, s.NodeSeq, s.Reason, s.Since = feed.FollowLive, max(s.NodeSeq, ev.Seq), "", feed.Now()
		})
	}
	return nil
}

// flush commits the pending replicas and the position r.pos in one
// transaction. Any refusal fails it: the position stays where it was.
func (r *replication) flush() error {
	if r.epoch == "" { // hello always sets it; never reached
		return errors.New("no epoch to record the position in")
	}
	ops := append(r.pending, store.PositionOp(r.row.Node, r.epoch, r.pos))
	r.pending = r.pending[:0]
	for _, res := range r.m.svc.applyBatch(r.m.ctx, ops) {
		if res.Err != nil {
			return fmt.Errorf("change refused: %w", res.Err)
		}
	}
	r.f.set(func(s *feed.FollowInfo) {
		s.Seq = r.pos
		s.NodeSeq = max(s.NodeSeq, r.pos)
	})
	return nil
}

// drop drops every replica of node through the group commit, so that this
// node's clients see each one deleted, and clears the position in its log.
func (m *Mesh) drop(ctx context.Context, node string) error {
	for {
		ops, last, err := m.st.DropOps(ctx, node, m.cfg.Batch)
		if err != nil {
			return err
		}
		for _, res := range m.svc.applyBatch(ctx, ops) {
			if res.Err != nil {
				return res.Err
			}
		}
		if last {
			return nil
		}
	}
}

// Follow follows the node at rawURL: it connects, learns the node's id and
// name from its hello, records the follow and starts replicating. Following
// a node already followed updates its address and keeps the position. It
// is an explicit follow: a node unfollowed here earlier is followed again,
// and auto-follow may follow it again after a later unfollow is undone.
func (m *Mesh) Follow(ctx context.Context, rawURL string) (feed.FollowInfo, error) {
	fi, _, err := m.follow(ctx, rawURL, "", false)
	return fi, err
}

// follow is Follow; unreachable reports an error worth retrying later. A
// want other than "" is the node id the address must answer with. An auto
// follow (a hint) leaves a node unfollowed here alone (store.ErrDeclined).
func (m *Mesh) follow(ctx context.Context, rawURL, want string, auto bool) (_ feed.FollowInfo, unreachable bool, _ error) {
	rawURL = nodeURL(rawURL)
	c, err := client.Dial(ctx, client.Config{URL: rawURL, Name: m.svc.Identity().Name, NoPresence: true, OwnPostsOnly: true,
		DiscardEvents: true})
	if err != nil {
		return feed.FollowInfo{}, true, feed.Invalid("url", fmt.Sprintf("cannot reach a node at %s: %v", rawURL, err))
	}
	hello := c.Hello()
	c.Close()
	if hello.Node.ID == m.svc.Identity().ID {
		return feed.FollowInfo{}, false, feed.Invalid("url", rawURL+" is this node: a node never follows itself")
	}
	if want != "" && hello.Node.ID != want {
		return feed.FollowInfo{}, false, fmt.Errorf("%w: %s answers as node %s (%s), not %s", errWrongNode, rawURL,
			hello.Node.ID, hello.Node.Name, want)
	}
	before, known := m.st.Follow(ctx, hello.Node.ID)
	add := m.st.AddFollow
	if auto {
		add = m.st.AutoFollow
	}
	row, err := add(ctx, rawURL, hello.Node.ID, hello.Node.Name)
	if err != nil {
		return feed.FollowInfo{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return feed.FollowInfo{}, false, errClosing
	}
	if auto && m.declined[row.Node] {
		// Unfollowed while this hint was on its way; that Unfollow removes
		// the row it just wrote.
		return feed.FollowInfo{}, false, fmt.Errorf("%w (node %s)", store.ErrDeclined, row.Node)
	}
	delete(m.declined, row.Node)
	if f := m.followers[row.Node]; f == nil || known != nil || before.URL != row.URL {
		m.startLocked(row) // new, or moved: the follower dials the new address
	}
	return m.followers[row.Node].info(), false, nil
}

// nodeURL is how a follow row keeps an address: http(s), as a user
// would type it; "host:port" and ws(s) URLs are accepted too.
func nodeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(raw, "ws://"):
		return "http://" + strings.TrimPrefix(raw, "ws://")
	case strings.HasPrefix(raw, "wss://"):
		return "https://" + strings.TrimPrefix(raw, "wss://")
	case !strings.Contains(raw, "://"):
		return "http://" + raw
	}
	return raw
}

// errClosing answers a call that arrives while the node shuts down.
var errClosing = feed.Errorf(feed.CodeInternal, "the node is shutting down")

// followLater follows rawURL in the background, retrying with backoff while
// the node cannot be reached, until it succeeds or Close: for --follow,
// whose nodes may start after this one.
func (m *Mesh) followLater(rawURL string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		bo := client.Backoff{Min: m.cfg.MinBackoff, Max: m.cfg.MaxBackoff}
		for {
			_, unreachable, err := m.follow(m.ctx, rawURL, "", false)
			if err == nil || m.ctx.Err() != nil {
				return
			}
			if !unreachable {
				m.log.Error("follow: cannot follow", "url", rawURL, "err", err)
				return
			}
			m.log.Info("follow: cannot follow yet", "url", rawURL, "err", err)
			t := time.NewTimer(bo.Next())
			select {
			case <-m.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
}

// hintWait bounds trying one address of a hint: an announced address that
// does not answer within it is most likely not routable from here.
const hintWait = 3 * time.Second

// Hint tells the mesh that discovery saw node id at urls (in the order to
// try them), for --auto-follow. It returns at once; the addresses are tried
// in the background. Discovery is a hint, not an identity: an address is
// followed only if its hello answers with id, since a TXT record can claim
// any id. Hints for this node, for a node unfollowed here (declined), for a
// node whose hint is still being tried, and for a node already followed
// are ignored, except that a follow which is offline or refused moves to
// the first address that answers as it.
func (m *Mesh) Hint(id string, urls []string) {
	if id == m.svc.Identity().ID || len(urls) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.hinting[id] || !m.wantsHintLocked(id) {
		return
	}
	m.hinting[id] = true
	urls = slices.Clone(urls)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer func() {
			m.mu.Lock()
			delete(m.hinting, id)
			m.mu.Unlock()
		}()
		m.hint(m.ctx, id, urls)
	}()
}

// wantsHintLocked reports whether a hint for id is worth trying: id is not
// declined, and not followed or its follower cannot reach it where it is.
// m.mu must be held.
func (m *Mesh) wantsHintLocked(id string) bool {
	if m.declined[id] {
		return false
	}
	f := m.followers[id]
	if f == nil {
		return true
	}
	st := f.info().State
	return st == feed.FollowOffline || st == feed.FollowRefused
}

// hint follows id at the first of urls whose hello answers as id, and
// reports whether one did. It logs each address it skips.
func (m *Mesh) hint(ctx context.Context, id string, urls []string) bool {
	if id == m.svc.Identity().ID {
		return false
	}
	for _, u := range urls {
		m.mu.Lock()
		f, wanted := m.followers[id], m.wantsHintLocked(id)
		m.mu.Unlock()
		if !wanted {
			return false // followed meanwhile, or back live
		}
		if f != nil && f.info().URL == nodeURL(u) {
			continue // its follower keeps retrying that address already
		}
		hctx, cancel := context.WithTimeout(ctx, hintWait)
		fi, _, err := m.follow(hctx, u, id, true)
		cancel()
		if ctx.Err() != nil {
			return false
		}
		if err != nil {
			level := slog.LevelInfo
			if errors.Is(err, errWrongNode) {
				level = slog.LevelWarn
			}
			m.log.Log(ctx, level, "auto-follow: skipping a discovered address", "node", id, "url", u, "err", err)
			continue
		}
		m.log.Info("auto-follow: following a discovered node", "node", fi.Node, "name", fi.Name, "url", fi.URL)
		return true
	}
	return false
}

// Unfollow stops following node and drops its replicas, telling this
// node's clients. Unfollowing a node no longer followed still drops what is
// left of it (say, after a crash mid-unfollow). The node is remembered as
// declined, in the database: auto-follow does not follow it again when it
// is next seen; an explicit Follow does.
func (m *Mesh) Unfollow(ctx context.Context, node string) error {
	if err := feed.CheckID("node", node); err != nil {
		return err
	}
	if node == m.svc.Identity().ID {
		return feed.Invalid("node", "this is this node's own id")
	}
	m.mu.Lock()
	m.declined[node] = true // before the stop: no hint starts it again meanwhile
	m.mu.Unlock()
	m.stop(node)
	rmErr := m.st.Unfollow(ctx, node)
	if rmErr != nil && feed.AsError(rmErr).Code != feed.CodeNotFound {
		return rmErr
	}
	if err := m.drop(ctx, node); err != nil {
		return fmt.Errorf("app: drop the replicas of %s: %w", node, err)
	}
	return rmErr
}

// Follows lists the followed nodes with their replication state.
func (m *Mesh) Follows(ctx context.Context) ([]feed.FollowInfo, error) {
	rows, err := m.st.Follows(ctx)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	list := make([]feed.FollowInfo, 0, len(rows))
	for _, row := range rows {
		fi := feed.FollowInfo{Node: row.Node, Name: row.Name, URL: row.URL, State: feed.FollowConnecting, Seq: row.Seq,
			Since: feed.UnixMilli(row.AddedAt.UnixMilli())}
		if f := m.followers[row.Node]; f != nil {
			fi = f.info()
			fi.Name, fi.URL = row.Name, row.URL
		}
		list = append(list, fi)
	}
	return list, nil
}
