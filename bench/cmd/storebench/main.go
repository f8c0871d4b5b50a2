// Command storebench is scenario S5: W concurrent writers creating posts
// through lanfeed's application service (validate, durable commit with
// synchronous=FULL, encode the event and ack) against a fresh database, each
// writer waiting for its post to be committed before sending the next. It
// prints one JSON line: committed posts per second and the per-create
// latency.
//
//	storebench -writers 64 -posts 5000 -seconds 10
//
// With -writers 1 it is the one-commit-per-post baseline.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lanfeed/app"
	"lanfeed/bench/loadgen"
	"lanfeed/feed"
	"lanfeed/store"
)

// countSink stands in for the fan-out: it only counts events, so the figure
// is the commit path, not the websocket hub.
type countSink struct{ n atomic.Int64 }

func (c *countSink) Publish(app.Event) { c.n.Add(1) }

func main() {
	writers := flag.Int("writers", 64, "concurrent writers")
	posts := flag.Int("posts", 5000, "posts to create in all (the run also stops at -seconds)")
	seconds := flag.Float64("seconds", 10, "time limit")
	dir := flag.String("dir", "", "data directory (default: a new temporary one, removed after)")
	sync := flag.String("synchronous", "FULL", "SQLite synchronous pragma")
	flag.Parse()
	if err := run(*writers, *posts, *seconds, *dir, *sync); err != nil {
		fmt.Fprintln(os.Stderr, "storebench:", err)
		os.Exit(1)
	}
}

func run(writers, posts int, seconds float64, dir, syncMode string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "lanfeed-storebench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dir, store.Options{Synchronous: syncMode, Name: "bench"})
	if err != nil {
		return err
	}
	defer st.Close()
	sink := &countSink{}
	svc, err := app.NewService(ctx, st, sink, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	var next, done, failed atomic.Int64
	var h loadgen.Hist
	body := strings.Repeat("x", 100)
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	start := time.Now()
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for next.Add(1) <= int64(posts) && time.Now().Before(deadline) {
				t := time.Now()
				_, err := svc.Create(ctx, feed.NewPost{Title: "bench", Body: body, Author: "bench"},
					feed.Caller{Peer: uint64(w + 1), EmitID: 1})
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				h.Record(time.Since(t))
				done.Add(1)
			}
		}(w)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	out := map[string]any{
		"impl": "lanfeed", "writers": writers, "synchronous": syncMode,
		"posts": done.Load(), "failed": failed.Load(), "seconds": secs,
		"postsPerSecond": float64(done.Load()) / secs, "createLatency": h.Summary(),
		"events": sink.n.Load(),
	}
	if e := firstErr.Load(); e != nil {
		out["firstError"] = e
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
