package realtime

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// corkLimit is how many bytes a corked connection holds before it writes
// anyway: big enough to turn a burst of small frames into one write, small
// enough that a replay page of large posts does not sit in memory.
const corkLimit = 64 << 10

// corkBufs recycles cork buffers: an idle peer holds none.
var corkBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// deadlineSlack bounds how much earlier than asked a corked flush may time
// out, so that a busy writer re-arms the poller's timer (a cost on every
// change) about once a second, not on every flush. It is at most a quarter
// of the time the deadline leaves, so a short WriteWait stays meaningful.
const deadlineSlack = time.Second

// peerConn is the peer's network connection. On loopback and on a LAN one
// write() costs several microseconds whatever its size, so the writer
// corks the connection while it drains its queue: the frames gorilla writes
// meanwhile go to a buffer, and uncork sends them in one write.
//
// Only the writer goroutine writes while the peer lives (pongs go through
// it too), except for the direct writes of the hub's flushers, which
// happen only while no writer runs (see outbox.flushDirect); the reader
// writes only the close frame that ends the connection (gorilla's echo of
// a peer's close, or a protocol error). If that happens while the writer
// is corked, the frame waits in the buffer behind the writer's frames, in
// order, and leave waits for the flush before closing.
//
// A direct write (writeDirect) is one non-blocking write() of frames
// already framed, straight to the socket: it never parks and needs no
// deadline. What the socket does not take of it stays in buf, owed: every
// later write sends it first, and the writer the outbox starts for it
// flushes it (flushOwed). Once a close frame has been written, no direct
// write follows it (closeSent), as gorilla refuses to write after a close.
//
// Reads pass through a frameScanner, which stops the stream before a close
// frame gorilla would misread (see frameScanner). For that, gorilla must
// read through this type: the upgrader's ReadBufferSize is not 0, so gorilla
// does not reuse the server's buffered reader of the raw connection.
type peerConn struct {
	net.Conn
	scan frameScanner // the reader goroutine's own

	// raw is the socket's file descriptor, for writeDirect (nil: a
	// connection without one, such as a polling session's pipe, or a
	// platform without direct writes); rawWrite is the callback that
	// writes wb through it, made once so that a direct write allocates
	// nothing, and wn how many bytes it wrote. raw and rawWrite are set
	// once, at creation; wb and wn are guarded by mu.
	raw      syscall.RawConn
	rawWrite func(fd uintptr) bool
	wb       []byte
	wn       int

	mu        sync.Mutex
	corked    bool
	closeSent bool          // a close frame was written: no direct write may follow
	buf       *[]byte       // nil unless corked writes, or the rest of a direct write, are waiting
	deadline  time.Time     // the latest write deadline asked for
	pending   bool          // deadline is not yet applied
	applied   time.Time     // the write deadline Conn has (zero: none)
	flushed   chan struct{} // closed at uncork, for waitUncorked; nil unless someone waits
}

// newPeerConn wraps c, with direct writes where c's socket allows them.
func newPeerConn(c net.Conn) *peerConn {
	pc := &peerConn{Conn: c}
	pc.initDirect()
	return pc
}

// SetWriteDeadline implements net.Conn. gorilla sets a deadline before every
// frame; it is applied before the next write to the network (see
// applyDeadlineLocked).
func (c *peerConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked || !c.pending || t.After(c.deadline) { // while corked, the latest asked for counts
		c.deadline, c.pending = t, true
	}
	if !c.corked {
		return c.applyDeadlineLocked()
	}
	return nil
}

// SetDeadline implements net.Conn.
func (c *peerConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// applyDeadlineLocked gives Conn the deadline asked for, unless the one in
// force is at most deadlineSlack (or a quarter of the time left) earlier.
func (c *peerConn) applyDeadlineLocked() error {
	if !c.pending {
		return nil
	}
	t := c.deadline
	c.pending = false
	switch {
	case t.Equal(c.applied):
		return nil
	case !t.IsZero() && !c.applied.IsZero() && t.After(c.applied) && t.Sub(c.applied) <= min(deadlineSlack, time.Until(t)/4):
		return nil
	}
	c.applied = t
	return c.Conn.SetWriteDeadline(t)
}

// Write implements net.Conn. Bytes owed by a direct write go first.
func (c *peerConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if isCloseFrame(b) {
		c.closeSent = true
	}
	if !c.corked && c.buf == nil {
		if err := c.applyDeadlineLocked(); err != nil {
			return 0, err
		}
		return c.Conn.Write(b)
	}
	c.holdLocked(b)
	if !c.corked || len(*c.buf) >= corkLimit {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// holdLocked appends b to what waits in buf.
func (c *peerConn) holdLocked(b []byte) {
	if c.buf == nil {
		c.buf = corkBufs.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, b...)
}

// isCloseFrame reports whether b is exactly one unmasked close frame.
// gorilla writes every control frame in a single Write (its payload is at
// most 125 bytes, so the length fits the second byte), which is how
// peerConn learns that the connection's last frame has been written.
func isCloseFrame(b []byte) bool {
	return len(b) >= 2 && b[0] == finalBit|websocket.CloseMessage && int(b[1]) == len(b)-2
}

// finalBit marks the last frame of a message (RFC 6455 5.2).
const finalBit = 0x80

// directResult is what writeDirect did with a frame.
type directResult int

const (
	// directRefused: nothing was written (another write is under way or
	// owed, the socket is full, or it failed); queue the frame as usual,
	// and the writer meets any error again and ends the peer.
	directRefused directResult = iota
	// directDone: the whole frame is in the socket.
	directDone
	// directOwed: the socket took part of it; the rest waits in buf, and
	// a writer must flush it (flushOwed) before anything else is written.
	directOwed
)

// writeDirect writes frame, complete websocket frames, with one
// non-blocking write(), unless the connection is corked, owes bytes, has
// written its close frame or has no raw socket. The caller guarantees that
// no writer runs meanwhile (see outbox.flushDirect).
func (c *peerConn) writeDirect(frame []byte) directResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw == nil || c.corked || c.buf != nil || c.closeSent {
		return directRefused
	}
	// An error (a closed socket, an expired deadline: RawConn.Write then
	// does not call back; EPIPE, ...) leaves n at 0: the frames are queued
	// as usual and the writer meets the error again and ends the peer.
	c.wb = frame
	c.raw.Write(c.rawWrite)
	n := c.wn
	c.wb, c.wn = nil, 0
	switch {
	case n == len(frame):
		return directDone
	case n > 0: // short: the socket is full
		c.holdLocked(frame[n:])
		return directOwed
	default:
		return directRefused
	}
}

// flushOwed writes the rest of a direct write that the socket did not
// take, if it is still waiting, with deadline t.
func (c *peerConn) flushOwed(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked || c.buf == nil {
		return nil
	}
	c.deadline, c.pending = t, true
	return c.flushLocked()
}

// Read implements net.Conn. Once the scanner has found a violation, Read
// returns what came before it, then the violation as an error.
func (c *peerConn) Read(b []byte) (int, error) {
	if c.scan.bad != nil {
		return 0, c.scan.bad
	}
	n, err := c.Conn.Read(b)
	if k := c.scan.scan(b[:n]); k < n {
		return k, nil // the error comes with the next Read
	}
	return n, err
}

// violation is the framing error the scanner found, if any.
func (c *peerConn) violation() error { return c.scan.bad }

// cork holds writes back until uncork.
func (c *peerConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was held back, in one write, and stops holding.
func (c *peerConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	err := c.flushLocked()
	if c.flushed != nil {
		close(c.flushed)
		c.flushed = nil
	}
	return err
}

// waitUncorked waits, at most d, until what is corked has been written.
func (c *peerConn) waitUncorked(d time.Duration) {
	c.mu.Lock()
	if !c.corked {
		c.mu.Unlock()
		return
	}
	if c.flushed == nil {
		c.flushed = make(chan struct{})
	}
	ch := c.flushed
	c.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

func (c *peerConn) flushLocked() error {
	if c.buf == nil {
		return nil
	}
	b := c.buf
	c.buf = nil
	err := c.applyDeadlineLocked()
	if err == nil {
		_, err = c.Conn.Write(*b)
	}
	if cap(*b) <= corkLimit*2 { // a rare giant frame's buffer is not kept
		*b = (*b)[:0]
		corkBufs.Put(b)
	}
	return err
}

// admitUpgrade admits a new peer's connection from r's source address
// (admit) and upgrades it (upgrade). On failure the client has had its
// answer and addr's connection is released; on success the caller owns
// it until the peer starts.
func (h *Hub) admitUpgrade(w http.ResponseWriter, r *http.Request) (conn *websocket.Conn, out *peerConn, addr string, ok bool) {
	addr = sourceAddr(r)
	if !h.admit(w, addr) {
		return nil, nil, addr, false
	}
	conn, out, err := h.upgrade(w, r)
	if err != nil {
		h.conns.release(addr)
		return nil, nil, addr, false
	}
	return conn, out, addr, true
}

// upgrade answers a websocket handshake on a connection whose writes the
// peer's writer can cork (see corkingWriter). On failure the upgrader has
// answered with the HTTP error.
func (h *Hub) upgrade(w http.ResponseWriter, r *http.Request) (*websocket.Conn, *peerConn, error) {
	cw := &corkingWriter{ResponseWriter: w, sendBuffer: h.cfg.SendBuffer}
	conn, err := h.upgrader.Upgrade(cw, r, nil)
	if err != nil {
		return nil, nil, err
	}
	return conn, cw.conn, nil
}

// corkingWriter hands the upgrader a peerConn when it hijacks the
// connection.
type corkingWriter struct {
	http.ResponseWriter
	sendBuffer int // Config.SendBuffer
	conn       *peerConn
}

// Hijack implements http.Hijacker.
func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok && w.sendBuffer > 0 {
		tc.SetWriteBuffer(w.sendBuffer) // see DefaultSendBuffer
	}
	w.conn = newPeerConn(c)
	return w.conn, brw, nil
}
