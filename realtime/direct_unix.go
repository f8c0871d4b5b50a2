//go:build unix

package realtime

import (
	"net"
	"syscall"
)

// initDirect gives a plain TCP connection its raw socket for writeDirect.
// The hub serves no TLS; a TLS connection (or any other wrapper) would not
// be a *net.TCPConn and so keeps every write in its writer. The callback
// does one write(2) and reports itself done even on EAGAIN, so that
// RawConn.Write never parks the flusher in the poller: a full socket is
// the writer's business.
func (c *peerConn) initDirect() {
	tc, ok := c.Conn.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	c.raw = raw
	c.rawWrite = func(fd uintptr) bool {
		for {
			n, err := syscall.Write(int(fd), c.wb)
			if err == syscall.EINTR {
				continue
			}
			c.wn = max(n, 0) // -1 on an error, EAGAIN included
			return true
		}
	}
}
