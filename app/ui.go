package app

import (
	"context"
	"encoding/json"
	"sync"
)

// Emitter delivers one event to the desktop window. The desktop wiring
// implements it with the Wails runtime; tests use a fake.
type Emitter interface {
	Emit(name string, envelope json.RawMessage)
}

// uiQueueLen bounds the events waiting for the window. A window that falls
// this far behind misses some and sees a seq gap, which makes it resync.
const uiQueueLen = 4096

// UISink hands events to an Emitter from its own goroutine, so a slow or
// frozen window never blocks the publisher.
type UISink struct {
	emitter Emitter
	events  chan Event
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// NewUISink starts the goroutine that feeds emitter. Stop it with Close.
func NewUISink(emitter Emitter) *UISink {
	u := &UISink{emitter: emitter, events: make(chan Event, uiQueueLen), stop: make(chan struct{}), done: make(chan struct{})}
	go u.run()
	return u
}

// Publish implements Sink. When the queue is full the event is dropped.
func (u *UISink) Publish(ev Event) {
	select {
	case u.events <- ev:
	default:
	}
}

func (u *UISink) run() {
	defer close(u.done)
	for {
		select {
		case ev := <-u.events:
			u.emitter.Emit(ev.Name, ev.Envelope)
		case <-u.stop: // deliver what is already queued, then end
			for {
				select {
				case ev := <-u.events:
					u.emitter.Emit(ev.Name, ev.Envelope)
				default:
					return
				}
			}
		}
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
