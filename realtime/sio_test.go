package realtime_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lanfeed/realtime"

	"github.com/gorilla/websocket"
)

// A raw Engine.IO/Socket.IO client over gorilla, checking the wire form the
// two specifications describe (the stock client's tests are in
// test/socketio).

type sioClient struct {
	t    *testing.T
	conn *websocket.Conn
	open struct {
		Sid          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	}
}

func (n *node) sioURL(query string) string {
	return "ws" + strings.TrimPrefix(n.ts.URL, "http") + realtime.SocketIOPath + "?EIO=4&transport=websocket" + query
}

// sioDial opens the websocket transport and reads the open packet.
func (n *node) sioDial(t *testing.T) *sioClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readWait)
	defer cancel()
	conn, resp, err := (&websocket.Dialer{}).DialContext(ctx, n.sioURL(""), nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v); want a websocket", n.sioURL(""), err, resp)
	}
	t.Cleanup(func() { conn.Close() })
	c := &sioClient{t: t, conn: conn}
	f := c.read()
	if !strings.HasPrefix(f, "0") {
		t.Fatalf("first packet = %q; want an open packet (0{...})", f)
	}
	if err := json.Unmarshal([]byte(f[1:]), &c.open); err != nil || c.open.Sid == "" {
		t.Fatalf("open packet %q: %v; want sid, upgrades, pingInterval, pingTimeout, maxPayload", f, err)
	}
	return c
}

func (c *sioClient) read() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(readWait))
	kind, data, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v; want a packet", err)
	}
	if kind != websocket.TextMessage {
		c.t.Fatalf("read a frame of kind %d; want text", kind)
	}
	return string(data)
}

// readSkipping reads until a packet that is not a ping or a peers event.
func (c *sioClient) readSkipping() string {
	c.t.Helper()
	for {
		f := c.read()
		if f == "2" || strings.HasPrefix(f, `42["peers"`) {
			continue
		}
		return f
	}
}

func (c *sioClient) send(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

// closed waits for the node to end the connection.
func (c *sioClient) closed() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(readWait))
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			if isTimeout(err) {
				c.t.Fatalf("the connection is still open after %v; want it closed", readWait)
			}
			return
		}
	}
}

// connect joins the main namespace with auth and returns the CONNECT answer's data.
func (c *sioClient) connect(auth string) map[string]any {
	c.t.Helper()
	c.send("40" + auth)
	f := c.readSkipping()
	if !strings.HasPrefix(f, "40{") {
		c.t.Fatalf("answer to CONNECT = %q; want 40{\"sid\":...}", f)
	}
	var data map[string]any
	json.Unmarshal([]byte(f[2:]), &data)
	if data["sid"] == "" || !strings.HasPrefix(data["pid"].(string), "lanfeed.") {
		c.t.Fatalf("CONNECT data = %v; want a sid and a pid", data)
	}
	return data
}

func TestSocketIO_Handshake(t *testing.T) {
	n := startNode(t, realtime.Config{PingPeriod: 200 * time.Millisecond, PongWait: time.Second})
	c := n.sioDial(t)
	if c.open.PingInterval != 200 || c.open.PingTimeout != 800 || c.open.MaxPayload != int64(realtime.DefaultMaxMessage) || len(c.open.Upgrades) != 0 {
		t.Errorf("open = %+v; want pingInterval 200, pingTimeout 800, maxPayload %d, no upgrades", c.open, realtime.DefaultMaxMessage)
	}
	// Another namespace: the protocol's connect error, and the connection stays.
	c.send("40/admin,")
	if f := c.read(); f != `44/admin,{"message":"Invalid namespace"}` {
		t.Errorf("CONNECT /admin = %q; want the invalid namespace error", f)
	}
	c.connect("")
	if f := c.readSkipping(); !strings.HasPrefix(f, `42["hello",{"proto":1,`) || !strings.Contains(f, `"canWrite":false`) {
		t.Errorf("after CONNECT = %q; want the hello event, read-only", f)
	}
	if f := c.readSkipping(); f != `42["synced",{"seq":0,"epoch":"`+n.epoch+`"},"0"]` {
		t.Errorf("then %q; want synced at 0 with its offset", f)
	}
	// Heartbeat: pings at pingInterval; answering keeps the session alive
	// past pingInterval + pingTimeout.
	deadline := time.Now().Add(3 * time.Second)
	pings := 0
	for time.Now().Before(deadline) {
		if f := c.read(); f == "2" {
			pings++
			c.send("3")
		}
	}
	if pings < 5 {
		t.Errorf("%d pings in 3 s; want one every 200 ms", pings)
	}
	p := n.create(t, "after the heartbeat", "")
	if f := c.readSkipping(); !strings.HasPrefix(f, `42["posts",{"action":"create","post":{"id":"`+p.ID) || !strings.HasSuffix(f, `},"1"]`) {
		t.Errorf("posts event = %q; want posts {action, post} with offset \"1\"", f)
	}
}

func TestSocketIO_NoPongCloses(t *testing.T) {
	n := startNode(t, realtime.Config{PingPeriod: 100 * time.Millisecond, PongWait: 400 * time.Millisecond})
	c := n.sioDial(t)
	c.connect("")
	start := time.Now()
	c.closed() // pings unanswered
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("closed after %v; want about pingInterval + pingTimeout (400 ms)", d)
	}
}

func TestSocketIO_WritesAndErrors(t *testing.T) {
	n := startNode(t, realtime.Config{})
	w := n.sioDial(t)
	w.connect(`{"token":"` + n.token + `","name":"writer","presence":false}`)
	r := n.sioDial(t)
	r.connect(`{"name":"reader"}`)
	for _, c := range []*sioClient{w, r} {
		for f := c.readSkipping(); !strings.HasPrefix(f, `42["synced"`); f = c.readSkipping() {
		}
	}
	w.send(`421["posts:create",{"title":"hello","body":"world"}]`)
	f := w.readSkipping()
	var ack []map[string]any
	if !strings.HasPrefix(f, "431[") || json.Unmarshal([]byte(f[3:]), &ack) != nil || len(ack) != 1 || ack[0]["title"] != "hello" {
		t.Fatalf("ack = %q; want 431[post]", f)
	}
	if f := r.readSkipping(); !strings.HasPrefix(f, `42["posts",{"action":"create"`) {
		t.Errorf("reader got %q; want the posts event", f)
	}
	tests := []struct {
		name, send string
		by         *sioClient
		want       string
	}{
		{"Invalid", `422["posts:create",{"title":""}]`, w, `432[{"error":{"code":"invalid",`},
		{"Conflict", `423["posts:update",{"id":"` + ack[0]["id"].(string) + `","version":7,"title":"x"}]`, w, `433[{"error":{"code":"conflict",`},
		{"NotFound", `424["posts:delete",{"id":"nope"}]`, w, `434[{"error":{"code":"not_found",`},
		{"UnknownEvent", `425["posts.create",{}]`, w, `435[{"error":{"code":"bad_request","message":"unknown event`},
		{"ReadOnlyWithoutToken", `426["posts:create",{"title":"no"}]`, r, `436[{"error":{"code":"unauthorized","message":"writing needs the node's pairing token: connect with io(url, {auth: {token}})`},
		{"NoAckID", `42["posts:create",{"title":""}]`, w, `42["error",{"error":{"code":"invalid"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.by.send(tt.send)
			if f := tt.by.readSkipping(); !strings.HasPrefix(f, tt.want) {
				t.Errorf("answer to %s = %q; want %s...", tt.send, f, tt.want)
			}
		})
	}
	if n.seq() != 1 {
		t.Errorf("seq = %d; want 1: nothing but the first create committed", n.seq())
	}
	// The writer asked for no presence: the reader's leave never reaches it.
	r.conn.Close()
	n.create(t, "after the reader left", "")
	if f := w.read(); strings.HasPrefix(f, `42["peers"`) || !strings.HasPrefix(f, `42["posts"`) {
		t.Errorf("writer with presence false got %q; want the next posts event and no peers event", f)
	}
}

func TestSocketIO_WrongTokenRefused(t *testing.T) {
	n := startNode(t, realtime.Config{})
	c := n.sioDial(t)
	c.send(`40{"token":"nope"}`)
	if f := c.read(); !strings.HasPrefix(f, `44{"message":"the token in auth is not this node's pairing token`) || !strings.Contains(f, `"code":"unauthorized"`) {
		t.Errorf("CONNECT with a wrong token = %q; want a connect error, unauthorized", f)
	}
}

func TestSocketIO_InvalidPacketsClose(t *testing.T) {
	n := startNode(t, realtime.Config{})
	// The first is not invalid: an Engine.IO close packet, which closes too.
	for _, bad := range []string{"1", "", "9", "4", "45", `42["posts"`, `42[]`, `451-["x",{"_placeholder":true,"num":0}]`, `440{}`} {
		t.Run(bad, func(t *testing.T) {
			c := n.sioDial(t)
			c.connect("")
			c.send(bad)
			c.closed()
		})
	}
	t.Run("EventBeforeConnect", func(t *testing.T) {
		c := n.sioDial(t)
		c.send(`42["posts:create",{}]`)
		c.closed()
	})
	t.Run("Binary", func(t *testing.T) {
		c := n.sioDial(t)
		c.connect("")
		c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		c.closed()
	})
}

func TestSocketIO_RefusedRequests(t *testing.T) {
	n := startNode(t, realtime.Config{})
	for _, q := range []string{"", "?EIO=3&transport=websocket", "?EIO=4", "?EIO=4&transport=carrier-pigeon"} {
		resp, err := http.Get(n.ts.URL + realtime.SocketIOPath + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s%s = %d; want 400", realtime.SocketIOPath, q, resp.StatusCode)
		}
	}
	h := http.Header{"Origin": {"http://evil.example"}}
	_, resp, err := (&websocket.Dialer{}).Dial(n.sioURL(""), h)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("dial from another origin: %v, %v; want 403", err, resp)
	}
}

// pollClient is a raw Engine.IO long-polling client.
type pollClient struct {
	t   *testing.T
	n   *node
	sid string
}

func (n *node) pollURL(sid string) string {
	u := n.ts.URL + realtime.SocketIOPath + "?EIO=4&transport=polling"
	if sid != "" {
		u += "&sid=" + sid
	}
	return u
}

func (c *pollClient) get() (int, string) {
	c.t.Helper()
	client := http.Client{Timeout: readWait}
	resp, err := client.Get(c.n.pollURL(c.sid))
	if err != nil {
		c.t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *pollClient) post(payload string) (int, string) {
	c.t.Helper()
	client := http.Client{Timeout: readWait}
	resp, err := client.Post(c.n.pollURL(c.sid), "text/plain;charset=UTF-8", strings.NewReader(payload))
	if err != nil {
		c.t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// upgradeDial opens the websocket that upgrades the polling session, and
// sends the probe the spec starts the upgrade with, checking its answer.
// The caller sends the upgrade packet ("5") when its case needs it.
func (c *pollClient) upgradeDial() *sioClient {
	c.t.Helper()
	ws, _, err := (&websocket.Dialer{}).Dial(c.n.sioURL("&sid="+c.sid), nil)
	if err != nil {
		c.t.Fatalf("upgrade dial: %v", err)
	}
	c.t.Cleanup(func() { ws.Close() })
	w := &sioClient{t: c.t, conn: ws}
	w.send("2probe")
	if f := w.read(); f != "3probe" {
		c.t.Fatalf("answer to 2probe = %q; want 3probe", f)
	}
	return w
}

// packets GETs until the payloads hold n packets other than pings.
func (c *pollClient) packets(n int) []string {
	c.t.Helper()
	var out []string
	for len(out) < n {
		status, body := c.get()
		if status != http.StatusOK {
			c.t.Fatalf("GET = %d %s; want 200", status, body)
		}
		for _, p := range strings.Split(body, "\x1e") {
			if p != "2" {
				out = append(out, p)
			}
		}
	}
	return out
}

func TestSocketIO_Polling(t *testing.T) {
	n := startNode(t, realtime.Config{})
	c := &pollClient{t: t, n: n}
	status, body := c.get()
	var open struct {
		Sid      string   `json:"sid"`
		Upgrades []string `json:"upgrades"`
	}
	if status != http.StatusOK || !strings.HasPrefix(body, "0") || json.Unmarshal([]byte(body[1:]), &open) != nil ||
		len(open.Upgrades) != 1 || open.Upgrades[0] != "websocket" {
		t.Fatalf("handshake GET = %d %q; want 200 and an open packet offering the websocket upgrade", status, body)
	}
	c.sid = open.Sid
	if status, body := c.post("40"); status != http.StatusOK || body != "ok" {
		t.Fatalf("POST 40 = %d %q; want 200 ok", status, body)
	}
	// The CONNECT answer, hello and synced come in one payload or several,
	// separated by the record separator.
	got := c.packets(3)
	if !strings.HasPrefix(got[0], "40{") || !strings.HasPrefix(got[1], `42["hello"`) || !strings.HasPrefix(got[2], `42["synced"`) {
		t.Errorf("packets after CONNECT = %q; want 40{...}, hello, synced", got)
	}
	// Two packets in one POST are handled in order.
	if status, _ := c.post("421[\"posts:create\",{\"title\":\"x\"}]\x1e422[\"posts:nope\",{}]"); status != http.StatusOK {
		t.Errorf("POST of two packets = %d; want 200", status)
	}
	got = c.packets(2)
	if !strings.HasPrefix(got[0], `431[{"error":{"code":"unauthorized"`) || !strings.HasPrefix(got[1], `432[{"error":{"code":"bad_request"`) {
		t.Errorf("answers = %q; want the two acks in order", got)
	}

	// The upgrade: probe, a pending GET answered with noop, then the upgrade packet.
	pending := make(chan string, 1)
	go func() { _, body := c.get(); pending <- body }()
	w := c.upgradeDial()
	select {
	case body := <-pending:
		if body != "6" {
			t.Errorf("pending GET during the upgrade = %q; want a noop (6)", body)
		}
	case <-time.After(readWait):
		t.Fatal("the pending GET was not answered during the upgrade")
	}
	w.send("5")
	p := n.create(t, "over the upgraded transport", "")
	if f := w.readSkipping(); !strings.Contains(f, p.ID) {
		t.Errorf("after the upgrade got %q; want the posts event on the websocket", f)
	}
	if status, _ := c.get(); status != http.StatusBadRequest {
		t.Errorf("GET after the upgrade = %d; want 400", status)
	}
}

func TestSocketIO_PollingRefusals(t *testing.T) {
	n := startNode(t, realtime.Config{})
	c := &pollClient{t: t, n: n, sid: "no-such-session"}
	if status, _ := c.get(); status != http.StatusBadRequest {
		t.Errorf("GET with an unknown sid = %d; want 400", status)
	}
	c.sid = ""
	_, body := c.get()
	var open struct{ Sid string }
	json.Unmarshal([]byte(body[1:]), &open)
	c.sid = open.Sid
	if status, _ := c.post("40\x1e\x1e"); status != http.StatusBadRequest {
		t.Errorf("POST of an invalid payload = %d; want 400", status)
	}
	// The session is closed: a GET hears so, then the sid is unknown.
	deadline := time.Now().Add(readWait)
	for {
		status, body := c.get()
		if status == http.StatusBadRequest || body == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET after an invalid payload = %d %q; want the session closed", status, body)
		}
	}
}

func TestSocketIO_PollingCORS(t *testing.T) {
	const allowed = "http://app.example:5173"
	n := startNode(t, realtime.Config{AllowedOrigins: []string{allowed}})
	do := func(method, origin string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, n.pollURL(""), nil)
		req.Header.Set("Origin", origin)
		if method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "x-app")
		}
		resp, err := (&http.Client{Timeout: readWait}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := do(http.MethodGet, allowed); resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != allowed {
		t.Errorf("GET from %s = %d, Access-Control-Allow-Origin %q; want 200 naming the origin", allowed, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	resp := do(http.MethodOptions, allowed)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Headers") != "x-app" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight from %s = %d %v; want 204 allowing POST and x-app", allowed, resp.StatusCode, resp.Header)
	}
	if resp := do(http.MethodGet, n.ts.URL); resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET from the node's own origin = %d, %q; want 200 and no CORS header", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	for _, m := range []string{http.MethodGet, http.MethodOptions} {
		if resp := do(m, "http://evil.example"); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s from another origin = %d, %q; want 403 and no CORS header", m, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

func TestSocketIO_CloseEndsHandshakes(t *testing.T) {
	n := startNode(t, realtime.Config{})
	c := n.sioDial(t) // open packet read; no CONNECT sent
	ctx, cancel := context.WithTimeout(context.Background(), readWait)
	defer cancel()
	if err := n.srv.Hub.Close(ctx); err != nil {
		t.Fatalf("Hub.Close() = %v", err)
	}
	c.closed()
}

func TestSocketIO_TokenRotation(t *testing.T) {
	n := startNode(t, realtime.Config{})
	c := n.sioDial(t)
	c.connect(`{"token":"` + n.token + `","presence":false}`)
	for f := c.readSkipping(); !strings.HasPrefix(f, `42["synced"`); f = c.readSkipping() {
	}
	if _, err := n.srv.Service.RotateToken(context.Background()); err != nil {
		t.Fatalf("RotateToken() = %v", err)
	}
	if f := c.readSkipping(); f != `42["auth",{"canWrite":false,"reason":"`+realtime.TokenChanged+`"}]` {
		t.Errorf("after the rotation got %q; want the auth event", f)
	}
	c.send(`427["posts:create",{"title":"old token"}]`)
	if f := c.readSkipping(); !strings.HasPrefix(f, `437[{"error":{"code":"unauthorized","message":"`+realtime.TokenChanged) {
		t.Errorf("write with the old token = %q; want unauthorized, token changed", f)
	}
}

func TestSocketIO_HeartbeatBeforeConnect(t *testing.T) {
	n := startNode(t, realtime.Config{PingPeriod: 100 * time.Millisecond, PongWait: 400 * time.Millisecond})
	c := n.sioDial(t)
	for range 5 { // answered pings keep the transport open past pingInterval + pingTimeout
		if f := c.read(); f != "2" {
			t.Fatalf("before CONNECT got %q; want a ping", f)
		}
		c.send("3")
	}
	c.connect("")
	c.closed() // then unanswered
}

// The handlers cmd/sioconform mounts for the official test suite.
func TestSocketIO_ConformanceMode(t *testing.T) {
	n := startNode(t, realtime.Config{SocketIOConformance: true})
	c := n.sioDial(t)
	c.send(`40{"token":"123"}`)
	var connect map[string]any
	if f := c.read(); !strings.HasPrefix(f, "40{") || json.Unmarshal([]byte(f[2:]), &connect) != nil || len(connect) != 1 || connect["sid"] == "" {
		t.Fatalf("CONNECT answer = %q; want 40 with the sid alone", f)
	}
	if f := c.read(); f != `42["auth",{"token":"123"}]` {
		t.Errorf("then %q; want the auth event echoing the payload", f)
	}
	c.send(`42["message",1,"2",{"3":[true]}]`)
	if f := c.read(); f != `42["message-back",1,"2",{"3":[true]}]` {
		t.Errorf("echo = %q", f)
	}
	c.send(`429["message-with-ack",1,"2"]`)
	if f := c.read(); f != `439[1,"2"]` {
		t.Errorf("ack = %q", f)
	}
	c.send(`40/custom,`)
	if f := c.read(); !strings.HasPrefix(f, `40/custom,{"sid":"`) {
		t.Errorf("CONNECT /custom = %q", f)
	}
	if f := c.read(); f != `42/custom,["auth",{}]` {
		t.Errorf("then %q; want /custom's auth event", f)
	}
	c.send(`41`) // the transport stays
	c.send(`42["message","still here"]`)
	if f := c.read(); f != `42["message-back","still here"]` {
		t.Errorf("after DISCONNECT = %q; want the echo", f)
	}
}

// A GET waits for the next packet, a ping at the latest, even past the
// server's ReadTimeout (30 s for a node, above the 25 s ping period; here
// far below it), which bounds reading the request, not answering it.
func TestSocketIO_PollingOutlastsReadTimeout(t *testing.T) {
	n := startNode(t, realtime.Config{PingPeriod: time.Second, PongWait: 3 * time.Second})
	ts := httptest.NewUnstartedServer(n.srv.Hub.Handler())
	ts.Config.ReadTimeout = 200 * time.Millisecond
	ts.Start()
	defer ts.Close()
	c := &pollClient{t: t, n: &node{ts: ts}}
	_, body := c.get()
	var open struct{ Sid string }
	json.Unmarshal([]byte(body[1:]), &open)
	c.sid = open.Sid
	c.post("40")
	c.packets(3) // the CONNECT answer, hello, synced
	start := time.Now()
	status, body := c.get()
	if status != http.StatusOK || body != "2" {
		t.Errorf("GET after %v = %d %q; want 200 and the ping", time.Since(start), status, body)
	}
}

func TestSocketIO_RateLimited(t *testing.T) {
	n := startNode(t, realtime.Config{WriteRate: 0.001, WriteBurst: 1})
	c := n.sioDial(t)
	c.connect(`{"token":"` + n.token + `","presence":false}`)
	for f := c.readSkipping(); !strings.HasPrefix(f, `42["synced"`); f = c.readSkipping() {
	}
	c.send(`421["posts:create",{"title":"first"}]`)
	c.send(`422["posts:create",{"title":"second"}]`)
	if f := c.readSkipping(); !strings.HasPrefix(f, `431[{"id":`) {
		t.Errorf("first write = %q; want its ack", f)
	}
	if f := c.readSkipping(); !strings.HasPrefix(f, `432[{"error":{"code":"rate_limited"`) {
		t.Errorf("second write = %q; want rate_limited", f)
	}
	if n.seq() != 1 {
		t.Errorf("seq = %d; want 1", n.seq())
	}
}
