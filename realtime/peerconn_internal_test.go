package realtime

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingConn records each Write it gets, as the kernel would see them.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, bytes.Clone(b))
	return len(b), nil
}

func TestCorkConn_CorkedWritesLeaveAsOne(t *testing.T) {
	under := &countingConn{}
	c := &peerConn{Conn: under}

	c.Write([]byte("direct"))
	c.cork()
	for _, s := range []string{"a", "bb", "ccc"} {
		if n, err := c.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("corked Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
		}
	}
	if len(under.writes) != 1 {
		t.Fatalf("%d writes reached the connection while corked; want only the earlier direct one", len(under.writes))
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	c.uncork() // nothing held: no empty write
	c.Write([]byte("after"))
	got := make([]string, len(under.writes))
	for i, w := range under.writes {
		got[i] = string(w)
	}
	if want := []string{"direct", "abbccc", "after"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("writes = %q; want %q", got, want)
	}
}

func TestCorkConn_FlushesAtLimit(t *testing.T) {
	under := &countingConn{}
	c := &peerConn{Conn: under}
	c.cork()
	chunk := bytes.Repeat([]byte("x"), corkLimit/4)
	for range 6 {
		c.Write(chunk)
	}
	if len(under.writes) != 1 || len(under.writes[0]) != corkLimit {
		t.Fatalf("after 1.5 limits' worth corked: %d writes; want one of %d bytes", len(under.writes), corkLimit)
	}
	c.uncork()
	if len(under.writes) != 2 || len(under.writes[1]) != corkLimit/2 {
		t.Fatalf("uncork wrote %d times in all; want the remaining %d bytes in a second write", len(under.writes), corkLimit/2)
	}
}

// TestCorkConn_DeadlineAppliesToFlush: a deadline set while corked bounds the
// flush; a peer that reads nothing cannot hold the writer forever.
func TestCorkConn_DeadlineAppliesToFlush(t *testing.T) {
	a, b := net.Pipe() // unbuffered: a write blocks until the other end reads
	defer a.Close()
	defer b.Close()
	c := &peerConn{Conn: a}
	c.cork()
	c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	c.Write([]byte("never read"))
	err := c.uncork()
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("uncork to a peer that never reads = %v; want a timeout", err)
	}
}
