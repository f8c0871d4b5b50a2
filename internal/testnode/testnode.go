// Package testnode runs a real lanfeed node inside a test process: a
// database file in a temporary directory, the real service, hub and mesh,
// and the LAN server on a loopback port. It is internal test support for
// the packages whose tests talk to a node over the network (app, client,
// reliability); a node in a child process is internal/testproc's.
package testnode

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"lanfeed/app"
)

// Name is the display name a node gets unless its Config names one.
const Name = "test-node"

// closeWait bounds closing a node when its test ends.
const closeWait = 10 * time.Second

// Open opens a node with cfg and serves it on addr (host:port; "" is
// 127.0.0.1:0, a free loopback port) until the test ends. Zero fields of
// cfg get test defaults: a fresh t.TempDir() database, Name, and a logger
// that discards.
func Open(tb testing.TB, cfg app.Config, addr string) *app.Server {
	tb.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = tb.TempDir()
	}
	if cfg.Name == "" {
		cfg.Name = Name
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	srv, err := app.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("app.Open(%s) = %v; want nil error", cfg.DataDir, err)
	}
	if err := srv.Listen(addr); err != nil {
		srv.Close(context.Background())
		tb.Fatalf("Listen(%s) = %v; want nil error", addr, err)
	}
	tb.Cleanup(func() {
		// Not the test's context: it has ended by the time cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), closeWait)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			tb.Errorf("closing the node in %s: %v", cfg.DataDir, err)
		}
	})
	return srv
}
