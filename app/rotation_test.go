package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestDesktop_RotateTokenRevokesPeers: the window's Node.RotateToken takes
// write access away from LAN peers holding the old token at once, and tells
// them with an auth frame.
func TestDesktop_RotateTokenRevokesPeers(t *testing.T) {
	d, srv, _ := startDesktop(t, "")
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatalf("Listen() = %v; want nil error", err)
	}
	old, err := d.Node.Token()
	if err != nil {
		t.Fatal(err)
	}
	ws := "ws" + strings.TrimPrefix(srv.URLs()[0], "http") + "ws"
	conn, _, err := websocket.DefaultDialer.Dial(ws+"?token="+old, nil)
	if err != nil {
		t.Fatalf("dial with the token: %v", err)
	}
	defer conn.Close()
	type msg struct {
		Type     string `json:"type"`
		CanWrite *bool  `json:"canWrite"`
		Reason   string `json:"reason"`
		Code     string `json:"code"`
		ID       int64  `json:"id"`
	}
	// next returns the next frame that is not a presence or posts event.
	next := func() msg {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			var m msg
			if err := conn.ReadJSON(&m); err != nil {
				t.Fatalf("read: %v", err)
			}
			if m.Type != "event" {
				return m
			}
		}
	}
	if m := next(); m.Type != "hello" || m.CanWrite == nil || !*m.CanWrite {
		t.Fatalf("first frame %+v; want hello with canWrite true", m)
	}
	fresh, err := d.Node.RotateToken()
	if err != nil || fresh == old {
		t.Fatalf("Node.RotateToken() = %q, %v; want a new token", fresh, err)
	}
	m := next()
	if m.Type != "auth" || m.CanWrite == nil || *m.CanWrite || m.Reason != "the pairing token was changed; reconnect with the new token" {
		raw, _ := json.Marshal(m)
		t.Fatalf("after Node.RotateToken: got %s; want the auth frame with canWrite false", raw)
	}
	conn.WriteJSON(map[string]any{"type": "emit", "id": 1, "event": "posts.create", "data": map[string]string{"title": "old token"}})
	if m := next(); m.Type != "error" || m.Code != "unauthorized" || m.ID != 1 {
		t.Errorf("emit after rotation: got %+v; want error unauthorized for id 1", m)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(ws+"?token="+old, nil); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("dial with the old token: %v; want 401", err)
	}
}
