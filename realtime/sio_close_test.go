package realtime_test

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"lanfeed/realtime"

	"github.com/gorilla/websocket"
)

// pollOpen starts a polling session and returns its client.
func (n *node) pollOpen(t *testing.T) *pollClient {
	t.Helper()
	c := &pollClient{t: t, n: n}
	status, body := c.get()
	var open struct{ Sid string }
	if status != http.StatusOK || !strings.HasPrefix(body, "0") || json.Unmarshal([]byte(body[1:]), &open) != nil || open.Sid == "" {
		t.Fatalf("handshake GET = %d %q; want 200 and an open packet", status, body)
	}
	c.sid = open.Sid
	return c
}

// sioGoroutines lists the goroutines running the Socket.IO session code.
func sioGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, fn := range []string{"realtime.(*pollSession).pump", "realtime.(*Hub).sioHandshake",
			"realtime.(*pollSession).upgrade", "realtime.(*Hub).sioPollOpen"} {
			if strings.Contains(g, fn) {
				found = append(found, fn)
			}
		}
	}
	return found
}

// Hub.Close waits for the goroutines of polling sessions too: a session
// waiting for its CONNECT, a connected one, an upgraded one, and one whose
// websocket has not sent its probe (which Close must end, not wait for
// PongWait).
func TestSocketIO_CloseWaitsForPollingSessions(t *testing.T) {
	n := startNode(t, realtime.Config{PongWait: 4 * readWait})
	n.pollOpen(t) // no CONNECT: the handshake goroutine waits
	probing := n.pollOpen(t)
	silent, _, err := (&websocket.Dialer{}).Dial(n.sioURL("&sid="+probing.sid), nil)
	if err != nil {
		t.Fatalf("upgrade dial: %v", err)
	}
	defer silent.Close()
	connected := n.pollOpen(t)
	if status, _ := connected.post("40"); status != http.StatusOK {
		t.Fatalf("POST 40 = %d; want 200", status)
	}
	connected.packets(3) // CONNECT answer, hello, synced: the peer is registered
	upgraded := n.pollOpen(t)
	upgraded.post("40")
	upgraded.packets(3)
	w := upgraded.upgradeDial()
	w.send("5")
	if got := sioGoroutines(); len(got) == 0 {
		t.Fatal("no session goroutines found before Close: the check below would prove nothing")
	}

	ctx, cancel := context.WithTimeout(context.Background(), readWait)
	defer cancel()
	start := time.Now()
	if err := n.srv.Hub.Close(ctx); err != nil {
		t.Fatalf("Hub.Close() = %v after %v; want nil", err, time.Since(start))
	}
	if got := sioGoroutines(); len(got) > 0 {
		t.Errorf("goroutines still running after Hub.Close returned: %q; want none", got)
	}
	w.closed() // the upgraded client was told goodbye
	if status, _ := (&pollClient{t: t, n: n}).get(); status != http.StatusServiceUnavailable {
		t.Errorf("a new polling session after Close = %d; want 503", status)
	}
}
