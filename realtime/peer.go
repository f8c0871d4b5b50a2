package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"lanfeed/feed"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// peer is one websocket connection, with two goroutines at most:
//
//   - The reader (readLoop) owns the connection's lifetime: it reads and
//     handles messages (emits commit here, in the order sent), and when the
//     connection ends it unregisters the peer and closes the socket.
//   - The writer (writeLoop) is the only one writing (pongs included; the
//     reader writes only a final close, see peerConn) while it runs. It
//     runs only while the outbox has work; see outbox for how it starts
//     and ends. While it does not, a flusher of the hub writes a broadcast's
//     frames to the socket itself (outbox.flushDirect), under the
//     outbox's lock, which no writer can start without.
//
// A peer's states, all kept in its outbox:
//
//	live       post frames above floor are queued as they are broadcast
//	replaying  a sync is pending or streaming from the database; post
//	           frames are not queued; goLive returns to live at the seq
//	           the replay reached
//	closing    a close was requested (1001 shutdown, 1013 overflow, 1008
//	           flooding, ...); nothing more is queued, the writer sends the
//	           close frame and the reader waits closeGrace for the answer
//	stopped    the reader has ended; no writer starts again
//
// The hub's flushers write a broadcast's frames straight to each idle
// peer's socket with one non-blocking write, and start a writer only for
// a peer whose socket did not take them whole: no goroutine start, gorilla
// framing or write deadline per delivery while peers keep up. (Starting a
// writer per idle peer per post measured cheaper than waking a parked
// one, S2: 9.4 against 11.8 us; see bench/ANALYSIS.md for the flusher.)
type peer struct {
	hub      *Hub
	conn     *websocket.Conn
	out      *peerConn // conn's network connection, corked while the writer drains
	outbox   *outbox   // set by register
	id       uint64
	info     feed.Peer
	addr     string      // source address, for the connection caps
	canWrite bool        // the upgrade carried the pairing token
	presence bool        // the peer wants peers events (the default; ?presence=0 opts out)
	origin   string      // non-empty: only post changes of this origin (?origin=self: this node's id)
	token    string      // that token, re-checked on every emit; never logged
	dialect  *dialect    // the wire protocol: v1 or socketIO
	sio      *sioSession // a Socket.IO peer's session (sio.go); nil for v1
	revoked  atomic.Bool
	done     chan struct{} // closed when the reader ends

	// The reader's own: the emit token bucket (nil until the first emit or
	// sync message: most peers only listen) and the emits refused in a row.
	writes  *rate.Limiter
	refused int
}

// startWriter is the outbox's start: it runs with the outbox locked, by
// whoever added work. Every caller holds the hub's count for this peer's
// reader (a registered peer, or the reader itself), so the writer's wg.Add
// never races hub.Close.
func (p *peer) startWriter() {
	p.hub.wg.Add(1)
	go p.writeLoop()
}

// writeLoop is the only goroutine writing to the connection. It runs until
// the queue is empty; after an error or a close it ends for good (writing
// stays set).
func (p *peer) writeLoop() {
	defer p.hub.wg.Done()
	for {
		if err := p.flush(); err != nil {
			if !errors.Is(err, errClosing) {
				p.conn.Close() // unblocks the reader, which cleans up
			}
			return
		}
		if p.outbox.idle() {
			return
		}
	}
}

var errClosing = errors.New("peer closing")

// flush writes a due ping and what is queued, then performs a pending close
// or sync.
func (p *peer) flush() error {
	w := p.outbox.take()
	if err := p.writeWork(w); err != nil {
		return err
	}
	if w.sync != nil {
		return p.replay(*w.sync)
	}
	return nil
}

// writeWork writes w's ping and frames and performs its close (errClosing);
// its sync is the caller's.
func (p *peer) writeWork(w work) error {
	if w.ping {
		if err := p.ping(); err != nil {
			return err
		}
	}
	if w.pongDue {
		if err := p.conn.WriteControl(websocket.PongMessage, w.pong, time.Now().Add(p.hub.cfg.WriteWait)); err != nil {
			return err
		}
	}
	if err := p.writeFrames(w.frames); err != nil {
		return err
	}
	if w.owed { // unless the writes above sent it already
		if err := p.out.flushOwed(time.Now().Add(p.hub.cfg.WriteWait)); err != nil {
			return err
		}
	}
	if w.closing != nil {
		p.writeClose(w.closing)
		return errClosing
	}
	return nil
}

// writeFrames writes frames with one write() for all of them.
func (p *peer) writeFrames(frames []queued) error {
	if len(frames) == 0 {
		return nil
	}
	return p.corked(func() error {
		for _, q := range frames {
			if err := p.write(q.frame); err != nil {
				return err
			}
		}
		return nil
	})
}

// corked runs fn with the connection corked, so that the frames it writes
// leave in one write() (per corkLimit bytes).
func (p *peer) corked(fn func() error) error {
	p.out.cork()
	err := fn()
	if uerr := p.out.uncork(); err == nil {
		err = uerr
	}
	return err
}

func (p *peer) write(frame []byte) error {
	p.conn.SetWriteDeadline(time.Now().Add(p.hub.cfg.WriteWait))
	return p.conn.WriteMessage(websocket.TextMessage, frame)
}

func (p *peer) ping() error { return p.dialect.ping(p) }

// writeClose sends the close frame and gives the peer closeGrace to answer;
// the reader sees the answer (or the deadline) and closes the connection.
func (p *peer) writeClose(c *closeRequest) {
	msg := websocket.FormatCloseMessage(c.code, c.reason)
	p.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(p.hub.cfg.WriteWait))
	p.conn.SetReadDeadline(time.Now().Add(closeGrace))
}

// replay streams the posts changed after r.since straight from the database,
// at the pace of the socket, then switches the peer to live delivery. The
// rule (reset or replay, page by page) is the service's Sync, the same the
// desktop window resumes with; this loop only paces it. While it runs, live
// post frames are not queued (the database has them), so the replay never
// fills the queue; other frames are flushed between pages.
func (p *peer) replay(r syncRequest) error {
	since, epoch := r.since, r.epoch
	for {
		page, err := p.hub.svc.Sync(context.Background(), since, epoch, p.origin, p.hub.cfg.ReplayPage)
		if err != nil {
			p.hub.log.Error("replay failed", "peer", p.info.ID, "since", since, "err", err)
			p.outbox.close(websocket.CloseInternalServerErr, "replay failed; try again")
			return nil
		}
		if page.Reset { // another database, or a seq this node never reached
			if err := p.write(p.dialect.reset(page.Epoch)); err != nil {
				return err
			}
		}
		since, epoch = page.Seq, page.Epoch
		err = p.corked(func() error {
			for _, frame := range page.Events {
				if err := p.write(p.dialect.event(frame)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !page.More && p.outbox.goLive(since, p.hub.lastSeq.Load) {
			break
		}
		// Between pages: keep the connection alive and deliver acks and
		// presence that arrived meanwhile.
		select {
		case <-p.done:
			return errClosing
		default:
		}
		w := p.outbox.take()
		if err := p.writeWork(w); err != nil {
			return err
		}
		if w.sync != nil { // a newer sync replaces this one
			return p.replay(*w.sync)
		}
	}
	return p.write(p.dialect.synced(p, since, epoch))
}

// readLoop reads and handles the peer's messages until the connection ends,
// then unregisters the peer and closes the connection.
func (p *peer) readLoop() {
	defer p.hub.wg.Done()
	defer p.hub.leave(p)
	c := p.conn
	c.SetReadLimit(p.hub.cfg.MaxMessage)
	c.SetReadDeadline(time.Now().Add(p.hub.cfg.PongWait))
	c.SetPongHandler(func(string) error {
		p.extendRead()
		return nil
	})
	c.SetPingHandler(func(data string) error {
		p.outbox.queuePong([]byte(data)) // the writer answers: the reader never waits on a write
		return nil
	})
	for {
		kind, data, err := c.ReadMessage()
		if err != nil {
			if v := p.out.violation(); v != nil { // a framing error gorilla cannot see
				c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseProtocolError, v.Error()),
					time.Now().Add(p.hub.cfg.WriteWait))
			}
			return
		}
		if !p.extendRead() {
			continue // we said goodbye: only the peer's close (or closeGrace) ends this
		}
		p.dialect.read(p, kind, data)
	}
}

// extendRead gives the peer another PongWait to speak, unless it is closing:
// then the closeGrace that writeClose sets must stand, or a peer that keeps
// talking would hold Close (and its own drop) until the context ends, and
// its writes would commit with no ack ever sent. It reports whether the
// peer is still live.
func (p *peer) extendRead() bool {
	return p.outbox.whileOpen(func() { p.conn.SetReadDeadline(time.Now().Add(p.hub.cfg.PongWait)) })
}

// handle processes one message. Emits run here, in the reader, so one peer's
// writes commit in the order it sent them.
func (p *peer) handle(data []byte) {
	var m inbound
	if len(bytes.TrimSpace(data)) == 0 {
		p.sendError(nil, feed.Errorf(feed.CodeBadRequest, "the message is empty: send %s, one per text frame", messageShape))
		return
	}
	if err := json.Unmarshal(data, &m); err != nil {
		// A field of the wrong type still leaves the others decoded: echo the
		// id so that the sender can match the error to its emit (unless the
		// id itself was the bad field: then it holds a zero, not the id).
		var typeErr *json.UnmarshalTypeError
		var id *int64
		if errors.As(err, &typeErr) && typeErr.Field != "id" {
			id = m.ID
		}
		// A wrong field here is the envelope's, not a post's: bad_request.
		e := jsonError(err, data, "the message", messageShape, fieldList(&m))
		p.sendError(id, feed.Errorf(feed.CodeBadRequest, "%s", e.Message))
		return
	}
	switch m.Type {
	case "sync":
		if m.Since == nil || *m.Since < 0 {
			p.sendError(m.ID, feed.Errorf(feed.CodeBadRequest, "sync needs \"since\": a seq of 0 or more"))
			return
		}
		if err := p.throttle(); err != nil { // a replay reads the database: same budget as writes
			p.sendError(m.ID, feed.AsError(err))
			return
		}
		p.outbox.requestSync(syncRequest{since: *m.Since, epoch: m.Epoch})
	case "emit":
		if m.ID == nil {
			p.sendError(nil, feed.Errorf(feed.CodeBadRequest, `an emit needs "id": a whole number, which its ack or error carries back`))
			return
		}
		if err := p.emit(m); err != nil {
			e := feed.AsError(err)
			if e.Code == feed.CodeInternal {
				p.hub.log.Error("emit failed", "peer", p.info.ID, "event", m.Event, "err", err)
			}
			p.sendError(m.ID, e)
		}
	case "":
		p.sendError(m.ID, feed.Errorf(feed.CodeBadRequest, `the message has no "type": send %s`, messageShape))
	default:
		p.sendError(m.ID, feed.Errorf(feed.CodeBadRequest, `unknown message type %.40q: a peer sends "emit" or "sync"`, m.Type))
	}
}

// messageShape is what a peer's message must be.
const messageShape = `a JSON object whose "type" is "emit" or "sync"`

// emit decodes and performs one write. On success the application broadcasts
// the change, which queues the ack for this peer in seq order.
func (p *peer) emit(m inbound) error {
	if err := p.throttle(); err != nil { // first: refused emits must not be free either
		return err
	}
	if !p.mayWrite() {
		if p.canWrite {
			return feed.Errorf(feed.CodeUnauthorized, tokenChanged)
		}
		return feed.Errorf(feed.CodeUnauthorized, noTokenWS)
	}
	ctx := context.Background()
	by := feed.Caller{Peer: p.id, EmitID: *m.ID}
	switch m.Event {
	case EmitCreate:
		var in feed.NewPost
		if err := decodeData(m.Data, &in, "the data of "+m.Event); err != nil {
			return err
		}
		_, err := p.hub.svc.Create(ctx, in, by)
		return err
	case EmitUpdate:
		var in emitUpdate
		if err := decodeData(m.Data, &in, "the data of "+m.Event); err != nil {
			return err
		}
		if in.ID == "" {
			return feed.Invalid("id", "id is required")
		}
		_, err := p.hub.svc.Update(ctx, in.ID, in.PostPatch, by)
		return err
	case EmitDelete:
		var in emitDelete
		if err := decodeData(m.Data, &in, "the data of "+m.Event); err != nil {
			return err
		}
		if in.ID == "" {
			return feed.Invalid("id", "id is required")
		}
		_, err := p.hub.svc.Delete(ctx, in.ID, in.Version, by)
		return err
	default:
		if m.Event == "" {
			return feed.Errorf(feed.CodeBadRequest, `the emit has no "event": give %s, %s or %s`, EmitCreate, EmitUpdate, EmitDelete)
		}
		return feed.Errorf(feed.CodeBadRequest, "unknown event %.40q: an emit's event is %s, %s or %s", m.Event, EmitCreate, EmitUpdate, EmitDelete)
	}
}

// tokenChanged tells a peer why its token stopped working.
const tokenChanged = "the pairing token was changed; reconnect with the new token"

// mayWrite reports whether the peer's token still is the pairing token: a
// rotation takes write access away at once, even before the peer is told.
func (p *peer) mayWrite() bool {
	if !p.canWrite || p.revoked.Load() {
		return false
	}
	return p.token == "" || p.hub.svc.Authorize(p.token)
}

// throttle takes a token from the peer's bucket for one emit or sync. A
// refused emit writes nothing; a peer refused abuseFactor bursts in a row
// is not backing off: it is closed with 1008 and its address may not
// reconnect for FloodCooldown.
func (p *peer) throttle() error {
	cfg := &p.hub.cfg
	if cfg.WriteRate < 0 {
		return nil
	}
	if p.writes == nil {
		p.writes = rate.NewLimiter(rate.Limit(cfg.WriteRate), cfg.WriteBurst) // full
	}
	ok, wait := takeToken(p.writes, cfg.Now())
	if ok {
		p.refused = 0
		return nil
	}
	if p.refused++; p.refused >= abuseFactor*cfg.WriteBurst {
		p.hub.log.Warn("peer closed for flooding", "peer", p.info.ID, "addr", p.addr, "refused", p.refused)
		p.hub.barred.bar(p.addr, time.Now().Add(cfg.FloodCooldown))
		p.outbox.closeAfterQueue(websocket.ClosePolicyViolation, "too many writes: kept writing over the rate limit")
	}
	return feed.Errorf(feed.CodeRateLimited, "too many writes: at most %g a second in bursts of %d; retry in %v",
		cfg.WriteRate, cfg.WriteBurst, wait.Round(time.Millisecond))
}

func (p *peer) sendError(id *int64, e *feed.Error) { p.outbox.push(p.dialect.failed(id, e), 0) }

// leave runs when the reader ends: the peer is gone.
func (h *Hub) leave(p *peer) {
	p.outbox.stop()
	close(p.done)
	p.out.waitUncorked(h.cfg.WriteWait) // a close frame the reader wrote may wait in the cork
	p.conn.Close()
	if count, ok := h.unregister(p); ok {
		h.svc.Presence(feed.ActionLeave, p.info, count)
	}
	h.conns.release(p.addr)
}
