package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Reconnect backoff of a Follower, unless FollowConfig says otherwise.
const (
	// DefaultMinBackoff is the first backoff, and the one after every hello:
	// a node restarting takes about this long to listen again.
	DefaultMinBackoff = 250 * time.Millisecond
	// DefaultMaxBackoff caps the backoff: a node away for long is still
	// found within half a minute of its return.
	DefaultMaxBackoff = 30 * time.Second
)

// FollowConfig configures a Follower.
type FollowConfig struct {
	// Config says how to connect. Config.Resume is where to start (nil: at
	// the node's seq at the first hello, i.e. live events only); after that
	// the Follower resumes from its own Position. DiscardEvents is ignored.
	Config
	MinBackoff time.Duration // default DefaultMinBackoff
	MaxBackoff time.Duration // default DefaultMaxBackoff
	// OnRetry, if set, is told why a connection ended (or could not be
	// made) and how long the Follower waits before it dials again. Run
	// calls it, like the handler, from its caller's goroutine.
	OnRetry func(err error, wait time.Duration)
}

// Follower follows one node across disconnects, resuming from its Position
// each time. Its methods may be called from any goroutine.
type Follower struct {
	cfg     FollowConfig
	running atomic.Bool

	mu     sync.Mutex
	pos    Position
	hasPos bool // false until the first hello when starting live
}

// NewFollower returns a Follower; Run starts it.
func NewFollower(cfg FollowConfig) *Follower {
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	cfg.DiscardEvents = false
	f := &Follower{cfg: cfg}
	if cfg.Resume != nil {
		f.pos, f.hasPos = *cfg.Resume, true
	}
	return f
}

// Position returns the position after the last event the handler accepted;
// ok is false while a Follower that started live has not had its first
// hello.
func (f *Follower) Position() (pos Position, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pos, f.hasPos
}

// handlerError carries the handler's error out of a session.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

// Run follows the node until ctx is done, the handler fails or the node
// refuses the connection for good. It calls handle from the goroutine that
// called Run, with every event of every connection in order, each
// connection's *Hello first. An event the handler returns an error for does
// not move the Position, and Run returns that error as it is. Otherwise Run
// returns ctx.Err() once ctx is done, a *RefusedError for a 4xx handshake
// other than 429, or an error wrapping ErrProto when the node breaks the
// protocol (another version, a malformed, binary or oversized frame: a node
// that is broken or hostile, not a network failure); it retries every other
// failure after a backoff (see the package doc). Run may not be called again
// while it runs.
func (f *Follower) Run(ctx context.Context, handle func(Event) error) error {
	if !f.running.CompareAndSwap(false, true) {
		return errors.New("client: Follower.Run called while it runs")
	}
	defer f.running.Store(false)
	if _, err := wsURL(f.cfg.Config); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	bo := Backoff{Min: f.cfg.MinBackoff, Max: f.cfg.MaxBackoff}
	for {
		err := f.session(ctx, handle, &bo)
		if he, ok := err.(handlerError); ok {
			return he.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var re *RefusedError
		if refusedForGood := errors.As(err, &re) && !re.Retryable(); refusedForGood || errors.Is(err, ErrProto) {
			return err
		}
		wait := bo.Next()
		if re != nil {
			wait = max(wait, re.RetryAfter)
		}
		if f.cfg.OnRetry != nil {
			f.cfg.OnRetry(err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// session runs one connection: dial, resume, hand every event over.
func (f *Follower) session(ctx context.Context, handle func(Event) error, bo *Backoff) error {
	cfg := f.cfg.Config
	if pos, ok := f.Position(); ok {
		cfg.Resume = &pos
	}
	c, err := Dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	bo.Reset()
	var ev Event = c.Hello()
	for {
		if err := handle(ev); err != nil {
			return handlerError{err}
		}
		f.advance(ev)
		if ev, err = c.Next(ctx); err != nil {
			return err
		}
	}
}

// advance moves the position past an event the handler accepted.
func (f *Follower) advance(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h, ok := ev.(*Hello); ok && !f.hasPos {
		f.pos, f.hasPos = Position{Epoch: h.Epoch, Seq: h.Seq}, true
		return
	}
	f.pos = f.pos.After(ev)
}

// Backoff is exponential backoff with full jitter, the one policy of every
// reconnecting loop (a Follower, the mesh's rounds): each wait is random in
// [0, backoff), and the backoff doubles from Min up to Max. The zero value
// waits nothing; set Min and Max.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration // 0: Min
}

// Next returns the wait before the next attempt and doubles the backoff.
func (b *Backoff) Next() time.Duration {
	if b.cur < b.Min {
		b.cur = b.Min
	}
	if b.cur <= 0 {
		return 0
	}
	wait := rand.N(b.cur)
	b.cur = min(b.cur*2, b.Max)
	return wait
}

// Reset starts over from Min: the node answered.
func (b *Backoff) Reset() { b.cur = b.Min }
