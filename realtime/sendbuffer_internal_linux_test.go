package realtime

import (
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"
)

// TestHub_SendBufferIsCapped: a peer's connection gets the configured send
// buffer (Linux reports twice the size asked for), so a peer that stops
// reading cannot park megabytes in the kernel.
func TestHub_SendBufferIsCapped(t *testing.T) {
	for _, size := range []int{0, 32 << 10} {
		want := size
		if want == 0 {
			want = DefaultSendBuffer
		}
		h := NewHub(Config{Service: &fuzzService{}, SendBuffer: size, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ts := httptest.NewServer(h.Handler())
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		deadline := time.Now().Add(5 * time.Second)
		for got == 0 && time.Now().Before(deadline) {
			h.mu.RLock()
			for p := range h.peers {
				raw, _ := p.out.Conn.(*net.TCPConn).SyscallConn()
				raw.Control(func(fd uintptr) { got, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF) })
			}
			h.mu.RUnlock()
			time.Sleep(time.Millisecond)
		}
		if got != 2*want {
			t.Errorf("SendBuffer %d: SO_SNDBUF = %d; want %d (twice %d)", size, got, 2*want, want)
		}
		c.Close()
		h.Close(t.Context())
		ts.Close()
	}
}
