//go:build unix

package main_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// serveWith starts `lanfeedd serve` on a free loopback port with extra
// flags and waits for its URL and token.
func serveWith(t *testing.T, flags ...string) *node {
	t.Helper()
	return serveOn(t, t.TempDir(), "127.0.0.1:0", flags...)
}

// hostStatus is the status of GET path sent with the given Host header.
func hostStatus(t *testing.T, n *node, path, host string) int {
	t.Helper()
	req, err := http.NewRequest("GET", strings.TrimSuffix(n.url, "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s (Host %s): %v", path, host, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServe_GuardFlags: --allow-host, --max-peers-per-addr and the HTTP
// write limit flags reach the running node, and its log (stderr) never
// shows the pairing token, whatever happens.
func TestServe_GuardFlags(t *testing.T) {
	n := serveWith(t, "--allow-host", "feed.lan", "--allow-host", "board.lan",
		"--max-peers-per-addr", "1", "--http-write-burst", "2", "--http-write-rate", "0.01",
		"--read-header-timeout", "2s")
	for host, want := range map[string]int{
		"feed.lan": http.StatusOK, "board.lan:7700": http.StatusOK, "localhost": http.StatusOK,
		"evil.example": http.StatusMisdirectedRequest, "feed.lan.evil.example": http.StatusMisdirectedRequest,
	} {
		if got := hostStatus(t, n, "/api/info", host); got != want {
			t.Errorf("GET /api/info with Host %s = %d; want %d", host, got, want)
		}
	}

	n.call(t, "POST", "/api/posts", "wrong-"+n.token, map[string]string{"title": "wrong token"}, http.StatusUnauthorized, nil)
	n.call(t, "POST", "/api/posts", n.token, map[string]string{"title": "one"}, http.StatusCreated, nil)
	n.call(t, "POST", "/api/posts", n.token, map[string]string{"title": "two"}, http.StatusTooManyRequests, nil)

	ws := "ws" + strings.TrimPrefix(n.url, "http") + "ws"
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	first, _, err := websocket.DefaultDialer.DialContext(ctx, ws+"?token="+n.token, nil)
	if err != nil {
		t.Fatalf("first websocket: %v", err)
	}
	defer first.Close()
	if c, resp, err := websocket.DefaultDialer.DialContext(ctx, ws, nil); err == nil {
		c.Close()
		t.Errorf("second websocket from the same address connected; want 503")
	} else if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second websocket = %v (%v); want 503", resp, err)
	}
	if _, _, err := websocket.DefaultDialer.DialContext(ctx, ws+"?token=bad"+n.token, nil); err == nil {
		t.Errorf("websocket with a wrong token connected; want 401")
	}
	first.Close()
	n.stop(t)
	if logs := n.Stderr.String(); strings.Contains(logs, n.token) {
		t.Errorf("the token %s appears in lanfeedd's log:\n%s", n.token, logs)
	}
	if out := n.Stdout.String(); strings.Count(out, n.token) != 2 {
		t.Errorf("stdout shows the token %d times; want exactly twice (token line and write link):\n%s",
			strings.Count(out, n.token), out)
	}
}
