package realtime_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lanfeed/realtime"

	"github.com/gorilla/websocket"
)

func TestHub_Hello(t *testing.T) {
	n := startNode(t, realtime.Config{})
	for i := range 3 {
		n.create(t, fmt.Sprintf("before %d", i), "")
	}

	t.Run("FirstFrameAnnouncesNode", func(t *testing.T) {
		conn, _, err := n.dialRaw(dialOpts{name: "reader"})
		if err != nil {
			t.Fatalf("dial: %v; want a websocket", err)
		}
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(readWait))
		_, raw, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read hello: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("hello %s: %v", raw, err)
		}
		keys := slices.Sorted(mapKeys(m))
		if want := []string{"canWrite", "epoch", "node", "peer", "proto", "seq", "type"}; !slices.Equal(keys, want) {
			t.Errorf("hello keys = %v; want %v", keys, want)
		}
		id := n.srv.Service.Identity()
		want := map[string]any{
			"type": "hello", "proto": 1.0, "epoch": id.Epoch, "seq": float64(n.seq()), "canWrite": false,
			"node": map[string]any{"id": id.Node.ID, "name": nodeName},
		}
		for k, v := range want {
			if !reflect.DeepEqual(m[k], v) {
				t.Errorf("hello[%q] = %v; want %v", k, m[k], v)
			}
		}
		if n.seq() != 3 {
			t.Errorf("node seq = %d; want 3", n.seq())
		}
		peer, _ := m["peer"].(map[string]any)
		if peer["name"] != "reader" || peer["id"] == "" || peer["id"] == nil || peer["since"] == nil {
			t.Errorf("hello peer = %v; want id, name \"reader\" and since", m["peer"])
		}
	})

	t.Run("SeqFollowsWrites", func(t *testing.T) {
		n.create(t, "one more", "")
		c := n.dial(t, dialOpts{name: "later"})
		if got, want := c.hello.Seq, n.seq(); got != want {
			t.Errorf("hello seq = %d; want %d", got, want)
		}
	})

	t.Run("RightTokenCanWrite", func(t *testing.T) {
		c := n.dial(t, dialOpts{name: "writer", token: n.token})
		if !c.hello.CanWrite {
			t.Errorf("hello canWrite = false; want true with the pairing token")
		}
	})

	t.Run("NoNameIsAnonymous", func(t *testing.T) {
		c := n.dial(t, dialOpts{})
		if c.hello.Peer.Name != "anonymous" {
			t.Errorf("hello peer name = %q; want %q", c.hello.Peer.Name, "anonymous")
		}
	})

	t.Run("NameOf64Accepted", func(t *testing.T) {
		name := strings.Repeat("é", 64)
		c := n.dial(t, dialOpts{name: name})
		if c.hello.Peer.Name != name {
			t.Errorf("hello peer name = %q; want %q", c.hello.Peer.Name, name)
		}
	})

	refused := []struct {
		name       string
		opts       dialOpts
		wantStatus int
		wantCode   string
	}{
		{"WrongTokenUnauthorized", dialOpts{name: "w", token: "not-the-token"}, http.StatusUnauthorized, "unauthorized"},
		{"NameTooLong", dialOpts{name: strings.Repeat("n", 65)}, http.StatusBadRequest, "invalid"},
		{"NameWithControlCharacter", dialOpts{name: "bad\x07name"}, http.StatusBadRequest, "invalid"},
		{"SinceNotANumber", dialOpts{name: "s", query: url.Values{"since": {"soon"}}}, http.StatusBadRequest, "bad_request"},
		{"SinceNegative", dialOpts{name: "s", query: url.Values{"since": {"-1"}}}, http.StatusBadRequest, "bad_request"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			conn, resp, err := n.dialRaw(tc.opts)
			if err == nil {
				conn.Close()
				t.Fatalf("dial succeeded; want HTTP %d", tc.wantStatus)
			}
			checkRefusal(t, resp, tc.wantStatus, tc.wantCode)
		})
	}
}

// checkRefusal checks a refused websocket handshake: its status and its JSON
// error body.
func checkRefusal(t *testing.T, resp *http.Response, wantStatus int, wantCode string) {
	t.Helper()
	if resp == nil {
		t.Fatalf("no HTTP response; want %d", wantStatus)
	}
	if resp.StatusCode != wantStatus {
		t.Errorf("status = %d; want %d", resp.StatusCode, wantStatus)
	}
	var e apiError
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("error body: %v; want JSON", err)
	}
	if e.Code != wantCode || e.Message == "" {
		t.Errorf("error body = %+v; want code %q and a message", e, wantCode)
	}
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestHub_PeerOrderEqualsSeqOrder has 8 writers (4 over REST, 4 websocket
// peers emitting) race each other while 5 peers only read: every peer must
// see every post exactly once, in seq order, without a gap.
func TestHub_PeerOrderEqualsSeqOrder(t *testing.T) {
	n := startNode(t, realtime.Config{})
	const (
		restWriters = 4
		wsWriters   = 4
		readers     = 5
		perWriter   = 30
		total       = (restWriters + wsWriters) * perWriter
	)
	start := n.seq()
	var peers []*client
	for i := range readers {
		peers = append(peers, n.dial(t, dialOpts{name: fmt.Sprintf("reader%d", i)}))
	}
	for i := range wsWriters {
		peers = append(peers, n.dial(t, dialOpts{name: fmt.Sprintf("ws%d", i), token: n.token}))
	}
	for _, c := range peers {
		if c.hello.Seq != start {
			t.Fatalf("%s: hello seq = %d; want %d", c.name, c.hello.Seq, start)
		}
	}

	var wg sync.WaitGroup
	errs := make(chan error, 2*len(peers)+restWriters)
	got := make([][]frame, len(peers))
	for i, c := range peers {
		wg.Go(func() {
			frames, err := c.collectPosts(total, 60*time.Second)
			got[i] = frames
			if err != nil {
				errs <- err
			}
		})
	}
	for i := range wsWriters {
		c := peers[readers+i]
		wg.Go(func() {
			for k := range perWriter { // pipelined: no waiting for acks
				if _, err := c.emitE("posts.create", map[string]string{"title": fmt.Sprintf("%s-%d", c.name, k)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range restWriters {
		wg.Go(func() {
			for k := range perWriter {
				if _, err := n.postE(fmt.Sprintf("rest%d-%d", i, k)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	if got := n.seq(); got != start+total {
		t.Fatalf("node seq = %d; want %d", got, start+total)
	}

	for i, c := range peers {
		frames := got[i]
		if err := checkContiguous(c.name, frames, start); err != nil {
			t.Error(err)
			continue
		}
		ids := map[string]bool{}
		order := map[string][]int{} // writer -> the k of its posts, in arrival order
		var acks []int64
		for _, f := range frames {
			var p wirePost
			if f.Type == "ack" {
				p = f.AckPost(t)
				acks = append(acks, *f.ID)
			} else {
				d := f.PostData(t)
				if d.Action != "create" {
					t.Errorf("%s: event action = %q; want create", c.name, d.Action)
				}
				p = d.Post
			}
			if p.Seq != f.Seq {
				t.Errorf("%s: post seq %d in a frame with seq %d", c.name, p.Seq, f.Seq)
			}
			if ids[p.ID] {
				t.Errorf("%s: post %s received twice", c.name, p.ID)
			}
			ids[p.ID] = true
			writer, k, _ := strings.Cut(p.Title, "-")
			var kn int
			fmt.Sscan(k, &kn)
			order[writer] = append(order[writer], kn)
			if f.Type == "ack" && writer != c.name {
				t.Errorf("%s: got an ack for %q, written by %s", c.name, p.Title, writer)
			}
			if f.Type == "event" && writer == c.name {
				t.Errorf("%s: got an event for its own post %q; want only the ack", c.name, p.Title)
			}
		}
		if len(ids) != total {
			t.Errorf("%s: got %d distinct posts; want %d", c.name, len(ids), total)
		}
		wantAcks := 0
		if i >= readers {
			wantAcks = perWriter
		}
		if len(acks) != wantAcks {
			t.Errorf("%s: got %d acks; want %d", c.name, len(acks), wantAcks)
		}
		for j, id := range acks {
			if id != int64(j+1) {
				t.Errorf("%s: ack %d has id %d; want %d (acks in emit order)", c.name, j, id, j+1)
				break
			}
		}
		// Each writer wrote one post at a time, so its posts reach everyone
		// in the order it wrote them.
		for w, ks := range order {
			if !slices.IsSorted(ks) || len(ks) != perWriter {
				t.Errorf("%s: posts of %s arrived as %v; want 0..%d in order", c.name, w, ks, perWriter-1)
			}
		}
	}
}

// TestHub_EmitAcksSenderAndBroadcastsToOthers: the writing peer gets an ack
// with its emit id and never the event; every other peer gets the event.
func TestHub_EmitAcksSenderAndBroadcastsToOthers(t *testing.T) {
	n := startNode(t, realtime.Config{})
	a := n.dial(t, dialOpts{name: "a", token: n.token})
	b := n.dial(t, dialOpts{name: "b"})
	c := n.dial(t, dialOpts{name: "c", token: n.token})
	start := n.seq()

	a.send(map[string]any{"type": "emit", "id": 7, "event": "posts.create", "data": map[string]string{"title": "  Hello  ", "body": "first\nline"}})
	ack := a.readNonPeers()
	if !isAck(ack, 7) || ack.Seq != start+1 {
		t.Fatalf("a got %s; want an ack with id 7 and seq %d", ack, start+1)
	}
	created := ack.AckPost(t)
	if created.Title != "Hello" || created.Body != "first\nline" || created.Author != nodeName ||
		created.Version != 1 || created.Deleted || created.Seq != start+1 || created.ID == "" || created.CreatedAt == "" {
		t.Errorf("ack data = %+v; want the created post (title trimmed, author %q, version 1, seq %d)", created, nodeName, start+1)
	}
	var raw map[string]any
	json.Unmarshal(ack.Raw, &raw)
	if keys := slices.Sorted(mapKeys(raw)); !slices.Equal(keys, []string{"data", "id", "seq", "type"}) {
		t.Errorf("ack keys = %v; want [data id seq type]", keys)
	}

	a.send(map[string]any{"type": "emit", "id": 8, "event": "posts.update", "data": map[string]any{"id": created.ID, "version": 1, "body": "edited"}})
	ack = a.readNonPeers()
	updated := ack.AckPost(t)
	if !isAck(ack, 8) || ack.Seq != start+2 || updated.Version != 2 || updated.Body != "edited" || updated.Title != "Hello" {
		t.Fatalf("a got %s; want an ack with id 8, seq %d, version 2, body edited", ack, start+2)
	}

	a.send(map[string]any{"type": "emit", "id": 9, "event": "posts.delete", "data": map[string]any{"id": created.ID, "version": 2}})
	ack = a.readNonPeers()
	deleted := ack.AckPost(t)
	if !isAck(ack, 9) || ack.Seq != start+3 || !deleted.Deleted || deleted.Version != 3 || deleted.Title != "" {
		t.Fatalf("a got %s; want an ack with id 9, seq %d, a tombstone at version 3", ack, start+3)
	}

	// A write from elsewhere: the next thing a sees is its event, so no
	// event for a's own writes came in between.
	marker := n.post(t, "marker", "")
	if f := a.readNonPeers(); !f.IsPost() || f.Seq != marker.Seq {
		t.Errorf("a got %s; want the posts event of seq %d and no event for its own writes", f, marker.Seq)
	}

	want := []struct {
		action string
		post   wirePost
	}{{"create", created}, {"update", updated}, {"delete", deleted}, {"create", marker}}
	for _, peer := range []*client{b, c} {
		for i, w := range want {
			f := peer.readNonPeers()
			if !f.IsPost() || f.Seq != start+1+int64(i) {
				t.Fatalf("%s got %s; want a posts event with seq %d", peer.name, f, start+1+int64(i))
			}
			var m map[string]any
			json.Unmarshal(f.Raw, &m)
			if keys := slices.Sorted(mapKeys(m)); !slices.Equal(keys, []string{"data", "event", "seq", "type"}) {
				t.Errorf("%s: event keys = %v; want [data event seq type]", peer.name, keys)
			}
			if d := f.PostData(t); d.Action != w.action || d.Post != w.post {
				t.Errorf("%s: event %d data = %+v; want action %q and post %+v", peer.name, i, d, w.action, w.post)
			}
		}
	}
}

// TestHub_ErrorCodes sends every kind of bad message and checks the error
// frame and that the connection still works afterwards.
func TestHub_ErrorCodes(t *testing.T) {
	n := startNode(t, realtime.Config{})
	existing := n.create(t, "existing", "body")
	w := n.dial(t, dialOpts{name: "writer", token: n.token})
	r := n.dial(t, dialOpts{name: "reader"})
	other := n.dial(t, dialOpts{name: "other"})

	text := func(s string) func(c *client) { return func(c *client) { c.sendRaw(websocket.TextMessage, []byte(s)) } }
	emit := func(id int64, event string, data any) func(c *client) {
		return func(c *client) { c.send(map[string]any{"type": "emit", "id": id, "event": event, "data": data}) }
	}
	cases := []struct {
		name      string
		peer      *client
		send      func(c *client)
		wantCode  string
		wantID    int64 // 0: no id in the error
		wantField string
	}{
		{"InvalidTitleEmpty", w, emit(1, "posts.create", map[string]string{"title": "   "}), "invalid", 1, "title"},
		{"InvalidTitleTooLong", w, emit(2, "posts.create", map[string]string{"title": strings.Repeat("t", 201)}), "invalid", 2, "title"},
		{"InvalidBodyControlChar", w, emit(3, "posts.create", map[string]string{"title": "t", "body": "a\x00b"}), "invalid", 3, "body"},
		{"InvalidAuthorTooLong", w, emit(4, "posts.create", map[string]string{"title": "t", "author": strings.Repeat("a", 65)}), "invalid", 4, "author"},
		{"InvalidTitleWrongType", w, emit(5, "posts.create", map[string]any{"title": 5}), "invalid", 5, "title"},
		{"InvalidUpdateWithoutVersion", w, emit(6, "posts.update", map[string]any{"id": existing.ID, "title": "x"}), "invalid", 6, "version"},
		{"InvalidUpdateWithoutID", w, emit(7, "posts.update", map[string]any{"version": 1, "title": "x"}), "invalid", 7, "id"},
		{"NotFoundUpdate", w, emit(8, "posts.update", map[string]any{"id": "no-such-post", "version": 1, "title": "x"}), "not_found", 8, ""},
		{"NotFoundDelete", w, emit(9, "posts.delete", map[string]any{"id": "no-such-post"}), "not_found", 9, ""},
		{"ConflictUpdate", w, emit(10, "posts.update", map[string]any{"id": existing.ID, "version": 4, "title": "x"}), "conflict", 10, ""},
		{"ConflictDelete", w, emit(11, "posts.delete", map[string]any{"id": existing.ID, "version": 2}), "conflict", 11, ""},
		{"UnauthorizedCreate", r, emit(12, "posts.create", map[string]string{"title": "t"}), "unauthorized", 12, ""},
		{"UnauthorizedDelete", r, emit(13, "posts.delete", map[string]any{"id": existing.ID}), "unauthorized", 13, ""},
		{"BadRequestMalformedJSON", w, text(`{"type":"emit",`), "bad_request", 0, ""},
		{"BadRequestNotAnObject", w, text(`[1,2,3]`), "bad_request", 0, ""},
		{"BadRequestNoType", r, text(`{"id":14}`), "bad_request", 14, ""},
		{"BadRequestUnknownType", r, text(`{"type":"subscribe","id":15}`), "bad_request", 15, ""},
		{"BadRequestUnknownEvent", w, emit(16, "posts.explode", map[string]any{}), "bad_request", 16, ""},
		{"BadRequestUnknownField", w, emit(17, "posts.create", map[string]any{"title": "t", "colour": "red"}), "bad_request", 17, ""},
		{"BadRequestDataNotObject", w, emit(18, "posts.create", "a title"), "bad_request", 18, ""},
		{"BadRequestNoData", w, text(`{"type":"emit","id":19,"event":"posts.create"}`), "bad_request", 19, ""},
		{"BadRequestEmitWithoutID", w, text(`{"type":"emit","event":"posts.create","data":{"title":"no id"}}`), "bad_request", 0, ""},
		{"BadRequestBinaryFrame", w, func(c *client) { c.sendRaw(websocket.BinaryMessage, []byte(`{"type":"sync","since":0}`)) }, "bad_request", 0, ""},
		{"BadRequestSyncWithoutSince", r, text(`{"type":"sync","id":20}`), "bad_request", 20, ""},
		{"BadRequestSyncNegativeSince", r, text(`{"type":"sync","since":-5}`), "bad_request", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.peer
			c.t = t
			tc.send(c)
			f := c.readNonPeers()
			if f.Type != "error" || f.Code != tc.wantCode || f.Message == "" {
				t.Fatalf("got %s; want an error with code %q and a message", f, tc.wantCode)
			}
			switch {
			case tc.wantID == 0 && f.ID != nil:
				t.Errorf("error id = %d; want none", *f.ID)
			case tc.wantID != 0 && (f.ID == nil || *f.ID != tc.wantID):
				t.Errorf("error id = %v; want %d", f.ID, tc.wantID)
			}
			if tc.wantField != "" && f.Field != tc.wantField {
				t.Errorf("error field = %q; want %q", f.Field, tc.wantField)
			}
			if tc.wantCode == "conflict" {
				if f.Post == nil || f.Post.ID != existing.ID || f.Post.Version != 1 || f.Post.Title != "existing" {
					t.Errorf("conflict post = %+v; want the current post %s at version 1", f.Post, existing.ID)
				}
			}
			// The connection is still open and in step: a sync at the
			// current seq answers synced with that seq.
			c.sync(n.seq(), n.epoch)
			if f := c.readNonPeers(); f.Type != "synced" || f.Seq != n.seq() {
				t.Errorf("after the error, sync got %s; want synced with seq %d", f, n.seq())
			}
		})
	}
	w.t, r.t = t, t

	if got := n.seq(); got != existing.Seq {
		t.Errorf("node seq = %d; want %d: no failed message may write", got, existing.Seq)
	}
	// The writer can still write, and the failures reached nobody else.
	id := w.emit("posts.create", map[string]string{"title": "after the errors"})
	if f := w.readNonPeers(); !isAck(f, id) {
		t.Errorf("writer got %s; want the ack of emit %d", f, id)
	}
	if f := other.readNonPeers(); !f.IsPost() || f.Seq != existing.Seq+1 {
		t.Errorf("other got %s; want only the posts event of seq %d", f, existing.Seq+1)
	}
}

// TestHub_UnauthenticatedWriteRefused: a peer without the token may read
// but every emit is refused, and nothing reaches the other peers.
func TestHub_UnauthenticatedWriteRefused(t *testing.T) {
	n := startNode(t, realtime.Config{})
	p := n.create(t, "existing", "")
	r := n.dial(t, dialOpts{name: "reader"})
	other := n.dial(t, dialOpts{name: "other"})
	emits := []struct {
		event string
		data  any
	}{
		{"posts.create", map[string]string{"title": "t"}},
		{"posts.update", map[string]any{"id": p.ID, "version": 1, "title": "x"}},
		{"posts.delete", map[string]any{"id": p.ID, "version": 1}},
	}
	for _, e := range emits {
		id := r.emit(e.event, e.data)
		if f := r.readNonPeers(); f.Type != "error" || f.Code != "unauthorized" || f.ID == nil || *f.ID != id {
			t.Errorf("%s without token: got %s; want error unauthorized with id %d", e.event, f, id)
		}
	}
	if got := n.seq(); got != p.Seq {
		t.Errorf("node seq = %d; want %d (nothing written)", got, p.Seq)
	}
	other.expectNothing()
}

// TestHub_Presence: joins and leaves reach the other peers with the count,
// and /api/peers lists who is connected.
func TestHub_Presence(t *testing.T) {
	n := startNode(t, realtime.Config{})
	a := n.dial(t, dialOpts{name: "alice"})
	b := n.dial(t, dialOpts{name: "bob", token: n.token})

	f, _ := a.readUntil("bob's join", func(f frame) bool { return f.IsPeers() && f.Seq == 0 && peersOf(t, f).Peer.ID == b.hello.Peer.ID })
	if d := peersOf(t, f); d.Action != "join" || d.Count != 2 || d.Peer != b.hello.Peer {
		t.Errorf("alice got %+v; want join of %+v with count 2", d, b.hello.Peer)
	}
	var m map[string]any
	json.Unmarshal(f.Raw, &m)
	if keys := slices.Sorted(mapKeys(m)); !slices.Equal(keys, []string{"data", "event", "type"}) {
		t.Errorf("peers event keys = %v; want [data event type] (no seq)", keys)
	}

	var list struct {
		Peers []wirePeer `json:"peers"`
	}
	if status := n.do(t, "GET", "/api/peers", nil, nil, &list); status != http.StatusOK {
		t.Fatalf("GET /api/peers = %d; want 200", status)
	}
	if want := []wirePeer{a.hello.Peer, b.hello.Peer}; !slices.Equal(list.Peers, want) {
		t.Errorf("GET /api/peers = %+v; want %+v", list.Peers, want)
	}
	var info struct{ Peers int }
	n.do(t, "GET", "/api/info", nil, nil, &info)
	if info.Peers != 2 {
		t.Errorf("GET /api/info peers = %d; want 2", info.Peers)
	}

	b.conn.Close()
	f, _ = a.readUntil("bob's leave", func(f frame) bool { return f.IsPeers() && peersOf(t, f).Action == "leave" })
	if d := peersOf(t, f); d.Count != 1 || d.Peer != b.hello.Peer {
		t.Errorf("alice got %+v; want leave of %+v with count 1", d, b.hello.Peer)
	}
	n.do(t, "GET", "/api/peers", nil, nil, &list)
	if want := []wirePeer{a.hello.Peer}; !slices.Equal(list.Peers, want) {
		t.Errorf("GET /api/peers after bob left = %+v; want %+v", list.Peers, want)
	}
}

func peersOf(t *testing.T, f frame) peersData {
	t.Helper()
	var d peersData
	if err := json.Unmarshal(f.Data, &d); err != nil {
		t.Fatalf("peers event data %s: %v", f.Data, err)
	}
	return d
}

// isAck reports whether f is the ack of emit id.
func isAck(f frame, id int64) bool { return f.Type == "ack" && f.ID != nil && *f.ID == id }

// TestHub_PresenceOptOut: a peer connected with presence=0 gets no peers
// events but still every post; others still see it join. A bad value is
// refused before the upgrade.
func TestHub_PresenceOptOut(t *testing.T) {
	n := startNode(t, realtime.Config{})
	quiet := n.dial(t, dialOpts{name: "quiet", query: url.Values{"presence": {"0"}}})
	watcher := n.dial(t, dialOpts{name: "watcher"})
	joiner := n.dial(t, dialOpts{name: "joiner"})
	joiner.conn.Close()
	watcher.readUntil("joiner's leave", func(f frame) bool { return f.IsPeers() && peersOf(t, f).Action == "leave" })

	p := n.create(t, "after the churn", "")
	if f := quiet.read(); !f.IsPost() || f.PostData(t).Post.Seq != p.Seq {
		t.Errorf("presence=0 peer got %s first; want the posts event of seq %d (no peers events)", f, p.Seq)
	}
	quiet.expectNothing()

	for _, bad := range []string{"yes", "2", "false"} {
		_, resp, err := n.dialRaw(dialOpts{query: url.Values{"presence": {bad}}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Errorf("presence=%s: status %d, err %v; want 400", bad, status, err)
		}
	}
}
