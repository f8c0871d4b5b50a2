package app

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
)

// Emitter delivers one event to the desktop window. The desktop wiring
// implements it with the Wails runtime; tests use a fake.
type Emitter interface {
	Emit(name string, envelope json.RawMessage)
}

// uiQueueLen bounds the events waiting for the window. A window that falls
// this far behind misses some, and is told to resync (see UISink).
const uiQueueLen = 4096

// EventResync is the window event that replaces events the window missed:
// it reopens its session as after a reconnect (node info, peers, and a sync
// from its seq), so that dropped presence is recovered as well as posts.
const EventResync = "resync"

// resyncEnvelope is the data of EventResync.
var resyncEnvelope = json.RawMessage(`{"type":"resync"}`)

// UISink hands events to an Emitter from its own goroutine, so a slow or
// frozen window never blocks the publisher. When its queue is full an event
// is dropped and, once the queue has drained, the window gets one
// EventResync instead: nothing it missed stays missing, presence included.
type UISink struct {
	emitter Emitter
	events  chan Event
	lost    atomic.Bool   // an event was dropped since the last resync
	wake    chan struct{} // nudges run after a drop, so that a resync follows
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// NewUISink starts the goroutine that feeds emitter. Stop it with Close.
func NewUISink(emitter Emitter) *UISink {
	u := &UISink{emitter: emitter, events: make(chan Event, uiQueueLen), wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go u.run()
	return u
}

// Publish implements Sink. When the queue is full the event is dropped and a
// resync is owed to the window.
func (u *UISink) Publish(ev Event) {
	select {
	case u.events <- ev:
	default:
		u.lost.Store(true)
		select {
		case u.wake <- struct{}{}:
		default:
		}
	}
}

func (u *UISink) run() {
	defer close(u.done)
	for {
		select {
		case ev := <-u.events:
			u.emitter.Emit(ev.Name, ev.Envelope)
			u.resyncIfDrained()
		case <-u.wake:
			u.resyncIfDrained()
		case <-u.stop: // deliver what is already queued, then end
			for {
				select {
				case ev := <-u.events:
					u.emitter.Emit(ev.Name, ev.Envelope)
				default:
					u.resyncIfDrained()
					return
				}
			}
		}
	}
}

// resyncIfDrained tells the window to resync once it has everything still
// queued, if an event was dropped: a resync before those would be answered
// with changes the queued events then repeat.
func (u *UISink) resyncIfDrained() {
	if len(u.events) == 0 && u.lost.Swap(false) {
		u.emitter.Emit(EventResync, resyncEnvelope)
	}
}

// Close stops the goroutine after the events already queued, or when ctx is
// done. It is idempotent.
func (u *UISink) Close(ctx context.Context) error {
	u.once.Do(func() { close(u.stop) })
	select {
	case <-u.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
