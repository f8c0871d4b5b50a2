// Command sioconform serves lanfeed's Socket.IO endpoint (/socket.io/) in
// the configuration the official Socket.IO protocol test suite expects of
// its server (socketio/socket.io-protocol, test-suite/README): pingInterval
// 300 ms, pingTimeout 200 ms, maxPayload 1,000,000, connectTimeout 1 s,
// and its echo handlers in place of lanfeed's events. Beside it, at
// /engine.io/, the same Engine.IO layer without Socket.IO is the echo
// server of the Engine.IO protocol suite (socketio/engine.io-protocol),
// with the same heartbeat and maxPayload. It is a test
// binary, not a node: its database lives in a temporary directory removed
// at exit.
//
//	go run ./cmd/sioconform                      # listens on localhost:3000
//	cd test-suite && npm ci && npm test          # in a checkout of the suite
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"lanfeed/app"
	"lanfeed/realtime"
)

func main() {
	listen := flag.String("listen", "localhost:3000", "`address` to serve on (the suite dials localhost:3000)")
	flag.Parse()
	if err := run(*listen); err != nil {
		fmt.Fprintln(os.Stderr, "sioconform:", err)
		os.Exit(1)
	}
}

func run(listen string) error {
	dir, err := os.MkdirTemp("", "sioconform-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := app.Open(ctx, app.Config{
		DataDir: dir, Name: "sioconform", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hub: realtime.Config{
			SocketIOConformance: true,
			PingPeriod:          300 * time.Millisecond,
			PongWait:            500 * time.Millisecond, // pingInterval + pingTimeout
			MaxMessage:          1_000_000,
			WriteRate:           -1, // the suite sends fast
			AllowedHosts:        []string{"*"},
		},
	})
	if err != nil {
		return err
	}
	if err := srv.Listen(listen); err != nil {
		srv.Close(context.Background())
		return err
	}
	fmt.Printf("listening on http://%s%s (Socket.IO) and http://%s%s (Engine.IO echo)\n", listen, realtime.SocketIOPath, listen, realtime.EngineIOPath)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Close(sctx)
}
