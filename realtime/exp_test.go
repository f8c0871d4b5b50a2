package realtime_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/realtime"
)

func TestExpBuffer(t *testing.T) {
	n := startNodeWith(t, app.Config{Hub: realtime.Config{QueueBytes: 16 << 10, WriteWait: 20 * time.Second}},
		func(l net.Listener) net.Listener { return smallSendBuffers{l, 32 << 10} })
	c := n.dial(t, dialOpts{name: "slow", dialer: smallReadBufferDialer(4096)})
	body := strings.Repeat("b", 1000)
	start := time.Now()
	for i := 0; i < 300; i++ {
		n.create(t, "x", body)
	}
	t.Logf("took %v", time.Since(start))
	code, frames := c.closeCode(10 * time.Second)
	t.Logf("code %d after %d frames", code, len(frames))
}
