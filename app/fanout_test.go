package app_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"lanfeed/app"
	"lanfeed/client"
	"lanfeed/feed"
)

// openNode opens a real node (database file, service, hub) with a UISink
// over emitter added to its fan-out, and serves the hub over loopback.
func openNode(t *testing.T, emitter app.Emitter) (*app.Server, *httptest.Server) {
	t.Helper()
	srv, err := app.Open(t.Context(), app.Config{DataDir: t.TempDir(), Name: testName, Logger: discardLogger()})
	if err != nil {
		t.Fatalf("app.Open() = %v; want nil error", err)
	}
	ui := app.NewUISink(emitter)
	srv.Fanout.Add(ui)
	ts := httptest.NewServer(srv.Hub.Handler())
	t.Cleanup(func() {
		ctx, cancel := closeCtx()
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Server.Close() = %v; want nil", err)
		}
		if err := ui.Close(ctx); err != nil {
			t.Errorf("UISink.Close() = %v; want nil", err)
		}
		ts.Close()
	})
	return srv, ts
}

func TestFanout_BothSinksReceiveIdenticalEnvelopes(t *testing.T) {
	emitter := newFakeEmitter()
	srv, ts := openNode(t, emitter)
	svc := srv.Service

	a := dialPeer(t, ts, "alice", "")
	ctx := t.Context()
	p, err := svc.Create(ctx, feed.NewPost{Title: "Lunch", Body: "at noon\n\tüñí", Author: "ops"}, feed.Caller{})
	if err != nil {
		t.Fatalf("Create() = %v; want nil error", err)
	}
	p2, err := svc.Update(ctx, p.ID, feed.PostPatch{Version: 1, Title: ptr("Lunch moved")}, feed.Caller{})
	if err != nil {
		t.Fatalf("Update() = %v; want nil error", err)
	}
	p3, err := svc.Delete(ctx, p.ID, 0, feed.Caller{})
	if err != nil {
		t.Fatalf("Delete() = %v; want nil error", err)
	}
	b := dialPeer(t, ts, "bob", "")
	b.Close()

	// alice: her own join, three post changes, bob's join and leave.
	type want struct {
		name, action string
		post         feed.Post // posts events
		peer         string    // peers events: the peer's name
		count        int
	}
	wants := []want{
		{name: "peers", action: "join", peer: "alice", count: 1},
		{name: "posts", action: "create", post: p},
		{name: "posts", action: "update", post: p2},
		{name: "posts", action: "delete", post: p3},
		{name: "peers", action: "join", peer: "bob", count: 2},
		{name: "peers", action: "leave", peer: "bob", count: 1},
	}
	var frames [][]byte
	for range wants {
		frames = append(frames, nextEvent(t, a).Raw())
	}
	calls := emitter.waitCalls(t, len(wants))

	if len(calls) != len(frames) {
		t.Fatalf("emitter got %d events; want %d, as alice did", len(calls), len(frames))
	}
	for i, w := range wants {
		if string(calls[i].envelope) != string(frames[i]) {
			t.Errorf("event %d: emitter got %s; websocket got %s; want identical bytes", i, calls[i].envelope, frames[i])
		}
		if calls[i].name != w.name {
			t.Errorf("event %d: Emit name = %q; want %q", i, calls[i].name, w.name)
		}
		switch w.name {
		case "posts":
			var env struct {
				Type  string `json:"type"`
				Event string `json:"event"`
				Seq   int64  `json:"seq"`
				Data  struct {
					Action string    `json:"action"`
					Post   feed.Post `json:"post"`
				} `json:"data"`
			}
			if err := json.Unmarshal(frames[i], &env); err != nil {
				t.Fatalf("event %d: %s: %v; want a posts event", i, frames[i], err)
			}
			if env.Type != "event" || env.Event != "posts" || env.Seq != w.post.Seq || env.Data.Action != w.action || env.Data.Post != w.post {
				t.Errorf("event %d = %+v; want {event posts seq %d {%s %+v}}", i, env, w.post.Seq, w.action, w.post)
			}
		case "peers":
			var env struct {
				Type  string         `json:"type"`
				Event string         `json:"event"`
				Seq   *int64         `json:"seq"`
				Data  feed.PeersData `json:"data"`
			}
			if err := json.Unmarshal(frames[i], &env); err != nil {
				t.Fatalf("event %d: %s: %v; want a peers event", i, frames[i], err)
			}
			if env.Type != "event" || env.Event != "peers" || env.Seq != nil || env.Data.Action != w.action ||
				env.Data.Peer.Name != w.peer || env.Data.Count != w.count {
				t.Errorf("event %d = %s; want peers %s of %s with count %d and no seq", i, frames[i], w.action, w.peer, w.count)
			}
		}
	}

	// Nothing more reaches either consumer.
	ctx, cancel := context.WithTimeout(t.Context(), quiet)
	defer cancel()
	if ev, err := a.Next(ctx); err == nil {
		t.Errorf("alice got an extra frame %s; want none", ev.Raw())
	}
	if got := len(emitter.Calls()); got != len(wants) {
		t.Errorf("emitter got %d events; want %d", got, len(wants))
	}
}

// A write from a peer reaches the window as the event, never as the ack the
// peer itself gets.
func TestFanout_EmitReachesWindowAsEvent(t *testing.T) {
	emitter := newFakeEmitter()
	srv, ts := openNode(t, emitter)
	a := dialPeer(t, ts, "alice", srv.Service.Token())
	nextEvent(t, a) // her join
	post, err := a.Create(t.Context(), feed.NewPost{Title: "from alice"})
	if err != nil {
		t.Fatalf("Create() = %v; want nil error", err)
	}
	if ack, ok := nextEvent(t, a).(*client.Ack); !ok || ack.Seq != 1 || ack.Post != post {
		t.Fatalf("alice got %T %+v; want her ack, seq 1, carrying %+v", ack, ack, post)
	}
	calls := emitter.waitCalls(t, 2)
	want := feed.EncodePostEvent(feed.ActionCreate, post)
	if calls[1].name != "posts" || string(calls[1].envelope) != string(want) {
		t.Errorf("emitter got (%q, %s); want (posts, %s)", calls[1].name, calls[1].envelope, want)
	}
}
