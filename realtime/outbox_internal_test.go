package realtime

import (
	"fmt"
	"testing"
	"time"
)

// testOutbox is an outbox whose writer is a counter: tests drive take and
// idle by hand, as the writer would.
func testOutbox(limit int, floor int64, initial *syncRequest) (*outbox, *int) {
	starts := new(int)
	o := newOutbox(limit, floor, initial, func() { *starts++ })
	o.release()
	return o, starts
}

func frameSeqs(w work) []int64 {
	seqs := make([]int64, len(w.frames))
	for i, q := range w.frames {
		seqs[i] = q.seq
	}
	return seqs
}

func TestOutbox_BoundedInBytes(t *testing.T) {
	o, _ := testOutbox(10, 0, nil)
	o.push([]byte("12345"), 1)
	o.push([]byte("12345"), 2) // exactly at the limit: kept
	if w := o.take(); len(w.frames) != 2 || w.closing != nil {
		t.Fatalf("take() = %d frames, closing %v; want 2 frames, open", len(w.frames), w.closing)
	}
	o.push([]byte("123456"), 3)
	o.push([]byte("12345"), 4) // 11 bytes: over
	w := o.take()
	if len(w.frames) != 0 || w.closing == nil || w.closing.code != CloseTryAgainLater {
		t.Fatalf("after overflow take() = %d frames, closing %+v; want none, 1013", len(w.frames), w.closing)
	}
	o.push([]byte("x"), 0) // closing: nothing more is queued
	if w := o.take(); len(w.frames) != 0 {
		t.Errorf("push after overflow queued %d frames; want none", len(w.frames))
	}
}

func TestOutbox_WriterStartsOnceAndEndsWhenIdle(t *testing.T) {
	o, starts := testOutbox(1<<10, 0, nil)
	o.push([]byte("a"), 1)
	o.push([]byte("b"), 2)
	if *starts != 1 {
		t.Fatalf("two pushes started %d writers; want 1", *starts)
	}
	if o.idle() {
		t.Fatal("idle() = true with frames queued; want false")
	}
	o.take()
	if !o.idle() {
		t.Fatal("idle() = false after take; want true")
	}
	o.push([]byte("c"), 3)
	if *starts != 2 {
		t.Errorf("push after idle started %d writers in all; want 2", *starts)
	}
	o.take()
	o.idle()
	o.stop()
	o.push([]byte("d"), 4)
	o.queuePong([]byte("p"))
	if *starts != 2 {
		t.Errorf("work after stop started a writer (%d in all); want none", *starts)
	}
}

func TestOutbox_SeqFilter(t *testing.T) {
	o, _ := testOutbox(1<<10, 5, nil)
	for _, seq := range []int64{4, 5, 6, 0, 7} {
		o.push([]byte("f"), seq)
	}
	if got := fmt.Sprint(frameSeqs(o.take())); got != "[6 0 7]" {
		t.Errorf("queued seqs = %s; want [6 0 7] (at or below floor 5 dropped)", got)
	}
}

func TestOutbox_SyncDropsQueuedPostFramesUntilLive(t *testing.T) {
	o, _ := testOutbox(1<<10, 0, nil)
	o.push([]byte("post"), 1)
	o.push([]byte("ack"), 0)
	o.push([]byte("post"), 2)
	o.requestSync(syncRequest{since: 0, epoch: "e"})
	o.push([]byte("post"), 3) // replaying: the database has it
	o.push([]byte("error"), 0)
	w := o.take()
	if got := fmt.Sprint(frameSeqs(w)); got != "[0 0]" || w.sync == nil || w.sync.epoch != "e" {
		t.Fatalf("take() = seqs %s, sync %+v; want [0 0] and the sync", got, w.sync)
	}
	newest := int64(4)
	if o.goLive(3, func() int64 { return newest }) {
		t.Fatal("goLive(3) with seq 4 broadcast = true; want false: the replay must read on")
	}
	if !o.goLive(4, func() int64 { return newest }) {
		t.Fatal("goLive(4) with seq 4 broadcast = false; want true")
	}
	o.push([]byte("post"), 4) // broadcast before goLive, pushed after: replayed already
	o.push([]byte("post"), 5)
	if got := fmt.Sprint(frameSeqs(o.take())); got != "[5]" {
		t.Errorf("after goLive(4) queued seqs = %s; want [5]", got)
	}
}

func TestOutbox_NewerSyncKeepsReplaying(t *testing.T) {
	o, _ := testOutbox(1<<10, 0, &syncRequest{since: 0})
	o.push([]byte("post"), 1)
	if w := o.take(); len(w.frames) != 0 || w.sync == nil {
		t.Fatalf("initial sync: take() = %d frames, sync %v; want none and the sync", len(w.frames), w.sync)
	}
	o.requestSync(syncRequest{since: 7})
	if o.goLive(9, func() int64 { return 0 }) {
		t.Error("goLive with a newer sync pending = true; want false")
	}
}

func TestOutbox_Close(t *testing.T) {
	o, _ := testOutbox(1<<10, 0, nil)
	o.push([]byte("explains the close"), 0)
	o.closeAfterQueue(1008, "flood")
	o.close(1001, "later close does not count")
	w := o.take()
	if len(w.frames) != 1 || w.closing == nil || w.closing.code != 1008 {
		t.Fatalf("closeAfterQueue: take() = %d frames, closing %+v; want the frame and 1008", len(w.frames), w.closing)
	}
	if o.whileOpen(func() { t.Error("whileOpen ran fn on a closing outbox") }) {
		t.Error("whileOpen() = true while closing; want false")
	}

	o, _ = testOutbox(1<<10, 0, nil)
	ran := false
	if !o.whileOpen(func() { ran = true }) || !ran {
		t.Error("whileOpen on an open outbox did not run fn")
	}
	o.push([]byte("dropped"), 0)
	o.close(1001, "bye")
	if w := o.take(); len(w.frames) != 0 || w.closing.code != 1001 {
		t.Errorf("close: take() = %d frames, closing %+v; want none and 1001", len(w.frames), w.closing)
	}
}

func TestOutbox_HeldUntilRelease(t *testing.T) {
	starts := 0
	o := newOutbox(1<<10, 0, &syncRequest{since: 0}, func() { starts++ })
	o.push([]byte("hello"), 0)
	o.push([]byte("own join"), 0)
	if starts != 0 {
		t.Fatalf("a held outbox started %d writers; want none before release", starts)
	}
	o.release()
	w := o.take()
	if starts != 1 || len(w.frames) != 2 || w.sync == nil {
		t.Fatalf("after release: %d writers, take() = %d frames, sync %v; want 1 writer, hello and join, then the sync", starts, len(w.frames), w.sync)
	}
}

func TestOutbox_PingsEveryPeriod(t *testing.T) {
	started := make(chan struct{}, 16)
	o := newOutbox(1<<10, 0, nil, func() { started <- struct{}{} })
	o.release()
	o.pingEvery(time.Millisecond)
	for range 2 { // two pings in a row: the timer re-arms itself
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("no ping asked for within 5 s")
		}
		if w := o.take(); !w.ping {
			t.Fatal("take() after the ping timer: ping = false; want true")
		}
		o.idle()
	}
}
