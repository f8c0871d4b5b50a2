package app

import (
	"context"

	"lanfeed/store"
)

// UIQueueLen is the UISink's queue bound, for tests that fill it.
const UIQueueLen = uiQueueLen

// StartWithoutWails wires d to an opened node as Startup does, minus the
// Wails runtime, whose functions end the process outside a real window.
func (d *Desktop) StartWithoutWails(srv *Server, ui *UISink, listenErr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.srv, d.ui, d.listenErr = srv, ui, listenErr
}

// ServeWithoutWails is the end of Startup, minus the Wails runtime: it
// starts the LAN server of srv, tells Out, and wires d to it.
func (d *Desktop) ServeWithoutWails(srv *Server, ui *UISink) {
	d.serve(context.Background(), srv, ui)
}

// ApplyBatch is the mesh's write path, for tests of the group commit.
func (s *Service) ApplyBatch(ctx context.Context, ops []store.Op) []store.Result {
	return s.applyBatch(ctx, ops)
}

// HintNow is Mesh.Hint run in the caller's goroutine; it reports whether
// one of urls was followed.
func (m *Mesh) HintNow(ctx context.Context, id string, urls []string) bool {
	return m.hint(ctx, id, urls)
}
