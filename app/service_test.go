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
				return svc.Create(t.Context(), feed.NewPost{Title: "   "}, feed.Caller{})
			},
			code: feed.CodeInvalid,
		},
		{
			name: "CreateInvalidBodyFromPeer",
			write: func(t *testing.T, svc *app.Service, _ feed.Post) (feed.Post, error) {
				return svc.Create(t.Context(), feed.NewPost{Title: "t", Body: "bell\a"}, feed.Caller{Peer: 1, EmitID: 1})
			},
			code: feed.CodeInvalid,
		},
		{
			name: "UpdateWithoutVersion",
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Update(t.Context(), p.ID, feed.PostPatch{Title: ptr("new")}, feed.Caller{})
			},
			code: feed.CodeInvalid,
		},
		{
			name: "UpdateConflict",
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Update(t.Context(), p.ID, feed.PostPatch{Version: p.Version + 1, Title: ptr("new")}, feed.Caller{})
			},
			code: feed.CodeConflict,
		},
		{
			name: "UpdateNotFound",
			write: func(t *testing.T, svc *app.Service, _ feed.Post) (feed.Post, error) {
				return svc.Update(t.Context(), feed.NewID(), feed.PostPatch{Version: 1, Title: ptr("new")}, feed.Caller{})
			},
			code: feed.CodeNotFound,
		},
		{
			name: "DeleteConflict",
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Delete(t.Context(), p.ID, p.Version+1, feed.Caller{})
			},
			code: feed.CodeConflict,
		},
		{
			name: "DeleteNotFound",
			write: func(t *testing.T, svc *app.Service, _ feed.Post) (feed.Post, error) {
				return svc.Delete(t.Context(), feed.NewID(), 0, feed.Caller{Peer: 2, EmitID: 9})
			},
			code: feed.CodeNotFound,
		},
		{
			name: "DeleteAlreadyDeleted",
			setup: func(t *testing.T, svc *app.Service, _ *store.Store, p feed.Post) {
				if _, err := svc.Delete(t.Context(), p.ID, 0, feed.Caller{}); err != nil {
					t.Fatalf("Delete() = %v; want nil error", err)
				}
			},
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Delete(t.Context(), p.ID, 0, feed.Caller{})
			},
			code: feed.CodeNotFound,
		},
		{
			name:  "CreateOnClosedStore",
			setup: func(t *testing.T, _ *app.Service, st *store.Store, _ feed.Post) { st.Close() },
			write: func(t *testing.T, svc *app.Service, _ feed.Post) (feed.Post, error) {
				return svc.Create(t.Context(), feed.NewPost{Title: "lost"}, feed.Caller{})
			},
			code: feed.CodeInternal,
		},
		{
			name:  "CreateStorageFailure",
			setup: breakDisk,
			write: func(t *testing.T, svc *app.Service, _ feed.Post) (feed.Post, error) {
				return svc.Create(t.Context(), feed.NewPost{Title: "lost"}, feed.Caller{Peer: 3, EmitID: 4})
			},
			code: feed.CodeInternal,
		},
		{
			name:  "UpdateStorageFailure",
			setup: breakDisk,
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Update(t.Context(), p.ID, feed.PostPatch{Version: p.Version, Body: ptr("lost")}, feed.Caller{})
			},
			code: feed.CodeInternal,
		},
		{
			name:  "DeleteStorageFailure",
			setup: breakDisk,
			write: func(t *testing.T, svc *app.Service, p feed.Post) (feed.Post, error) {
				return svc.Delete(t.Context(), p.ID, p.Version, feed.Caller{})
			},
			code: feed.CodeInternal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordingSink{}
			svc, st := newService(t, sink)
			existing, err := svc.Create(t.Context(), feed.NewPost{Title: "existing"}, feed.Caller{})
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
	if _, err := svc.Create(t.Context(), feed.NewPost{Title: "lost"}, feed.Caller{}); err == nil {
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
	p, err := svc.Create(t.Context(), feed.NewPost{Title: "kept"}, feed.Caller{})
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
	created, err := svc.Create(ctx, feed.NewPost{Title: " Hello ", Body: "first"}, feed.Caller{})
	if err != nil {
		t.Fatalf("Create() = %v; want nil error", err)
	}
	updated, err := svc.Update(ctx, created.ID, feed.PostPatch{Version: 1, Body: ptr("second")}, feed.Caller{})
	if err != nil {
		t.Fatalf("Update() = %v; want nil error", err)
	}
	deleted, err := svc.Delete(ctx, created.ID, 2, feed.Caller{})
	if err != nil {
		t.Fatalf("Delete() = %v; want nil error", err)
	}

	want := []struct {
		action string
		post   feed.Post
	}{{feed.ActionCreate, created}, {feed.ActionUpdate, updated}, {feed.ActionDelete, deleted}}
	evs := sink.Events()
	if len(evs) != len(want) {
		t.Fatalf("sink got %d events; want %d", len(evs), len(want))
	}
	for i, ev := range evs {
		w := want[i]
		if ev.Name != feed.EventPosts || ev.Seq != w.post.Seq || ev.By != (feed.Caller{}) || ev.Post != w.post {
			t.Errorf("event %d = {Name:%q Seq:%d By:%+v Post:%+v}; want {Name:%q Seq:%d By:{} Post:%+v}",
				i, ev.Name, ev.Seq, ev.By, ev.Post, feed.EventPosts, w.post.Seq, w.post)
		}
		var env struct {
			Type  string        `json:"type"`
			Event string        `json:"event"`
			Seq   int64         `json:"seq"`
			Data  feed.PostData `json:"data"`
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
				_, err := svc.Create(t.Context(), feed.NewPost{Title: fmt.Sprintf("w%d-%d", w, i)}, feed.Caller{})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	// Presence from peers coming and going interleaves with the writes.
	wg.Go(func() {
		for i := range 50 {
			svc.Presence(feed.ActionJoin, feed.Peer{ID: fmt.Sprintf("p%d", i), Name: "x"}, 1)
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
		case feed.EventPosts:
			seqs = append(seqs, ev.Seq)
		case feed.EventPeers:
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

func TestService_EmitNamesItsCaller(t *testing.T) {
	sink := &recordingSink{}
	svc, _ := newService(t, sink)
	o := feed.Caller{Peer: 42, EmitID: 7}
	p, err := svc.Create(t.Context(), feed.NewPost{Title: "from a peer"}, o)
	if err != nil {
		t.Fatalf("Create() = %v; want nil error", err)
	}
	u, err := svc.Update(t.Context(), p.ID, feed.PostPatch{Version: 1, Title: ptr("edited")}, feed.Caller{Peer: 42, EmitID: 8})
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
		// The hub answers the caller with an ack built from By and Post
		// (realtime's tests check those bytes on the wire).
		if ev.By != (feed.Caller{Peer: 42, EmitID: w.id}) || ev.Post != w.post {
			t.Errorf("event %d = {By:%+v Post:%+v}; want {By:{Peer:42 EmitID:%d} Post:%+v}", i, ev.By, ev.Post, w.id, w.post)
		}
		// Everyone else still gets the ordinary envelope.
		want := feed.EncodePostEvent([]string{feed.ActionCreate, feed.ActionUpdate}[i], w.post)
		if string(ev.Envelope) != string(want) {
			t.Errorf("event %d Envelope = %s; want %s", i, ev.Envelope, want)
		}
	}
}

func TestService_Presence(t *testing.T) {
	sink := &recordingSink{}
	svc, _ := newService(t, sink)
	peer := feed.Peer{ID: "p1", Name: "laptop", Since: feed.UnixMilli(1_700_000_000_000)}
	svc.Presence(feed.ActionJoin, peer, 3)
	evs := sink.Events()
	if len(evs) != 1 {
		t.Fatalf("sink got %d events; want 1", len(evs))
	}
	ev := evs[0]
	want := `{"type":"event","event":"peers","data":{"action":"join","peer":{"id":"p1","name":"laptop","since":"2023-11-14T22:13:20.000Z"},"count":3}}`
	if ev.Name != feed.EventPeers || ev.Seq != 0 || string(ev.Envelope) != want || ev.By != (feed.Caller{}) {
		t.Errorf("Presence() published {Name:%q Seq:%d Envelope:%s By:%+v}; want {Name:peers Seq:0 Envelope:%s By:{}}", ev.Name, ev.Seq, ev.Envelope, ev.By, want)
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
	want := feed.Identity{Node: feed.Node{ID: before.Node.ID, Name: "kitchen"}, Epoch: before.Epoch}
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

// TestService_Sync holds the resume rule that the window (Posts.Sync) and
// websocket peers (the hub's replay) share.
func TestService_Sync(t *testing.T) {
	svc, _ := newService(t, &recordingSink{})
	epoch := svc.Identity().Epoch
	ctx := t.Context()
	a, _ := svc.Create(ctx, feed.NewPost{Title: "a"}, feed.Caller{})
	b, _ := svc.Create(ctx, feed.NewPost{Title: "b"}, feed.Caller{})
	a2, _ := svc.Update(ctx, a.ID, feed.PostPatch{Version: 1, Body: ptr("more")}, feed.Caller{})
	b2, err := svc.Delete(ctx, b.ID, 0, feed.Caller{})
	if err != nil {
		t.Fatalf("Delete() = %v; want nil error", err)
	}
	all := []string{
		string(feed.EncodePostEvent(feed.ActionUpdate, a2)),
		string(feed.EncodePostEvent(feed.ActionDelete, b2)),
	}

	tests := []struct {
		name       string
		since      int64
		epoch      string
		wantReset  bool
		wantEvents []string
	}{
		{"FromStart", 0, "", false, all},
		{"FromStartSameEpoch", 0, epoch, false, all},
		{"AfterSeq", a2.Seq, epoch, false, all[1:]},
		{"UpToDate", b2.Seq, epoch, false, []string{}},
		{"OtherEpochResets", b2.Seq, "another-database", true, all},
		{"FutureSeqResets", b2.Seq + 1, epoch, true, all},
		{"NegativeSeqResets", -1, "", true, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := svc.Sync(t.Context(), tt.since, tt.epoch, "", 10)
			if err != nil {
				t.Fatalf("Sync(%d, %q) = %v; want nil error", tt.since, tt.epoch, err)
			}
			var events []string
			for _, e := range page.Events {
				events = append(events, string(e))
			}
			if events == nil {
				events = []string{}
			}
			if page.Epoch != epoch || page.Reset != tt.wantReset || page.Seq != b2.Seq || page.More ||
				fmt.Sprint(events) != fmt.Sprint(tt.wantEvents) {
				t.Errorf("Sync(%d, %q) = {Epoch:%s Reset:%v Seq:%d More:%v Events:%v}; want {Epoch:%s Reset:%v Seq:%d More:false Events:%v}",
					tt.since, tt.epoch, page.Epoch, page.Reset, page.Seq, page.More, events, epoch, tt.wantReset, b2.Seq, tt.wantEvents)
			}
			// The window's JSON: events is an array even when empty.
			raw, _ := json.Marshal(page)
			var shape map[string]json.RawMessage
			json.Unmarshal(raw, &shape)
			if string(shape["events"])[0] != '[' {
				t.Errorf("Sync JSON events = %s; want an array", shape["events"])
			}
		})
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
		svc.Create(t.Context(), feed.NewPost{Title: "first"}, feed.Caller{})
	}()
	done := make(chan error, 1)
	go func() {
		_, err := svc.Create(t.Context(), feed.NewPost{Title: "second"}, feed.Caller{})
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
