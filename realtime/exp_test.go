package realtime_test

import (
	"strings"
	"testing"
	"time"

	"lanfeed/realtime"
)

func TestExpFsync(t *testing.T) {
	n := startNode(t, realtime.Config{})
	start := time.Now()
	for i := 0; i < 100; i++ {
		n.create(t, "x", "")
	}
	t.Logf("100 creates: %v", time.Since(start))
	start = time.Now()
	for i := 0; i < 100; i++ {
		n.post(t, "x", "")
	}
	t.Logf("100 REST creates: %v", time.Since(start))
}

func TestExpBuffer(t *testing.T) {
	n := startNode(t, realtime.Config{QueueBytes: 16 << 10, WriteWait: 20 * time.Second})
	c := n.dial(t, dialOpts{name: "slow"})
	body := strings.Repeat("b", 1000)
	start := time.Now()
	for i := 0; i < 2000; i++ {
		n.create(t, "x", body)
		if n.srv.Hub.Count() == 0 {
			t.Logf("dropped after %d posts", i)
			break
		}
	}
	t.Logf("took %v", time.Since(start))
	code, frames := c.closeCode(10 * time.Second)
	t.Logf("code %d after %d frames", code, len(frames))
}
