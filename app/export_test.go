package app

import "context"

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
