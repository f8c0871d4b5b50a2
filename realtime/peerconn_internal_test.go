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

func (c *countingConn) SetWriteDeadline(time.Time) error { return nil }

func (c *countingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, bytes.Clone(b))
	return len(b), nil
}

func TestPeerConn_CorkedWritesLeaveAsOne(t *testing.T) {
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

func TestPeerConn_FlushesAtLimit(t *testing.T) {
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

// TestPeerConn_DeadlineAppliesToFlush: a deadline set while corked bounds the
// flush; a peer that reads nothing cannot hold the writer forever.
func TestPeerConn_DeadlineAppliesToFlush(t *testing.T) {
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

// TestPeerConn_DeadlineNotedWhileCorkedHoldsForNextWrite: a deadline asked
// for while corked, with nothing corked to flush, still bounds the next
// direct write.
func TestPeerConn_DeadlineNotedWhileCorkedHoldsForNextWrite(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := &peerConn{Conn: a}
	c.cork()
	c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	c.uncork() // nothing to flush
	done := make(chan error, 1)
	go func() { _, err := c.Write([]byte("x")); done <- err }()
	select {
	case err := <-done:
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("Write = %v; want a timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Write to a peer that never reads had no deadline")
	}
}

// TestPeerConn_ShortDeadlinesAreNotKeptStale: with a write wait far below
// deadlineSlack, a later deadline replaces the one in force, so a flush is
// not cut short by a deadline meant for an earlier one.
func TestPeerConn_ShortDeadlinesAreNotKeptStale(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := &peerConn{Conn: a}
	t0 := time.Now()
	c.SetWriteDeadline(t0.Add(200 * time.Millisecond))
	time.Sleep(100 * time.Millisecond)
	c.cork()
	want := time.Now().Add(200 * time.Millisecond)
	c.SetWriteDeadline(want)
	c.Write([]byte("never read"))
	err := c.uncork()
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("uncork = %v; want a timeout", err)
	}
	if early := time.Until(want); early > 20*time.Millisecond {
		t.Errorf("flush timed out %v before its deadline: the earlier deadline was kept", early)
	}
}

// TestPeerConn_CorkedKeepsLatestDeadline: while corked, an earlier deadline
// (a control frame's) does not shorten the one for the writer's frames.
func TestPeerConn_CorkedKeepsLatestDeadline(t *testing.T) {
	under := &countingConn{}
	c := &peerConn{Conn: under}
	late := time.Now().Add(10 * time.Second)
	c.cork()
	c.SetWriteDeadline(late)
	c.Write([]byte("frame"))
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write([]byte("pong"))
	c.uncork()
	if !c.applied.Equal(late) {
		t.Errorf("deadline applied for the flush = %v; want the latest asked for, %v", c.applied, late)
	}
}
