package app_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/feed"
	"lanfeed/realtime"
	"lanfeed/store"

	_ "modernc.org/sqlite" // the raw connection that breaks the database
)

// failWrites makes every later write to posts fail inside SQLite, as a full
// or broken disk would: the store's transaction starts, then aborts.
func failWrites(t *testing.T, st *store.Store) {
	t.Helper()
	db, err := sql.Open("sqlite", st.Path()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatalf("sql.Open(%s) = %v; want nil error", st.Path(), err)
	}
	defer db.Close()
	for _, op := range []string{"INSERT", "UPDATE"} {
		q := fmt.Sprintf(`CREATE TRIGGER fail_%s BEFORE %s ON posts BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END`, op, op)
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("create trigger: %v; want nil error", err)
		}
	}
}

func TestService_FailedCommitPublishesNothing(t *testing.T) {
	breakDisk := func(t *testing.T, _ *app.Service, st *store.Store, _ feed.Post) { failWrites(t, st) }
	tests := []struct {
		name  string
		setup func(t *testing.T, svc *app.Service, st *store.Store, existing feed.Post) // before the write; nil: nothing
		write func(t *testing.T, svc *app.Service, existing feed.Post) (feed.Post, error)
		code  string
	}{
		{
			name: "CreateInvalidTitle",
			write: func(t *testing.T, svc *app.Service, _ feed.Post) (feed.Post, error) {
				return svc.Create(t.Context(), feed.NewPost{Title: "   "}, realtime.Origin{})
			},
			code: feed.CodeInvalid,
		},
		{
			name: "CreateInvalidBodyFromPeer",
			write: func(t *testing.T, svc *app.Service, _ feed.Post) (feed.Post, error) {
				return svc.Create(t.Context(), feed.NewPost{Title: "t", Body: "bell\a"}, realtime.Origin{Peer: 1, EmitID: 1})
			},
			code: feed.CodeInvalid,
		},
		{
			name: "UpdateWithoutVersion",
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Update(t.Context(), p.ID, feed.PostPatch{Title: ptr("new")}, realtime.Origin{})
			},
			code: feed.CodeInvalid,
		},
		{
			name: "UpdateConflict",
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Update(t.Context(), p.ID, feed.PostPatch{Version: p.Version + 1, Title: ptr("new")}, realtime.Origin{})
			},
			code: feed.CodeConflict,
		},
		{
			name: "UpdateNotFound",
			write: func(t *testing.T, svc *app.Service, _ feed.Post) (feed.Post, error) {
				return svc.Update(t.Context(), feed.NewID(), feed.PostPatch{Version: 1, Title: ptr("new")}, realtime.Origin{})
			},
			code: feed.CodeNotFound,
		},
		{
			name: "DeleteConflict",
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Delete(t.Context(), p.ID, p.Version+1, realtime.Origin{})
			},
			code: feed.CodeConflict,
		},
		{
			name: "DeleteNotFound",
			write: func(t *testing.T, svc *app.Service, _ feed.Post) (feed.Post, error) {
				return svc.Delete(t.Context(), feed.NewID(), 0, realtime.Origin{Peer: 2, EmitID: 9})
			},
			code: feed.CodeNotFound,
		},
		{
			name: "DeleteAlreadyDeleted",
			setup: func(t *testing.T, svc *app.Service, _ *store.Store, p feed.Post) {
				if _, err := svc.Delete(t.Context(), p.ID, 0, realtime.Origin{}); err != nil {
					t.Fatalf("Delete() = %v; want nil error", err)
				}
			},
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Delete(t.Context(), p.ID, 0, realtime.Origin{})
			},
			code: feed.CodeNotFound,
		},
		{
			name:  "CreateOnClosedStore",
			setup: func(t *testing.T, _ *app.Service, st *store.Store, _ feed.Post) { st.Close() },
			write: func(t *testing.T, svc *app.Service, _ feed.Post) (feed.Post, error) {
				return svc.Create(t.Context(), feed.NewPost{Title: "lost"}, realtime.Origin{})
			},
			code: feed.CodeInternal,
		},
		{
			name:  "CreateStorageFailure",
			setup: breakDisk,
			write: func(t *testing.T, svc *app.Service, _ feed.Post) (feed.Post, error) {
				return svc.Create(t.Context(), feed.NewPost{Title: "lost"}, realtime.Origin{Peer: 3, EmitID: 4})
			},
			code: feed.CodeInternal,
		},
		{
			name:  "UpdateStorageFailure",
			setup: breakDisk,
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Update(t.Context(), p.ID, feed.PostPatch{Version: p.Version, Body: ptr("lost")}, realtime.Origin{})
			},
			code: feed.CodeInternal,
		},
		{
			name:  "DeleteStorageFailure",
			setup: breakDisk,
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Delete(t.Context(), p.ID, p.Version, realtime.Origin{})
			},
			code: feed.CodeInternal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordingSink{}
			svc, st := newService(t, sink)
			existing, err := svc.Create(t.Context(), feed.NewPost{Title: "existing"}, realtime.Origin{})
			if err != nil {
				t.Fatalf("Create(existing) = %v; want nil error", err)
			}
			if tt.setup != nil {
				tt.setup(t, svc, st, existing)
			}
			before := len(sink.Events())
			seq := svc.Seq()

			got, err := tt.write(t, svc, existing)
			wantCode(t, tt.name, err, tt.code)
			if got != (feed.Post{}) {
				t.Errorf("%s returned post %+v with its error; want the zero Post", tt.name, got)
			}
			if evs := sink.Events()[before:]; len(evs) != 0 {
				t.Errorf("sink got %d events after the failed write: %s; want 0", len(evs), evs[0].Envelope)
			}
			if got := svc.Seq(); got != seq {
				t.Errorf("Seq() = %d after the failed write; want %d", got, seq)
			}
		})
	}
}

// A failed write does not disturb the next one: it gets the next seq and
// its event is published.
func TestService_WriteAfterStorageFailurePublishes(t *testing.T) {
	sink := &recordingSink{}
	svc, st := newService(t, sink)
	failWrites(t, st)
	if _, err := svc.Create(t.Context(), feed.NewPost{Title: "lost"}, realtime.Origin{}); err == nil {
		t.Fatalf("Create() with a failing disk = nil error; want an error")
	}
	db, err := sql.Open("sqlite", st.Path()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatalf("sql.Open() = %v; want nil error", err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP TRIGGER fail_INSERT`); err != nil {
		t.Fatalf("drop trigger: %v; want nil error", err)
	}
	p, err := svc.Create(t.Context(), feed.NewPost{Title: "kept"}, realtime.Origin{})
	if err != nil {
		t.Fatalf("Create() after the disk recovered = %v; want nil error", err)
	}
	if p.Seq != 1 {
		t.Errorf("Create().Seq = %d; want 1 (the failed write used no seq)", p.Seq)
	}
	evs := sink.Events()
	if len(evs) != 1 || evs[0].Seq != 1 {
		t.Fatalf("sink got %d events %+v; want one with seq 1", len(evs), evs)
	}
}

func TestService_PublishesOneEventPerCommit(t *testing.T) {
	sink := &recordingSink{}
	svc, _ := newService(t, sink)
	ctx := t.Context()
	created, err := svc.Create(ctx, feed.NewPost{Title: " Hello ", Body: "first"}, realtime.Origin{})
	if err != nil {
		t.Fatalf("Create() = %v; want nil error", err)
	}
	updated, err := svc.Update(ctx, created.ID, feed.PostPatch{Version: 1, Body: ptr("second")}, realtime.Origin{})
	if err != nil {
		t.Fatalf("Update() = %v; want nil error", err)
	}
	deleted, err := svc.Delete(ctx, created.ID, 2, realtime.Origin{})
	if err != nil {
		t.Fatalf("Delete() = %v; want nil error", err)
	}

	want := []struct {
		action string
		post   feed.Post
	}{{realtime.ActionCreate, created}, {realtime.ActionUpdate, updated}, {realtime.ActionDelete, deleted}}
	evs := sink.Events()
	if len(evs) != len(want) {
		t.Fatalf("sink got %d events; want %d", len(evs), len(want))
	}
	for i, ev := range evs {
		w := want[i]
		if ev.Name != realtime.EventPosts || ev.Seq != w.post.Seq || ev.Origin != (realtime.Origin{}) || ev.Ack != nil {
			t.Errorf("event %d = {Name:%q Seq:%d Origin:%+v Ack:%s}; want {Name:%q Seq:%d Origin:{} Ack:nil}",
				i, ev.Name, ev.Seq, ev.Origin, ev.Ack, realtime.EventPosts, w.post.Seq)
		}
		var env struct {
			Type  string            `json:"type"`
			Event string            `json:"event"`
			Seq   int64             `json:"seq"`
			Data  realtime.PostData `json:"data"`
		}
		if err := json.Unmarshal(ev.Envelope, &env); err != nil {
			t.Fatalf("event %d envelope %s: %v; want JSON", i, ev.Envelope, err)
		}
		if env.Type != "event" || env.Event != "posts" || env.Seq != w.post.Seq || env.Data.Action != w.action || env.Data.Post != w.post {
			t.Errorf("event %d envelope = %+v; want event posts seq %d action %s post %+v", i, env, w.post.Seq, w.action, w.post)
		}
	}
	if got := []int64{created.Seq, updated.Seq, deleted.Seq}; !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("seqs = %v; want [1 2 3]", got)
	}
}

// slowSink delays every event before passing it on.
type slowSink struct {
	next  app.Sink
	delay time.Duration
}

func (s slowSink) Publish(ev app.Event) {
	time.Sleep(s.delay)
	s.next.Publish(ev)
}

func TestService_PublishesInSeqOrderUnderConcurrentWriters(t *testing.T) {
	const writers, each = 8, 25
	sink := &recordingSink{}
	// A sink that takes a moment per event makes writers pile up behind it,
	// which is when publishes could overtake each other.
	svc, _ := newService(t, slowSink{sink, 50 * time.Microsecond})
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				_, err := svc.Create(t.Context(), feed.NewPost{Title: fmt.Sprintf("w%d-%d", w, i)}, realtime.Origin{})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	// Presence from peers coming and going interleaves with the writes.
	wg.Go(func() {
		for i := range 50 {
			svc.Presence(realtime.ActionJoin, realtime.PeerInfo{ID: fmt.Sprintf("p%d", i), Name: "x"}, 1)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Create() = %v; want nil error", err)
	}

	var seqs []int64
	presence := 0
	for _, ev := range sink.Events() {
		switch ev.Name {
		case realtime.EventPosts:
			seqs = append(seqs, ev.Seq)
		case realtime.EventPeers:
			presence++
		}
	}
	if len(seqs) != writers*each {
		t.Fatalf("sink got %d posts events; want %d", len(seqs), writers*each)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("posts event %d has seq %d; want %d (seqs must be 1..%d in order)", i, s, i+1, writers*each)
		}
	}
	if presence != 50 {
		t.Errorf("sink got %d peers events; want 50", presence)
	}
}

func TestService_EmitOriginGetsAck(t *testing.T) {
	sink := &recordingSink{}
	svc, _ := newService(t, sink)
	o := realtime.Origin{Peer: 42, EmitID: 7}
	p, err := svc.Create(t.Context(), feed.NewPost{Title: "from a peer"}, o)
	if err != nil {
		t.Fatalf("Create() = %v; want nil error", err)
	}
	u, err := svc.Update(t.Context(), p.ID, feed.PostPatch{Version: 1, Title: ptr("edited")}, realtime.Origin{Peer: 42, EmitID: 8})
	if err != nil {
		t.Fatalf("Update() = %v; want nil error", err)
	}
	evs := sink.Events()
	if len(evs) != 2 {
		t.Fatalf("sink got %d events; want 2", len(evs))
	}
	for i, w := range []struct {
		id   int64
		post feed.Post
	}{{7, p}, {8, u}} {
		ev := evs[i]
		if ev.Origin != (realtime.Origin{Peer: 42, EmitID: w.id}) {
			t.Errorf("event %d Origin = %+v; want {Peer:42 EmitID:%d}", i, ev.Origin, w.id)
		}
		var ack struct {
			Type string    `json:"type"`
			ID   int64     `json:"id"`
			Seq  int64     `json:"seq"`
			Data feed.Post `json:"data"`
		}
		if err := json.Unmarshal(ev.Ack, &ack); err != nil {
			t.Fatalf("event %d Ack %q: %v; want an ack frame", i, ev.Ack, err)
		}
		if ack.Type != "ack" || ack.ID != w.id || ack.Seq != w.post.Seq || ack.Data != w.post {
			t.Errorf("event %d Ack = %+v; want {Type:ack ID:%d Seq:%d Data:%+v}", i, ack, w.id, w.post.Seq, w.post)
		}
		// Everyone else still gets the ordinary envelope.
		want := realtime.EncodePostEvent([]string{realtime.ActionCreate, realtime.ActionUpdate}[i], w.post)
		if string(ev.Envelope) != string(want) {
			t.Errorf("event %d Envelope = %s; want %s", i, ev.Envelope, want)
		}
	}
}

func TestService_Presence(t *testing.T) {
	sink := &recordingSink{}
	svc, _ := newService(t, sink)
	peer := realtime.PeerInfo{ID: "p1", Name: "laptop", Since: feed.UnixMilli(1_700_000_000_000)}
	svc.Presence(realtime.ActionJoin, peer, 3)
	evs := sink.Events()
	if len(evs) != 1 {
		t.Fatalf("sink got %d events; want 1", len(evs))
	}
	ev := evs[0]
	want := `{"type":"event","event":"peers","data":{"action":"join","peer":{"id":"p1","name":"laptop","since":"2023-11-14T22:13:20.000Z"},"count":3}}`
	if ev.Name != realtime.EventPeers || ev.Seq != 0 || string(ev.Envelope) != want || ev.Ack != nil {
		t.Errorf("Presence() published {Name:%q Seq:%d Envelope:%s Ack:%s}; want {Name:peers Seq:0 Envelope:%s Ack:}", ev.Name, ev.Seq, ev.Envelope, ev.Ack, want)
	}
}

func TestService_RotateToken(t *testing.T) {
	svc, st := newService(t, &recordingSink{})
	old := svc.Token()
	if !svc.Authorize(old) {
		t.Fatalf("Authorize(initial token) = false; want true")
	}
	fresh, err := svc.RotateToken(t.Context())
	if err != nil {
		t.Fatalf("RotateToken() = %v; want nil error", err)
	}
	if fresh == old || len(fresh) < 32 {
		t.Fatalf("RotateToken() = %q (old %q); want a new token of 128 bits or more", fresh, old)
	}
	if svc.Authorize(old) {
		t.Errorf("Authorize(old token) = true right after RotateToken; want false")
	}
	if !svc.Authorize(fresh) {
		t.Errorf("Authorize(new token) = false; want true")
	}
	if got := svc.Token(); got != fresh {
		t.Errorf("Token() = %q; want %q", got, fresh)
	}
	for _, bad := range []string{"", fresh[:len(fresh)-1], fresh + "0"} {
		if svc.Authorize(bad) {
			t.Errorf("Authorize(%q) = true; want false", bad)
		}
	}
	// The new token is the node's: a restart keeps it.
	n, err := st.Node(t.Context())
	if err != nil {
		t.Fatalf("Node() = %v; want nil error", err)
	}
	if n.Token != fresh {
		t.Errorf("stored token = %q; want %q", n.Token, fresh)
	}
}

func TestService_SetName(t *testing.T) {
	svc, _ := newService(t, &recordingSink{})
	before := svc.Identity()
	if before.Node.Name != testName {
		t.Fatalf("Identity().Node.Name = %q; want %q", before.Node.Name, testName)
	}
	n, err := svc.SetName(t.Context(), "  kitchen  ")
	if err != nil {
		t.Fatalf("SetName() = %v; want nil error", err)
	}
	want := realtime.Identity{Node: feed.Node{ID: before.Node.ID, Name: "kitchen"}, Epoch: before.Epoch}
	if n != want.Node {
		t.Errorf("SetName() = %+v; want %+v", n, want.Node)
	}
	if got := svc.Identity(); got != want {
		t.Errorf("Identity() = %+v; want %+v", got, want)
	}

	_, err = svc.SetName(t.Context(), "bad\x00name")
	wantCode(t, "SetName(control character)", err, feed.CodeInvalid)
	_, err = svc.SetName(t.Context(), "   ")
	wantCode(t, "SetName(blank)", err, feed.CodeInvalid)
	if got := svc.Identity(); got != want {
		t.Errorf("Identity() after refused SetName = %+v; want %+v", got, want)
	}
}

func TestService_Replay(t *testing.T) {
	svc, _ := newService(t, &recordingSink{})
	ctx := t.Context()
	a, _ := svc.Create(ctx, feed.NewPost{Title: "a"}, realtime.Origin{})
	b, _ := svc.Create(ctx, feed.NewPost{Title: "b"}, realtime.Origin{})
	a2, _ := svc.Update(ctx, a.ID, feed.PostPatch{Version: 1, Title: ptr("a2")}, realtime.Origin{})
	b2, err := svc.Delete(ctx, b.ID, 0, realtime.Origin{})
	if err != nil {
		t.Fatalf("Delete() = %v; want nil error", err)
	}
	changes, err := svc.Replay(ctx, 0, 10)
	if err != nil {
		t.Fatalf("Replay(0) = %v; want nil error", err)
	}
	want := []realtime.Change{
		{Seq: a2.Seq, Frame: realtime.EncodePostEvent(realtime.ActionUpdate, a2)},
		{Seq: b2.Seq, Frame: realtime.EncodePostEvent(realtime.ActionDelete, b2)},
	}
	if len(changes) != len(want) {
		t.Fatalf("Replay(0) = %d changes; want %d", len(changes), len(want))
	}
	for i := range want {
		if changes[i].Seq != want[i].Seq || string(changes[i].Frame) != string(want[i].Frame) {
			t.Errorf("Replay(0)[%d] = {%d %s}; want {%d %s}", i, changes[i].Seq, changes[i].Frame, want[i].Seq, want[i].Frame)
		}
	}
	changes, err = svc.Replay(ctx, a2.Seq, 10)
	if err != nil || len(changes) != 1 || changes[0].Seq != b2.Seq {
		t.Errorf("Replay(%d) = %d changes, %v; want only seq %d", a2.Seq, len(changes), err, b2.Seq)
	}
}

// panicOnce panics on its first event, as a buggy consumer might.
type panicOnce struct {
	once sync.Once
	next app.Sink
}

func (p *panicOnce) Publish(ev app.Event) {
	p.once.Do(func() { panic("consumer bug") })
	p.next.Publish(ev)
}

// TestService_PanicWhileLeadingDoesNotStopWrites: a panic in the middle of
// a group commit reaches the caller that led it, and the next writes still
// go through (no one is left waiting for a lead that never comes).
func TestService_PanicWhileLeadingDoesNotStopWrites(t *testing.T) {
	sink := &recordingSink{}
	svc, _ := newService(t, &panicOnce{next: sink})
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("the consumer's panic did not reach the caller that led the batch")
			}
		}()
		svc.Create(t.Context(), feed.NewPost{Title: "first"}, realtime.Origin{})
	}()
	done := make(chan error, 1)
	go func() {
		_, err := svc.Create(t.Context(), feed.NewPost{Title: "second"}, realtime.Origin{})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Create after the panic = %v; want nil error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Create after a panic while leading did not return in 5 s: the lead was lost")
	}
	if evs := sink.Events(); len(evs) != 1 || evs[0].Seq != 2 {
		t.Errorf("events after the panic: %+v; want the second write's, seq 2", evs)
	}
}
