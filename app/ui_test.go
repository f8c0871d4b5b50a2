package app_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"lanfeed/app"
)

// blockedEmitter returns an emitter whose Emit waits until unblock is
// called; unblock runs at the latest when the test ends.
func blockedEmitter(t *testing.T) (f *fakeEmitter, unblock func()) {
	t.Helper()
	f = newFakeEmitter()
	f.entered = make(chan struct{}, 1)
	f.block = make(chan struct{})
	closed := false
	unblock = func() {
		if !closed {
			closed = true
			close(f.block)
		}
	}
	t.Cleanup(unblock)
	return f, unblock
}

// waitEntered waits until the emitter is inside Emit.
func waitEntered(t *testing.T, f *fakeEmitter) {
	t.Helper()
	select {
	case <-f.entered:
	case <-time.After(waitFor):
		t.Fatalf("Emit not called after %v; want it called", waitFor)
	}
}

func numbered(i int) app.Event {
	return app.Event{Name: "posts", Seq: int64(i + 1), Envelope: []byte(strconv.Itoa(i))}
}

// wantNumbered fails unless calls are exactly events 0..n-1 in order.
func wantNumbered(t *testing.T, calls []emitted, n int) {
	t.Helper()
	if len(calls) != n {
		t.Fatalf("emitter got %d events; want %d", len(calls), n)
	}
	for i, c := range calls {
		if c.name != "posts" || string(c.envelope) != strconv.Itoa(i) {
			t.Fatalf("event %d = (%q, %s); want (posts, %d)", i, c.name, c.envelope, i)
		}
	}
}

func closeUI(t *testing.T, u *app.UISink) {
	t.Helper()
	ctx, cancel := closeCtx()
	defer cancel()
	if err := u.Close(ctx); err != nil {
		t.Fatalf("UISink.Close() = %v; want nil", err)
	}
}

func TestUISink_DeliversInOrder(t *testing.T) {
	f := newFakeEmitter()
	u := app.NewUISink(f)
	defer closeUI(t, u)
	for i := range 1000 {
		u.Publish(numbered(i))
	}
	wantNumbered(t, f.waitCalls(t, 1000), 1000)
}

func TestUISink_CloseDrainsQueuedEvents(t *testing.T) {
	f, unblock := blockedEmitter(t)
	u := app.NewUISink(f)
	u.Publish(numbered(0))
	waitEntered(t, f)
	for i := 1; i < 100; i++ {
		u.Publish(numbered(i))
	}
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := closeCtx()
		defer cancel()
		closed <- u.Close(ctx)
	}()
	select {
	case err := <-closed:
		t.Fatalf("Close() = %v while 100 events wait; want it to wait for them", err)
	case <-time.After(quiet):
	}
	unblock()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close() = %v; want nil", err)
		}
	case <-time.After(waitFor):
		t.Fatalf("Close() still waiting %v after the emitter recovered; want it done", waitFor)
	}
	wantNumbered(t, f.Calls(), 100)

	// Closed for good: a second Close returns at once, later events go nowhere.
	ctx, cancel := context.WithTimeout(context.Background(), quiet)
	defer cancel()
	if err := u.Close(ctx); err != nil {
		t.Errorf("second Close() = %v; want nil", err)
	}
	u.Publish(numbered(100))
	time.Sleep(quiet)
	if got := len(f.Calls()); got != 100 {
		t.Errorf("emitter got %d events after Close; want 100", got)
	}
}

func TestUISink_CloseRespectsContext(t *testing.T) {
	f, unblock := blockedEmitter(t)
	u := app.NewUISink(f)
	u.Publish(numbered(0))
	waitEntered(t, f)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := u.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close() with a frozen window = %v; want %v", err, context.DeadlineExceeded)
	}
	if took := time.Since(start); took > waitFor {
		t.Errorf("Close() took %v; want it to return when ctx is done", took)
	}
	unblock()
	closeUI(t, u) // idempotent: waits again, now successfully
	wantNumbered(t, f.Calls(), 1)
}

func TestUISink_PublishNeverBlocks(t *testing.T) {
	const n = 10_000
	f, unblock := blockedEmitter(t)
	u := app.NewUISink(f)
	u.Publish(numbered(0))
	waitEntered(t, f) // the window is frozen inside its first event

	done := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		for i := 1; i < n; i++ {
			u.Publish(numbered(i))
		}
		done <- time.Since(start)
	}()
	select {
	case took := <-done:
		t.Logf("%d Publish calls with a frozen window took %v", n-1, took)
	case <-time.After(waitFor):
		t.Fatalf("%d Publish calls still running after %v with a frozen window; want them to return at once", n-1, waitFor)
	}

	// The window gets the first event and a full queue; the rest is dropped,
	// and one resync, last, replaces them.
	unblock()
	closeUI(t, u)
	calls := f.Calls()
	wantNumbered(t, calls[:len(calls)-1], 1+app.UIQueueLen)
	if last := calls[len(calls)-1]; last.name != app.EventResync || string(last.envelope) != `{"type":"resync"}` {
		t.Errorf("last window event = (%q, %s); want (resync, {\"type\":\"resync\"})", last.name, last.envelope)
	}
}

// TestUISink_DroppedPresenceIsRecovered: a peers event dropped while the
// window was frozen is followed by a resync once the window catches up, and
// a window that keeps up never gets one.
func TestUISink_DroppedPresenceIsRecovered(t *testing.T) {
	f, unblock := blockedEmitter(t)
	u := app.NewUISink(f)
	u.Publish(numbered(0))
	waitEntered(t, f)
	for i := 1; i <= app.UIQueueLen; i++ {
		u.Publish(numbered(i))
	}
	u.Publish(app.Event{Name: "peers", Envelope: []byte(`{"type":"event","event":"peers"}`)}) // no room: dropped
	unblock()
	calls := f.waitCalls(t, 2+app.UIQueueLen) // the resync comes without Close
	if last := calls[len(calls)-1]; last.name != app.EventResync {
		t.Fatalf("window event after the drop = %q; want %q", last.name, app.EventResync)
	}
	u.Publish(numbered(app.UIQueueLen + 1))
	f.waitCalls(t, 3+app.UIQueueLen)
	closeUI(t, u)
	if got := f.Calls(); len(got) != 3+app.UIQueueLen || got[len(got)-1].name != "posts" {
		t.Errorf("after catching up the window got %d events, the last %q; want %d, the last a post and no second resync",
			len(got), got[len(got)-1].name, 3+app.UIQueueLen)
	}
}
