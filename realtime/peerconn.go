package realtime

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// corkLimit is how many bytes a corked connection holds before it writes
// anyway: big enough to turn a burst of small frames into one write, small
// enough that a replay page of large posts does not sit in memory.
const corkLimit = 64 << 10

// corkBufs recycles cork buffers: an idle peer holds none.
var corkBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// peerConn is the peer's network connection. On loopback and on a LAN one
// write() costs several microseconds whatever its size, so the writer
// corks the connection while it drains its queue: the frames gorilla writes
// meanwhile go to a buffer, and uncork sends them in one write. Control
// frames that the reader goroutine writes (pongs, a protocol-error close)
// take the same path under the same lock, so bytes never interleave.
//
// Reads pass through a frameScanner, which stops the stream before a close
// frame gorilla would misread (see frameScanner).
type peerConn struct {
	net.Conn
	scan     frameScanner // the reader goroutine's own
	mu       sync.Mutex
	corked   bool
	buf      *[]byte   // nil unless corked writes are waiting
	deadline time.Time // the write deadline asked for while corked
	applied  time.Time // the deadline Conn has
}

// deadlineSlack is how much earlier than asked a write may time out, so that
// a busy writer re-arms the poller's timer about once a second, not on every
// flush. A flush then times out after at least WriteWait - deadlineSlack.
const deadlineSlack = time.Second

// SetWriteDeadline implements net.Conn. gorilla sets the deadline before
// every frame, and each change costs the poller a timer update; while corked
// nothing is written, so the deadline is only noted, and the flush applies
// it if it is later than the one in force by more than deadlineSlack (or
// earlier at all).
func (c *peerConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.deadline = t
		return nil
	}
	c.deadline = time.Time{}
	c.applied = t
	return c.Conn.SetWriteDeadline(t)
}

// Write implements net.Conn.
func (c *peerConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.Conn.Write(b)
	}
	if c.buf == nil {
		c.buf = corkBufs.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, b...)
	if len(*c.buf) >= corkLimit {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(b), nil
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
	return c.flushLocked()
}

func (c *peerConn) flushLocked() error {
	if c.buf == nil {
		return nil
	}
	b := c.buf
	c.buf = nil
	if t := c.deadline; !t.IsZero() && (t.Before(c.applied) || t.Sub(c.applied) > deadlineSlack || c.applied.IsZero()) {
		if err := c.Conn.SetWriteDeadline(t); err != nil {
			return err
		}
		c.applied = t
	}
	_, err := c.Conn.Write(*b)
	if cap(*b) <= corkLimit*2 { // a rare giant frame's buffer is not kept
		*b = (*b)[:0]
		corkBufs.Put(b)
	}
	return err
}

// corkingWriter hands the upgrader a peerConn when it hijacks the
// connection.
type corkingWriter struct {
	http.ResponseWriter
	conn *peerConn
}

// Hijack implements http.Hijacker.
func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &peerConn{Conn: c}
	return w.conn, brw, nil
}
