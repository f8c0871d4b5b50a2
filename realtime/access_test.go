package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"lanfeed/app"
	"lanfeed/realtime"

	"github.com/gorilla/websocket"
)

// hostStatus sends one request with the given Host header and returns the
// status and the decoded error body (if JSON).
func (n *node) hostStatus(t *testing.T, method, path, host string, hdr http.Header) (int, apiError) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readWait)
	defer cancel()
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(`{"title":"via ` + host + `"}`)
	}
	req, err := http.NewRequestWithContext(ctx, method, n.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := n.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s (Host %q): %v", method, path, host, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e apiError
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		json.Unmarshal(raw, &e)
	}
	return resp.StatusCode, e
}

// TestAccess_HostHeader: against DNS rebinding, every route answers only
// to the node's own names (IP literals, localhost, the host name, plain or
// .local, and --allow-host names); any other Host gets 421 with a JSON
// error, before anything else happens.
func TestAccess_HostHeader(t *testing.T) {
	n := startNodeWith(t, app.Config{AllowedHosts: []string{"feed.lan", "Board.Example."}})
	hostname, err := os.Hostname()
	if err != nil || hostname == "" {
		t.Fatalf("os.Hostname() = %q, %v", hostname, err)
	}
	short, _, _ := strings.Cut(hostname, ".")
	allowed := []string{
		n.ts.Listener.Addr().String(), "127.0.0.1", "192.168.1.20:7700", "10.0.0.5",
		"[::1]:7700", "[::1]", "[fe80::1]:7700",
		"localhost", "localhost:7700", "LocalHost:7700", "localhost.",
		hostname, hostname + ":7700", short + ".local", short + ".local:7700", strings.ToUpper(short),
		"feed.lan", "feed.lan:7700", "FEED.LAN", "board.example", "board.example.:7700",
	}
	refused := []string{
		"evil.example", "evil.example:7700", "127.0.0.1.evil.example", "localhost.evil.example",
		"feed.lan.evil.example", short + ".evil.example", "evil-" + short, "sub.feed.lan",
		"feed.lan:notaport", "feed.lan:99999", "example.com",
	}
	routes := []struct {
		method, path string
		hdr          http.Header
		ok           int // status with an allowed host
	}{
		{"GET", "/healthz", nil, http.StatusOK},
		{"GET", "/api/info", nil, http.StatusOK},
		{"GET", "/api/posts", nil, http.StatusOK},
		{"GET", "/api/peers", nil, http.StatusOK},
		{"GET", "/", nil, http.StatusOK},
		{"POST", "/api/posts", bearer(n.token), http.StatusCreated},
		{"GET", "/ws", nil, http.StatusBadRequest}, // a plain GET is no websocket handshake
	}
	for _, r := range routes {
		for _, host := range allowed {
			if status, e := n.hostStatus(t, r.method, r.path, host, r.hdr); status != r.ok {
				t.Errorf("%s %s with Host %q = %d %+v; want %d", r.method, r.path, host, status, e, r.ok)
			}
		}
		for _, host := range refused {
			status, e := n.hostStatus(t, r.method, r.path, host, r.hdr)
			if status != http.StatusMisdirectedRequest || e.Code != "unauthorized" || !strings.Contains(e.Message, "--allow-host") {
				t.Errorf("%s %s with Host %q = %d %+v; want 421 unauthorized naming --allow-host", r.method, r.path, host, status, e)
			}
		}
	}
	// Nothing was written through a refused host.
	var page struct{ Posts []wirePost }
	n.do(t, "GET", "/api/posts?limit=200", nil, nil, &page)
	for _, p := range page.Posts {
		for _, host := range refused {
			if p.Title == "via "+host {
				t.Errorf("post %q was written through refused Host %q", p.Title, host)
			}
		}
	}

	// The websocket handshake itself, as a browser tricked by rebinding
	// would send it: refused before the upgrade.
	_, resp, err := websocket.DefaultDialer.Dial(n.wsURL(nil), http.Header{"Host": {"evil.example:7700"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("websocket dial with Host evil.example = %v (%v); want 421", resp, err)
	}
	if c := n.dial(t, dialOpts{name: "own-host"}); c.hello.Type != "hello" {
		t.Errorf("websocket with the node's address: %s; want hello", c.hello)
	}
}

// TestAccess_HostCheckOff: "*" in AllowedHosts turns the check off.
func TestAccess_HostCheckOff(t *testing.T) {
	n := startNodeWith(t, app.Config{AllowedHosts: []string{"*"}})
	if status, _ := n.hostStatus(t, "GET", "/api/info", "anything.example", nil); status != http.StatusOK {
		t.Errorf("GET /api/info with Host anything.example and \"*\" allowed = %d; want 200", status)
	}
}

// authFrame is the frame that tells a peer its write access changed.
type authFrame struct {
	Type     string `json:"type"`
	CanWrite *bool  `json:"canWrite"`
	Reason   string `json:"reason"`
}

// TestAccess_TokenRotation: rotating the token takes write access away at
// once: the old token is refused over HTTP and for new websockets, a peer
// connected with it is told with an auth frame and its emits are refused,
// peers without a token hear nothing, and the new token works everywhere.
func TestAccess_TokenRotation(t *testing.T) {
	n := startNode(t, realtime.Config{})
	old := n.token
	writer := n.dial(t, dialOpts{name: "writer", token: old})
	reader := n.dial(t, dialOpts{name: "reader"})
	if !writer.hello.CanWrite {
		t.Fatalf("writer hello canWrite = false; want true")
	}
	id := writer.emit("posts.create", map[string]string{"title": "before the rotation"})
	if f := writer.readNonPeers(); f.Type != "ack" || *f.ID != id {
		t.Fatalf("writer: got %s; want the ack of emit %d", f, id)
	}

	fresh, err := n.srv.Service.RotateToken(context.Background())
	if err != nil {
		t.Fatalf("RotateToken() = %v; want nil error", err)
	}
	before := n.seq()

	// The connected writer is told, first thing after the rotation.
	f, _ := writer.readUntil("the auth frame", func(f frame) bool { return !f.IsPeers() && !f.IsPost() })
	var auth authFrame
	if err := json.Unmarshal(f.Raw, &auth); err != nil || auth.Type != "auth" || auth.CanWrite == nil || *auth.CanWrite ||
		auth.Reason != "the pairing token was changed; reconnect with the new token" {
		t.Fatalf("writer after rotation: got %s; want %s", f.Raw,
			`{"type":"auth","canWrite":false,"reason":"the pairing token was changed; reconnect with the new token"}`)
	}
	id = writer.emit("posts.create", map[string]string{"title": "with the old token"})
	if f := writer.readNonPeers(); f.Type != "error" || f.Code != "unauthorized" || *f.ID != id || !strings.Contains(f.Message, "token was changed") {
		t.Errorf("writer emit after rotation: got %s; want an unauthorized error saying the token changed", f)
	}

	// The old token is refused at once for HTTP and new websockets.
	var e apiError
	if status := n.do(t, "POST", "/api/posts", bearer(old), map[string]string{"title": "old token"}, &e); status != http.StatusUnauthorized || e.Message != wrongTokenREST {
		t.Errorf("POST with the old token = %d %q; want 401 %q", status, e.Message, wrongTokenREST)
	}
	if conn, resp, err := n.dialRaw(dialOpts{name: "late", token: old}); err == nil {
		conn.Close()
		t.Errorf("websocket with the old token: connected; want 401")
	} else if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("websocket with the old token = %v (%v); want 401", resp, err)
	}
	if got := n.seq(); got != before {
		t.Errorf("%d posts written with the old token; want 0", got-before)
	}

	// The new token works.
	n.token = fresh
	n.post(t, "new token over REST", "")
	again := n.dial(t, dialOpts{name: "writer-again", token: fresh})
	if !again.hello.CanWrite {
		t.Errorf("hello with the new token: canWrite = false; want true")
	}
	id = again.emit("posts.create", map[string]string{"title": "new token over ws"})
	if f := again.readNonPeers(); f.Type != "ack" || *f.ID != id {
		t.Errorf("emit with the new token: got %s; want its ack", f)
	}
	// The reader never had write access: it is not told anything.
	for {
		f, err := reader.next(quiet)
		if err != nil {
			break
		}
		if f.Type == "auth" {
			t.Errorf("reader (no token) got %s; want no auth frame", f)
		}
	}
}

// What a writer is told without the right token; a wrong token reads
// differently from a missing one, and both say where the token is shown.
const (
	noTokenREST    = `writing needs the node's pairing token: send the header "Authorization: Bearer <token>"; the node's owner finds it in the desktop app's node panel or in the output of lanfeedd serve`
	wrongTokenREST = "the token sent is not this node's pairing token: it may have been regenerated, or be another node's; the node's owner finds it in the desktop app's node panel or in the output of lanfeedd serve"
	noTokenWS      = "writing needs the node's pairing token: reconnect with ?token=<token>; the node's owner finds it in the desktop app's node panel or in the output of lanfeedd serve"
	wrongTokenWS   = "the token in ?token= is not this node's pairing token: it may have been regenerated, or be another node's; the node's owner finds it in the desktop app's node panel or in the output of lanfeedd serve; connect without ?token= to read only"
)

// TestAccess_TokenMessages: the Bearer scheme is case-insensitive, and a
// write without the right token is told whether the token was missing,
// wrong (perhaps regenerated) or sent the wrong way, over REST, at the
// websocket handshake and on an emit.
func TestAccess_TokenMessages(t *testing.T) {
	n := startNode(t, realtime.Config{})
	tests := []struct {
		name      string
		header    []string // Authorization values; nil: none
		status    int
		message   string
		challenge string
	}{
		{"Bearer", []string{"Bearer " + n.token}, 201, "", ""},
		{"LowerCaseScheme", []string{"bearer " + n.token}, 201, "", ""},
		{"UpperCaseScheme", []string{"BEARER " + n.token}, 201, "", ""},
		{"ExtraSpaces", []string{"  Bearer   " + n.token + "  "}, 201, "", ""},
		{"Missing", nil, 401, noTokenREST, `Bearer realm="lanfeed"`},
		{"Empty", []string{""}, 401, noTokenREST, `Bearer realm="lanfeed"`},
		{"SchemeOnly", []string{"Bearer"}, 401, noTokenREST, `Bearer realm="lanfeed"`},
		{"Wrong", []string{"Bearer " + strings.Repeat("0", 32)}, 401, wrongTokenREST, `Bearer realm="lanfeed", error="invalid_token"`},
		{"BareToken", []string{n.token}, 401, `the Authorization header has no scheme: send "Authorization: Bearer <token>"`, `Bearer realm="lanfeed"`},
		{"BasicScheme", []string{"Basic " + n.token}, 401, `the Authorization header uses another scheme than Bearer: send "Authorization: Bearer <token>"`, `Bearer realm="lanfeed"`},
	}
	for _, tc := range tests {
		t.Run("REST/"+tc.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", n.ts.URL+"/api/posts", strings.NewReader(`{"title":"t"}`))
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != nil {
				req.Header["Authorization"] = tc.header
			}
			resp, err := n.ts.Client().Do(req)
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			defer resp.Body.Close()
			var e apiError
			json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tc.status || e.Message != tc.message {
				t.Errorf("POST with Authorization %q = %d %q; want %d %q", tc.header, resp.StatusCode, e.Message, tc.status, tc.message)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q; want %q", got, tc.challenge)
			}
		})
	}

	t.Run("Websocket/WrongToken", func(t *testing.T) {
		conn, resp, err := n.dialRaw(dialOpts{name: "wrong", token: "not-the-token"})
		if err == nil {
			conn.Close()
			t.Fatalf("dial with a wrong token: connected; want 401")
		}
		var e apiError
		if resp == nil || json.NewDecoder(resp.Body).Decode(&e) != nil || resp.StatusCode != http.StatusUnauthorized || e.Message != wrongTokenWS {
			t.Errorf("dial with a wrong token = %v %+v; want 401 %q", resp, e, wrongTokenWS)
		}
	})
	t.Run("Websocket/EmitWithoutToken", func(t *testing.T) {
		c := n.dial(t, dialOpts{name: "reader"})
		id := c.emit("posts.create", map[string]string{"title": "t"})
		f, _ := c.readUntil("the answer", func(f frame) bool { return f.Type == "error" || f.Type == "ack" })
		if f.Type != "error" || f.Code != "unauthorized" || f.ID == nil || *f.ID != id || f.Message != noTokenWS {
			t.Errorf("emit without a token: got %s; want unauthorized %q for id %d", f, noTokenWS, id)
		}
	})
}

// lockedBuffer is a log sink safe for the node's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAccess_TokenNeverLogged runs a node logging everything (debug level,
// text and JSON) through writes, failed auth, a rotation, a flood and
// shutdown, and checks that neither the old nor the new token appears.
func TestAccess_TokenNeverLogged(t *testing.T) {
	var logs lockedBuffer
	h := slog.New(multiHandler{
		slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
		slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
	})
	srv, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir(), Name: nodeName, Logger: h,
		Hub: realtime.Config{WriteBurst: 3, WriteRate: 0.01}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Hub.Handler())
	ts.Config.ErrorLog = slog.NewLogLogger(h.Handler(), slog.LevelDebug)
	ts.Start()
	defer ts.Close()
	n := &node{srv: srv, ts: ts, token: srv.Service.Token()}
	old := n.token
	base := ts.URL

	n.post(t, "with the token", "")
	n.do(t, "POST", "/api/posts", bearer(old+"x"), map[string]string{"title": "wrong"}, nil)
	n.do(t, "POST", "/api/posts", bearer(old), map[string]string{"title": ""}, nil) // invalid
	n.do(t, "PATCH", "/api/posts/nope", bearer(old), map[string]any{"version": 1, "title": "x"}, nil)
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	if _, resp, err := websocket.DefaultDialer.Dial(wsURL+"?token=wrong"+old, nil); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("websocket with a wrong token = %v; want 401", resp)
	}
	conn, _, err := websocket.DefaultDialer.Dial(wsURL+"?name=logged&token="+old, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, conn: conn, name: "logged"}
	c.read()            // hello
	for i := range 20 { // acks, rate_limited, then 1008
		c.emitE("posts.create", map[string]string{"title": fmt.Sprint("flood ", i)})
	}
	c.readToClose(readWait)
	fresh, err := srv.Service.RotateToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n.do(t, "POST", "/api/posts", bearer(old), map[string]string{"title": "old"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), readWait)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "peer closed for flooding") {
		t.Errorf("logs do not mention the flood; want the test to have logged something:\n%s", out)
	}
	for _, tok := range []string{old, fresh} {
		if strings.Contains(out, tok) {
			t.Errorf("token %q appears in the logs:\n%s", tok, out)
		}
	}
}

// multiHandler sends every record to each handler.
type multiHandler []slog.Handler

func (m multiHandler) Enabled(ctx context.Context, l slog.Level) bool { return true }
func (m multiHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range m {
		h.Handle(ctx, r.Clone())
	}
	return nil
}
func (m multiHandler) WithAttrs(a []slog.Attr) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithAttrs(a)
	}
	return out
}
func (m multiHandler) WithGroup(g string) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithGroup(g)
	}
	return out
}

// TestAccess_NoCORSHeaders: no response, whatever the route, method or
// Origin, carries Access-Control-Allow-* headers, so other sites' pages
// cannot read the API (and there is no wildcard to widen by mistake).
func TestAccess_NoCORSHeaders(t *testing.T) {
	n := startNode(t, realtime.Config{})
	origins := []string{"", "http://evil.example", n.ts.URL, "null"}
	reqs := []struct{ method, path string }{
		{"GET", "/api/posts"}, {"GET", "/api/info"}, {"GET", "/healthz"}, {"GET", "/"},
		{"OPTIONS", "/api/posts"}, {"POST", "/api/posts"}, {"GET", "/ws"}, {"GET", "/api/nope"},
	}
	for _, o := range origins {
		for _, r := range reqs {
			req, _ := http.NewRequest(r.method, n.ts.URL+r.path, strings.NewReader(`{"title":"cors"}`))
			if o != "" {
				req.Header.Set("Origin", o)
			}
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Authorization", "Bearer "+n.token)
			resp, err := n.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for k := range resp.Header {
				if strings.HasPrefix(strings.ToLower(k), "access-control-") {
					t.Errorf("%s %s (Origin %q): header %s: %s; want no CORS headers", r.method, r.path, o, k, resp.Header.Get(k))
				}
			}
		}
	}
	// And the websocket: an upgrade from a page's own origin carries none.
	conn, resp, err := websocket.DefaultDialer.Dial(n.wsURL(nil), http.Header{"Origin": {n.ts.URL}})
	if err != nil {
		t.Fatalf("websocket from the node's own origin: %v", err)
	}
	conn.Close()
	for k := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Errorf("websocket upgrade: header %s; want no CORS headers", k)
		}
	}
}
