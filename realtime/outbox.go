package realtime

import (
	"sync"
	"time"
)

// CloseTryAgainLater (1013) is sent to a peer whose queue overflowed.
const CloseTryAgainLater = 1013

// queued is one outgoing frame; seq is the post change it carries, 0 for
// frames outside the post stream (hello, acks, errors, presence).
type queued struct {
	frame []byte
	seq   int64
}

type syncRequest struct {
	since int64
	epoch string
}

type closeRequest struct {
	code   int
	reason string
}

// outbox is everything a peer's writer owes the connection: frames bounded
// in bytes, a due ping or pong, a sync to replay, a close to perform. It
// also owns the writer's lifetime: the writer runs only while the outbox
// has work. Whoever adds work kicks it (start runs the writer once); the
// writer takes all the work in one go and, when idle reports nothing is
// left, ends; the next kick starts a new one. So an idle peer costs no
// goroutine, and there is never more than one writer, so frames keep their
// order.
//
// A broadcast's frames may skip the writer: when no writer runs (so
// nothing else is queued), send lists the peer for a flusher of the hub
// instead of starting one, and the flusher writes every frame queued
// meanwhile to the socket with one non-blocking write (flushDirect), under
// o.mu, so that no writer can start meanwhile. Only frames the socket did
// not take whole involve the writer: all of them still queued (nothing
// written), or the rest owed, which the writer sends before anything else.
//
// Post frames are filtered by seq: one at or below floor has been delivered
// or replayed already, and while a replay runs none is queued (the database
// has them). Once a close is requested nothing more is queued, and once
// stopped (the reader ended) no writer starts again.
type outbox struct {
	limit int    // bytes of frames the outbox holds at most
	start func() // starts a writer goroutine; called with mu held
	// direct writes framed frames straight to the socket; nil: the peer
	// has no socket of its own, every frame goes through the writer.
	direct func(wire []byte) directResult

	mu        sync.Mutex
	frames    []queued
	bytes     int           // bytes in frames
	floor     int64         // post frames with seq <= floor are already delivered or replayed
	replaying bool          // a sync is under way: post frames come from the database
	pending   *syncRequest  // sync waiting for the writer
	closing   *closeRequest // once set, nothing more is queued
	pingDue   bool          // the writer owes the peer a ping
	owed      bool          // a direct write left the rest of a frame for the writer
	listed    bool          // the hub's flusher will write what is queued
	directs   int           // frames the flusher wrote, whole or owed (for tests)
	pongDue   bool          // the writer owes the peer a pong carrying pong
	pong      []byte
	pinger    *time.Timer // asks for a ping every period, see pingEvery
	writing   bool        // a writer is running, or has ended for good
	held      bool        // no writer starts until release
	stopped   bool        // the reader has ended: start nothing more
}

// newOutbox returns an empty outbox holding at most limit bytes of frames,
// live from seq floor on, or replaying initial first when it is set. It
// starts held: work queues up, and the writer starts at release.
func newOutbox(limit int, floor int64, initial *syncRequest, start func()) *outbox {
	return &outbox{limit: limit, start: start, floor: floor, pending: initial, replaying: initial != nil, held: true}
}

// release lets the writer start, at once if work is queued. The hub holds a
// new peer's outbox until its own join is queued behind its hello, so that
// the join comes before any replay.
func (o *outbox) release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.held = false
	if len(o.frames) > 0 || o.pending != nil || o.closing != nil || o.pingDue || o.pongDue {
		o.kick()
	}
}

// push appends frame unless the outbox is closing, already has the post
// change, or is replaying. It never blocks; a frame that would take the
// outbox over its limit drops everything queued and closes the peer with
// 1013 instead.
func (o *outbox) push(frame []byte, seq int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing != nil || (seq > 0 && (o.replaying || seq <= o.floor)) {
		return
	}
	o.queueLocked(frame, seq)
}

// queueLocked appends frame, or closes the peer with 1013 when frame would
// take the outbox over its limit. o.mu must be held.
func (o *outbox) queueLocked(frame []byte, seq int64) {
	if o.bytes+len(frame) > o.limit {
		o.frames, o.bytes = nil, 0
		o.closing = &closeRequest{CloseTryAgainLater, "too slow: outgoing queue full; reconnect and sync"}
		o.kick()
		return
	}
	o.frames = append(o.frames, queued{frame, seq})
	o.bytes += len(frame)
	o.kick()
}

// send is push for a broadcast's frame. When no writer runs (and the
// outbox is neither held nor stopped) nothing else is queued, since any
// other work kicks a writer, which ends only once the outbox is empty:
// then the frame waits for the hub's flusher instead, and send reports
// whether the peer must be put on the flusher's list (it is not yet).
func (o *outbox) send(frame []byte, seq int64) (list bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing != nil || (seq > 0 && (o.replaying || seq <= o.floor)) {
		return false
	}
	if o.direct == nil || o.writing || o.held || o.stopped {
		o.queueLocked(frame, seq)
		return false
	}
	if o.bytes+len(frame) > o.limit {
		o.queueLocked(frame, seq) // the overflow: 1013 by the writer
		return false
	}
	o.frames = append(o.frames, queued{frame, seq})
	o.bytes += len(frame)
	list, o.listed = !o.listed, true
	return list
}

// flushDirect is the hub's flusher's turn: unless a writer has taken over
// meanwhile, it writes every queued frame, framed into buf, with one
// direct write. A socket that takes none of it leaves the frames to the
// writer.
func (o *outbox) flushDirect(buf *[]byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.listed = false
	if o.writing || o.held || o.stopped || len(o.frames) == 0 {
		return // the writer has them (or a close dropped them)
	}
	b := (*buf)[:0]
	for _, q := range o.frames {
		b = appendTextFrame(b, q.frame)
	}
	*buf = b
	switch o.direct(b) {
	case directRefused:
		o.kick()
		return
	case directOwed:
		o.owed = true
		o.kick()
	}
	o.directs += len(o.frames)
	clear(o.frames)
	o.frames, o.bytes = o.frames[:0], 0
	if cap(o.frames) > reuseFrames {
		o.frames = nil // a burst's backlog is not kept for an idle peer
	}
}

// reuseFrames is how many queued frames' room flushDirect keeps for the
// next ones, saving an allocation per delivery.
const reuseFrames = 16

// kick starts the writer unless it is running or the outbox has stopped.
// o.mu must be held.
func (o *outbox) kick() {
	if o.writing || o.held || o.stopped {
		return
	}
	o.writing = true
	o.start()
}

// queuePong asks the writer to answer a ping; only the latest one is
// answered (RFC 6455 5.5.3 allows that).
func (o *outbox) queuePong(data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing != nil {
		return
	}
	o.pongDue, o.pong = true, data
	o.kick()
}

// pingEvery asks the writer for a ping every period until stop.
func (o *outbox) pingEvery(period time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	tick := func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.stopped {
			return
		}
		o.pingDue = true
		o.kick()
		o.pinger.Reset(period)
	}
	o.pinger = time.AfterFunc(period, tick)
}

// close asks the writer to send a close frame and end; what is queued is
// dropped. Only the first close counts.
func (o *outbox) close(code int, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing == nil {
		o.frames, o.bytes = nil, 0
		o.closing = &closeRequest{code, reason}
		o.kick()
	}
}

// closeAfterQueue is close, but what is already queued (the errors that
// explain the close) is written first.
func (o *outbox) closeAfterQueue(code int, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing == nil {
		o.closing = &closeRequest{code, reason}
		o.kick()
	}
}

// requestSync switches to replay: post frames already queued would
// duplicate the replay, so they are dropped, and new ones are not queued
// until goLive.
func (o *outbox) requestSync(r syncRequest) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.replaying = true
	kept := o.frames[:0]
	o.bytes = 0
	for _, q := range o.frames {
		if q.seq == 0 {
			kept = append(kept, q)
			o.bytes += len(q.frame)
		}
	}
	clear(o.frames[len(kept):])
	o.frames = kept
	o.pending = &r
	o.kick()
}

// work is what the writer takes from the outbox in one go.
type work struct {
	frames  []queued
	sync    *syncRequest
	closing *closeRequest
	ping    bool
	pongDue bool
	pong    []byte
	owed    bool // the connection holds the rest of a direct write
}

// take empties the outbox for the writer.
func (o *outbox) take() work {
	o.mu.Lock()
	defer o.mu.Unlock()
	w := work{frames: o.frames, sync: o.pending, closing: o.closing, ping: o.pingDue, pongDue: o.pongDue, pong: o.pong, owed: o.owed}
	o.frames, o.bytes, o.pending, o.pingDue, o.pongDue, o.pong, o.owed = nil, 0, nil, false, false, nil, false
	return w
}

// idle reports whether nothing is left to do; the writer then ends and the
// next kick starts a new one. A writer that ends without asking (after an
// error or a close) leaves writing set: no writer starts again.
func (o *outbox) idle() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.frames) > 0 || o.pending != nil || o.closing != nil || o.pingDue || o.pongDue {
		return false
	}
	o.writing = false
	return true
}

// goLive ends a replay that reached seq unless a newer sync is pending or
// a newer change was broadcast (newest reads the hub's last seq; it is
// read under the lock, so a broadcast after it finds the outbox live and
// queues its frame). Changes broadcast but not yet pushed are at or below
// seq and get dropped.
func (o *outbox) goLive(seq int64, newest func() int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if newest() > seq || o.pending != nil {
		return false
	}
	o.replaying = false
	o.floor = seq
	return true
}

// whileOpen runs fn unless a close was requested, with the outbox locked so
// that no close can be requested meanwhile; it reports whether fn ran.
func (o *outbox) whileOpen(fn func()) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing != nil {
		return false
	}
	fn()
	return true
}

// stop marks the reader gone: no writer starts again and pings end.
func (o *outbox) stop() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stopped = true
	if o.pinger != nil {
		o.pinger.Stop()
	}
}
