package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanfeed/bench/loadgen"
)

// testWait bounds every read in these tests.
const testWait = 10 * time.Second

func startFloor(t *testing.T, durable string) (*floor, string) {
	t.Helper()
	f, err := newFloor(durable)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.handler())
	t.Cleanup(func() { srv.Close(); f.close() })
	return f, "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

// dialGreeted connects and reads the hello, as the load generator does.
func dialGreeted(t *testing.T, url string, d *websocket.Dialer) *websocket.Conn {
	t.Helper()
	c, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(testWait))
	_, msg, err := c.ReadMessage()
	if err != nil || !strings.HasPrefix(string(msg), `{"type":"hello"`) {
		t.Fatalf("first frame = %q, %v; want a hello", msg, err)
	}
	return c
}

func sendEmit(t *testing.T, pub *websocket.Conn, id int, body string) {
	t.Helper()
	msg := fmt.Sprintf(`{"type":"emit","id":%d,"event":"posts.create","data":{"title":"bench","body":"%s"}}`, id, body)
	if err := pub.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// readAck reads frames until the ack of id.
func readAck(t *testing.T, pub *websocket.Conn, id int) {
	t.Helper()
	pub.SetReadDeadline(time.Now().Add(testWait))
	_, msg, err := pub.ReadMessage()
	if want := fmt.Sprintf(`{"type":"ack","id":%d,`, id); err != nil || !strings.HasPrefix(string(msg), want) {
		t.Fatalf("publisher read %q, %v; want %s...", msg, err, want)
	}
}

type event struct {
	Type  string `json:"type"`
	Event string `json:"event"`
	Seq   int64  `json:"seq"`
	Data  struct {
		Action string `json:"action"`
		Post   struct {
			Title string `json:"title"`
			Body  string `json:"body"`
		} `json:"post"`
	} `json:"data"`
}

// Every peer gets every post, in order, as a posts event carrying the
// emit's body, and the publisher gets one ack per emit.
func TestFloor_DeliversEveryPostToEveryPeer(t *testing.T) {
	durable := filepath.Join(t.TempDir(), "posts.log")
	f, url := startFloor(t, durable)
	pub := dialGreeted(t, url+"?token="+f.token, websocket.DefaultDialer)
	var peers []*websocket.Conn
	for range 3 {
		peers = append(peers, dialGreeted(t, url+"?name=p&presence=0", websocket.DefaultDialer))
	}
	waitPending(t, f, 3)
	const posts = 200 // long bodies push some frames past 125 bytes of length field: both header forms
	for i := range posts {
		sendEmit(t, pub, i, fmt.Sprintf("%d %d", i, time.Now().UnixNano()))
		readAck(t, pub, i)
	}
	for k, p := range peers {
		p.SetReadDeadline(time.Now().Add(testWait))
		for i := range posts {
			_, msg, err := p.ReadMessage()
			if err != nil {
				t.Fatalf("peer %d, post %d: %v", k, i, err)
			}
			var ev event
			if err := json.Unmarshal(msg, &ev); err != nil {
				t.Fatalf("peer %d, post %d: %q is not JSON: %v", k, i, msg, err)
			}
			if ev.Type != "event" || ev.Event != "posts" || ev.Seq != int64(i+1) || ev.Data.Action != "create" ||
				!strings.HasPrefix(ev.Data.Post.Body, fmt.Sprint(i, " ")) {
				t.Fatalf("peer %d, post %d: got %+v", k, i, ev)
			}
		}
	}
	if s := f.snapshot(); s.Posts != posts || s.Writes != 3*posts || s.Peers != 3 || s.WouldBlock+s.Short+s.Failed != 0 {
		t.Errorf("stats = %+v; want %d posts, %d writes, 3 peers, none closed", s, posts, 3*posts)
	}
	log, err := os.Open(durable)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	n := 0
	for sc := bufio.NewScanner(log); sc.Scan(); n++ {
	}
	if n != posts {
		t.Errorf("durable file has %d lines; want %d", n, posts)
	}
}

// With -durable, posts that arrive while one batch is being made durable
// share the next fdatasync; every post is in the file, acked and delivered
// in order all the same.
func TestFloor_DurableGroupsTheCommits(t *testing.T) {
	durable := filepath.Join(t.TempDir(), "posts.log")
	f, url := startFloor(t, durable)
	pub := dialGreeted(t, url+"?token="+f.token, websocket.DefaultDialer)
	peer := dialGreeted(t, url, websocket.DefaultDialer)
	waitPending(t, f, 1)
	const posts = 2000
	for i := range posts { // all at once: no waiting for acks
		sendEmit(t, pub, i, fmt.Sprint(i, " 0"))
	}
	for i := range posts {
		readAck(t, pub, i)
	}
	peer.SetReadDeadline(time.Now().Add(testWait))
	for i := range posts {
		_, msg, err := peer.ReadMessage()
		if err != nil || !strings.Contains(string(msg), fmt.Sprintf(`"body":"%d 0"`, i)) {
			t.Fatalf("post %d: read %.80q, %v", i, msg, err)
		}
	}
	s := f.snapshot()
	if s.Commits == 0 || s.Commits >= posts {
		t.Errorf("%d fdatasyncs for %d posts sent at once; want fewer, and some", s.Commits, posts)
	}
	b, err := os.ReadFile(durable)
	if n := strings.Count(string(b), "\n"); err != nil || n != posts {
		t.Errorf("durable file: %d lines, %v; want %d", n, err, posts)
	}
}

// A peer that does not read is closed once its socket's buffers are full,
// and counted; the others keep getting every post.
func TestFloor_ClosesAPeerWhoseWriteWouldBlock(t *testing.T) {
	f, url := startFloor(t, "")
	pub := dialGreeted(t, url+"?token="+f.token, websocket.DefaultDialer)
	dialGreeted(t, url, &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(4096)
		}
		return c, err
	}})
	waitPending(t, f, 1)
	reader := dialGreeted(t, url, websocket.DefaultDialer)
	waitPending(t, f, 2)
	var got, want atomic.Int64
	want.Store(-1) // not known until the publisher stops
	done := make(chan struct{})
	go func() { // the reader reads all the time, until it has every post
		defer close(done)
		reader.SetReadDeadline(time.Now().Add(2 * testWait))
		for got.Load() != want.Load() {
			if _, _, err := reader.ReadMessage(); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	body := strings.Repeat("x", 4000) // big frames fill the stuck peer's buffers within a few thousand posts
	posts := 0
	for ; posts < 20000 && f.snapshot().WouldBlock+f.snapshot().Short == 0; posts++ {
		sendEmit(t, pub, posts, fmt.Sprintf("%d %s", posts, body))
		readAck(t, pub, posts)
	}
	s := f.snapshot()
	if s.WouldBlock+s.Short != 1 || s.Failed != 0 {
		t.Fatalf("after %d posts, stats = %+v; want the stuck peer closed, and only it", posts, s)
	}
	want.Store(int64(posts + 1)) // the reader has at most posts so far
	sendEmit(t, pub, posts, fmt.Sprint(posts, " last"))
	readAck(t, pub, posts)
	<-done
	if got.Load() != int64(posts+1) {
		t.Errorf("reading peer got %d of %d posts", got.Load(), posts+1)
	}
}

// waitPending waits until the accept path has handed n more peers over.
func waitPending(t *testing.T, f *floor, n int) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for {
		f.mu.Lock()
		got := len(f.pending)
		f.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d peers pending after %s; want %d", got, testWait, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// The load generator, as the bench driver runs it, finds in the floor what
// it needs of lanfeed's /ws: hello, acks, posts events it can time.
func TestFloor_SpeaksWhatTheLoadGeneratorNeeds(t *testing.T) {
	for _, durable := range []string{"", filepath.Join(t.TempDir(), "posts.log")} {
		f, url := startFloor(t, durable)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := loadgen.Run(ctx, loadgen.Config{Proto: loadgen.Lanfeed, URL: baseURL(url),
			Token: f.token, Peers: 20, Phases: []loadgen.Phase{{Rate: 50, Dur: time.Second}},
			RampTimeout: 10 * time.Second, SettleMax: time.Second, Drain: 5 * time.Second})
		if err != nil {
			t.Fatalf("durable %q: loadgen.Run() = %v", durable, err)
		}
		ph := res.Phases[0]
		if res.Connected != 20 || ph.Delivered != ph.Expected || ph.Expected != 20*50 || ph.Acks != 50 ||
			res.OutOfOrder+res.Duplicates+res.Unparsed != 0 {
			t.Errorf("durable %q: %d peers, %d of %d deliveries, %d acks, %d out of order, %d duplicates, %d unreadable; "+
				"want 20 peers, all 1000 deliveries, 50 acks, in order", durable, res.Connected, ph.Delivered, ph.Expected, ph.Acks,
				res.OutOfOrder, res.Duplicates, res.Unparsed)
		}
	}
}

// baseURL is the http://HOST:PORT/ of the floor whose /ws is ws.
func baseURL(ws string) string {
	return "http" + strings.TrimSuffix(strings.TrimPrefix(ws, "ws"), "ws")
}
