package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/client"
	"lanfeed/feed"

	"github.com/gorilla/websocket"
)

func TestDial_Hello(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	w := writer(t, n)
	create(t, w, "before")

	c := dial(t, n, client.Config{Name: "alice", Token: n.token})
	h := c.Hello()
	if h.Proto != 1 || h.Node.Name != testName || h.Node.ID == "" || h.Epoch != n.epoch || h.Seq != 1 ||
		h.Peer.Name != "alice" || h.Peer.ID == "" || h.Peer.Since.IsZero() || !h.CanWrite {
		t.Fatalf("Hello() = %+v; want proto 1, node %s, epoch %s, seq 1, peer alice, canWrite", h, testName, n.epoch)
	}
	if !bytes.HasPrefix(h.Raw(), []byte(`{"type":"hello","proto":1,`)) {
		t.Errorf("Hello().Raw() = %s; want the hello frame", h.Raw())
	}
	if h := dial(t, n, client.Config{}).Hello(); h.CanWrite || h.Peer.Name != "anonymous" {
		t.Errorf("Hello() without token and name = %+v; want canWrite false, peer anonymous", h)
	}
}

// Every form of address the tail command accepts reaches the node.
func TestDial_AddressForms(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	for _, u := range []string{n.url, strings.TrimSuffix(n.url, "/"), "ws://" + n.addr + "/ws", n.addr} {
		t.Run(u, func(t *testing.T) {
			if h := dial(t, n, client.Config{URL: u}).Hello(); h.Epoch != n.epoch {
				t.Errorf("Dial(%s): hello epoch %s; want %s", u, h.Epoch, n.epoch)
			}
		})
	}
	ctx := bounded(t)
	if _, err := client.Dial(ctx, client.Config{URL: "ftp://" + n.addr}); err == nil || !strings.Contains(err.Error(), "scheme must be http or ws") {
		t.Errorf("Dial(ftp://...) = %v; want a scheme error", err)
	}
}

// A reader sees every change in seq order, gap-free, exactly as the writers'
// acks returned it, whatever the writers' concurrency.
func TestConn_LiveEventsInOrder(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	r := dial(t, n, client.Config{NoPresence: true})
	const writers, each = 4, 10
	acked := make(chan feed.Post, writers*each)
	ctx := bounded(t)
	var wg sync.WaitGroup
	for i := range writers {
		w := writer(t, n)
		wg.Go(func() {
			for j := range each {
				p, err := w.Create(ctx, feed.NewPost{Title: fmt.Sprintf("writer %d post %d", i, j)})
				if err != nil {
					t.Errorf("writer %d: Create() = %v; want nil error", i, err)
					return
				}
				acked <- p
			}
		})
	}
	wg.Wait()
	close(acked)
	bySeq := map[int64]feed.Post{}
	for p := range acked {
		bySeq[p.Seq] = p
	}
	for seq := int64(1); seq <= writers*each; seq++ {
		p, ok := bySeq[seq]
		if !ok {
			t.Fatalf("acks have seqs %v; want 1..%d", slices.Sorted(maps.Keys(bySeq)), writers*each)
		}
		wantPost(t, next(t, r), "create", p)
	}
}

// Emits return the committed post; the sender sees its ack in the stream,
// every other peer the event.
func TestConn_EmitsAndAcks(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	c := dial(t, n, client.Config{Token: n.token, NoPresence: true})
	other := dial(t, n, client.Config{NoPresence: true})
	ctx := bounded(t)

	p1, err := c.Create(ctx, feed.NewPost{Title: "  Lunch at noon ", Body: "Pizza.\nBring a mug."})
	if err != nil || p1.Title != "Lunch at noon" || p1.Body != "Pizza.\nBring a mug." || p1.Author != testName ||
		p1.Version != 1 || p1.Seq != 1 || p1.ID == "" || p1.Deleted {
		t.Fatalf("Create() = %+v, %v; want the trimmed post by %s, version 1, seq 1", p1, err, testName)
	}
	ack := want[*client.Ack](t, next(t, c))
	if ack.ID == 0 || ack.Seq != 1 || ack.Post != p1 {
		t.Fatalf("c's next event: ack %d seq %d %+v; want the ack of %+v", ack.ID, ack.Seq, ack.Post, p1)
	}
	wantPost(t, next(t, other), "create", p1)

	title := "Lunch at 12:30"
	p1u, err := c.Update(ctx, p1.ID, feed.PostPatch{Version: 1, Title: &title})
	if err != nil || p1u.Title != title || p1u.Body != p1.Body || p1u.Version != 2 || p1u.Seq != 2 || p1u.CreatedAt != p1.CreatedAt {
		t.Fatalf("Update() = %+v, %v; want title %q, version 2, seq 2, body and createdAt kept", p1u, err, title)
	}
	wantPost(t, next(t, other), "update", p1u)

	stale := "stale"
	_, err = c.Update(ctx, p1.ID, feed.PostPatch{Version: 1, Title: &stale})
	var fe *feed.Error
	if !errors.As(err, &fe) || fe.Code != feed.CodeConflict || fe.Post == nil || *fe.Post != p1u {
		t.Fatalf("Update(version 1) = %v; want conflict carrying %+v", err, p1u)
	}

	p1d, err := c.Delete(ctx, p1.ID, 2)
	if err != nil || !p1d.Deleted || p1d.Title != "" || p1d.Version != 3 || p1d.Seq != 3 {
		t.Fatalf("Delete() = %+v, %v; want a tombstone, version 3, seq 3", p1d, err)
	}
	wantPost(t, next(t, other), "delete", p1d)
	for _, want := range []feed.Post{p1u, p1d} {
		if ack := wantAck(t, next(t, c)); ack.Post != want {
			t.Fatalf("c's ack %+v; want %+v", ack.Post, want)
		}
	}

	// Concurrent emits each get their own answer; the acks stand in the
	// stream in seq order.
	const emits = 16
	posts := make([]feed.Post, emits)
	var wg sync.WaitGroup
	for i := range emits {
		wg.Go(func() {
			p, err := c.Create(ctx, feed.NewPost{Title: fmt.Sprint("concurrent ", i)})
			if err != nil || p.Title != fmt.Sprint("concurrent ", i) {
				t.Errorf("Create(concurrent %d) = %+v, %v; want that post", i, p, err)
			}
			posts[i] = p
		})
	}
	wg.Wait()
	bySeq := map[int64]feed.Post{}
	for _, p := range posts {
		bySeq[p.Seq] = p
	}
	for seq := int64(4); seq < 4+emits; seq++ {
		if ack := wantAck(t, next(t, c)); ack.Seq != seq || ack.Post != bySeq[seq] {
			t.Fatalf("c's ack seq %d %+v; want seq %d %+v", ack.Seq, ack.Post, seq, bySeq[seq])
		}
	}
}

// want_ is want for acks.
func wantAck(t *testing.T, ev client.Event) *client.Ack {
	t.Helper()
	return want[*client.Ack](t, ev)
}

// Invalid writes come back as the node's *feed.Error naming the field; the
// error frames do not show up among the events.
func TestConn_ErrorFrames(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	c := dial(t, n, client.Config{Token: n.token, NoPresence: true})
	p := create(t, c, "existing")
	wantAck(t, next(t, c))
	title := "new title"
	tests := []struct {
		name string
		emit func(ctx context.Context) (feed.Post, error)
		want string // code/field
	}{
		{"CreateWithoutTitle", func(ctx context.Context) (feed.Post, error) {
			return c.Create(ctx, feed.NewPost{Title: "   "})
		}, "invalid/title"},
		{"CreateTitleTooLong", func(ctx context.Context) (feed.Post, error) {
			return c.Create(ctx, feed.NewPost{Title: strings.Repeat("é", feed.MaxTitle+1)})
		}, "invalid/title"},
		{"CreateBodyWithControlCharacter", func(ctx context.Context) (feed.Post, error) {
			return c.Create(ctx, feed.NewPost{Title: "ok", Body: "line\x07bell"})
		}, "invalid/body"},
		{"CreateAuthorTooLong", func(ctx context.Context) (feed.Post, error) {
			return c.Create(ctx, feed.NewPost{Title: "ok", Author: strings.Repeat("a", feed.MaxAuthor+1)})
		}, "invalid/author"},
		{"UpdateWithoutVersion", func(ctx context.Context) (feed.Post, error) {
			return c.Update(ctx, p.ID, feed.PostPatch{Title: &title})
		}, "invalid/version"},
		{"UpdateNothing", func(ctx context.Context) (feed.Post, error) {
			return c.Update(ctx, p.ID, feed.PostPatch{Version: 1})
		}, "invalid/title"},
		{"UpdateWithoutID", func(ctx context.Context) (feed.Post, error) {
			return c.Update(ctx, "", feed.PostPatch{Version: 1, Title: &title})
		}, "invalid/id"},
		{"DeleteMissing", func(ctx context.Context) (feed.Post, error) {
			return c.Delete(ctx, "01a20146-55c4-7d74-ba3f-e9f124a82429", 0)
		}, "not_found/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := bounded(t)
			got, err := tt.emit(ctx)
			if errorField(err) != tt.want || got != (feed.Post{}) {
				t.Fatalf("emit = %+v, %v (%s); want no post, %s", got, err, errorField(err), tt.want)
			}
			if fe := err.(*feed.Error); fe.Message == "" {
				t.Errorf("error %+v; want a message", fe)
			}
		})
	}
	after := create(t, c, "after the errors")
	if ack := wantAck(t, next(t, c)); ack.Post != after {
		t.Fatalf("next event: ack %+v; want the ack of %+v, no error events before it", ack.Post, after)
	}
}

// Without a token a peer reads but may not write; a wrong token is refused
// at the door, saying why.
func TestConn_ReadOnlyWithoutToken(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	c := dial(t, n, client.Config{NoPresence: true})
	if c.Hello().CanWrite {
		t.Fatalf("Hello().CanWrite = true without a token; want false")
	}
	ctx := bounded(t)
	_, err := c.Create(ctx, feed.NewPost{Title: "from a reader"})
	if errorField(err) != "unauthorized/" || !strings.Contains(err.Error(), "token") {
		t.Fatalf("Create() without a token = %v; want unauthorized, mentioning the token", err)
	}
	p := create(t, writer(t, n), "others still reach the reader")
	wantPost(t, next(t, c), "create", p)

	_, err = client.Dial(ctx, client.Config{URL: n.url, Token: "wrong"})
	var re *client.RefusedError
	if !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized || feed.AsError(err).Code != feed.CodeUnauthorized ||
		!strings.Contains(err.Error(), "401 Unauthorized: the token in ?token= is not this node's pairing token") {
		t.Fatalf("Dial() with a wrong token = %v; want a *RefusedError 401 quoting the node's message", err)
	}
	if re.Retryable() {
		t.Errorf("RefusedError(401).Retryable() = true; want false")
	}
}

// Presence can be opted out of: such a peer gets only posts.
func TestConn_Presence(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	// Each join is awaited before the next dial: the node publishes the
	// joins of peers connecting at once in no set order.
	all := dial(t, n, client.Config{Name: "all"})
	wantPeers(t, next(t, all), "join", "all", 1)
	quiet := dial(t, n, client.Config{Name: "quiet", NoPresence: true})
	wantPeers(t, next(t, all), "join", "quiet", 2)
	carol := dial(t, n, client.Config{Name: "carol", NoPresence: true})
	wantPeers(t, next(t, all), "join", "carol", 3)
	carol.Close() // says goodbye: the node sees the leave at once
	wantPeers(t, next(t, all), "leave", "carol", 2)
	p := create(t, writer(t, n), "post")
	wantPost(t, next(t, quiet), "create", p)        // no peers events before it
	wantPeers(t, next(t, all), "join", "writer", 3) // opting out hides the others from it, not it from them
	wantPost(t, next(t, all), "create", p)
}

// wantPeers fails unless ev is the PeersEvent of peer name with action and
// count.
func wantPeers(t *testing.T, ev client.Event, action, name string, count int) {
	t.Helper()
	pe := want[*client.PeersEvent](t, ev)
	if pe.Action != action || pe.Peer.Name != name || pe.Peer.ID == "" || pe.Count != count {
		t.Fatalf("event %s; want %s of %s, count %d", pe.Raw(), action, name, count)
	}
}

// A connection resumed from a position gets what changed after it, then
// synced, then live events; a position from another epoch, or beyond the
// node, gets a reset and the whole feed.
func TestConn_Resume(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	w := writer(t, n)
	var posts []feed.Post
	for i := range 4 {
		posts = append(posts, create(t, w, fmt.Sprint("post ", i+1)))
	}
	tests := []struct {
		name      string
		resume    client.Position
		wantReset bool
		replay    []feed.Post
	}{
		{"FromSeq", client.Position{Epoch: n.epoch, Seq: 2}, false, posts[2:]},
		{"WithoutEpoch", client.Position{Seq: 3}, false, posts[3:]},
		{"InSync", client.Position{Epoch: n.epoch, Seq: 4}, false, nil},
		{"ResetOnOtherEpoch", client.Position{Epoch: "another-database", Seq: 2}, true, posts},
		{"ResetBeyondTheNode", client.Position{Epoch: n.epoch, Seq: 99}, true, posts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, n, client.Config{NoPresence: true, Resume: &tt.resume})
			if h := c.Hello(); h.Seq != 4 {
				t.Fatalf("hello seq %d; want 4", h.Seq)
			}
			if tt.wantReset {
				if r := want[*client.Reset](t, next(t, c)); r.Epoch != n.epoch {
					t.Fatalf("reset to epoch %s; want %s", r.Epoch, n.epoch)
				}
			}
			for _, p := range tt.replay {
				wantPost(t, next(t, c), "create", p)
			}
			if s := want[*client.Synced](t, next(t, c)); s.Seq != 4 {
				t.Fatalf("synced %d; want 4", s.Seq)
			}
		})
	}
}

// An emit whose connection fails before the answer says that its outcome is
// unknown; one that could not be sent says so too, differently.
func TestConn_EmitOutcomeUnknown(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	for _, how := range []string{"ConnectionLost", "ContextDone"} {
		t.Run(how, func(t *testing.T) {
			p := newProxy(t, n.addr)
			c := dial(t, n, client.Config{URL: p.url(), Token: n.token, NoPresence: true})
			p.set(func(p *proxy) { p.hold = true }) // the emit goes out but never arrives
			ctx := bounded(t)
			emitCtx, cancelEmit := context.WithCancel(ctx)
			defer cancelEmit()
			result := make(chan error, 1)
			go func() {
				_, err := c.Create(emitCtx, feed.NewPost{Title: "lost"})
				result <- err
			}()
			select {
			case <-p.held:
			case <-ctx.Done():
				t.Fatalf("the emit did not leave within %v", waitFor)
			}
			if how == "ConnectionLost" {
				p.cut()
			} else {
				cancelEmit()
			}
			var err error
			select {
			case err = <-result:
			case <-ctx.Done():
				t.Fatalf("Create() still waiting %v after the %s", waitFor, how)
			}
			if !errors.Is(err, client.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "may or may not have been committed") {
				t.Fatalf("Create() = %v; want ErrOutcomeUnknown", err)
			}
			if how == "ContextDone" {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Create() = %v; want it to wrap context.Canceled", err)
				}
				p.cut() // or Close waits its grace for a goodbye the proxy holds back
				return
			}
			if _, err := c.Next(ctx); err == nil || errors.Is(err, client.ErrClosed) {
				t.Errorf("Next() after the cut = %v; want the connection lost", err)
			}
			if _, err := c.Create(ctx, feed.NewPost{Title: "after"}); err == nil || errors.Is(err, client.ErrOutcomeUnknown) {
				t.Errorf("Create() on a lost connection = %v; want an error saying it was not sent", err)
			}
		})
	}
}

// Close says goodbye, can be called any number of times from anywhere, and
// leaves every method returning ErrClosed.
func TestConn_CloseIsIdempotent(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	watcher := dial(t, n, client.Config{Name: "watcher"})
	wantPeers(t, next(t, watcher), "join", "watcher", 1)
	c := dial(t, n, client.Config{Name: "leaving", Token: n.token})
	wantPeers(t, next(t, watcher), "join", "leaving", 2)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := c.Close(); err != nil {
				t.Errorf("Close() = %v; want nil", err)
			}
		})
	}
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Errorf("Close() again = %v; want nil", err)
	}
	wantPeers(t, next(t, watcher), "leave", "leaving", 1)
	select {
	case <-c.Done():
	default:
		t.Errorf("Done() not closed after Close")
	}
	ctx := bounded(t)
	if _, err := c.Next(ctx); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Next() after Close = %v; want ErrClosed", err)
	}
	if _, err := c.Create(ctx, feed.NewPost{Title: "x"}); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Create() after Close = %v; want ErrClosed", err)
	}
	if err := c.Err(); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Err() after Close = %v; want ErrClosed", err)
	}
}

// A node that shuts down says goodbye (1001): Next returns the close.
func TestConn_NodeShutdown(t *testing.T) {
	noLeaks(t)
	n := startNode(t)
	c := dial(t, n, client.Config{NoPresence: true})
	n.stop(t)
	_, err := nextErr(t, c)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("Next() after the node stopped = %v; want close 1001", err)
	}
	if c.Err() == nil {
		t.Errorf("Err() = nil after the connection ended; want the reason")
	}
}

// next0 is Next with the test's bound, for when an error is expected.
func nextErr(t *testing.T, c *client.Conn) (client.Event, error) {
	t.Helper()
	ctx := bounded(t)
	return c.Next(ctx)
}

// The client answers the node's pings: with pings every 20 ms and 300 ms of
// silence allowed, an idle connection outlives four times that.
func TestConn_AnswersPings(t *testing.T) {
	noLeaks(t)
	const pongWait = 300 * time.Millisecond
	n := startNode(t, func(cfg *app.Config) {
		cfg.Hub.PingPeriod, cfg.Hub.PongWait = 20*time.Millisecond, pongWait
	})
	c := dial(t, n, client.Config{Token: n.token, NoPresence: true, DiscardEvents: true})
	select {
	case <-c.Done():
		t.Fatalf("connection ended while idle: %v; want it kept alive by pongs", c.Err())
	case <-time.After(4 * pongWait): // what must not happen has had its chance
	}
	create(t, c, "still connected")
}
