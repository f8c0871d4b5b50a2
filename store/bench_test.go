package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lanfeed/feed"
	"lanfeed/store"
)

// benchBody is a typical post body: a paragraph.
var benchBody = strings.Repeat("Soup and bread for everyone. ", 10)

// seededStore opens a store in b.TempDir() holding n posts, each a second
// newer than the one before as in a real feed. It writes them with Apply in
// batches, one transaction (one fsync) each, so seeding takes well under a
// second.
func seededStore(b *testing.B, n int) *store.Store {
	b.Helper()
	const batch = 500
	var secs atomic.Int64
	now := func() time.Time { return t0.Add(time.Duration(secs.Add(1)) * time.Second) }
	s := openStore(b, b.TempDir(), store.Options{Name: "bench-node", Now: now})
	ops := make([]store.Op, 0, batch)
	for i := 0; i < n; i += batch {
		ops = ops[:0]
		for j := i; j < min(i+batch, n); j++ {
			ops = append(ops, store.CreateOp(feed.NewPost{Title: fmt.Sprintf("post %d", j), Body: benchBody}))
		}
		for _, r := range s.Apply(b.Context(), ops) {
			if r.Err != nil {
				b.Fatalf("Apply(seed) = %v; want nil error", r.Err)
			}
		}
	}
	if got := s.Seq(); got != int64(n) {
		b.Fatalf("Seq() after seeding = %d; want %d", got, n)
	}
	return s
}

// BenchmarkStore_Create measures one writer creating posts one at a time:
// each Create is its own transaction and fsync (synchronous=FULL, the
// default), in a database file in b.TempDir().
func BenchmarkStore_Create(b *testing.B) {
	s, _ := newStore(b)
	in := feed.NewPost{Title: "Lunch is in the kitchen", Body: benchBody}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Create(b.Context(), in); err != nil {
			b.Fatalf("Create() = %v; want nil error", err)
		}
	}
}

// BenchmarkStore_List measures reading the first page of 50 posts, what a
// client loads on start, from a store holding 10,000.
func BenchmarkStore_List(b *testing.B) {
	s := seededStore(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		page, err := s.List(b.Context(), feed.PageQuery{Limit: 50})
		if err != nil || len(page.Posts) != 50 {
			b.Fatalf("List(\"\", 50) = %d posts, %v; want 50, nil error", len(page.Posts), err)
		}
	}
}

// BenchmarkStore_Changes measures the largest Changes call (MaxChanges,
// 1,000 posts): the changes after seq-1000 in a store holding 10,000 posts,
// what a peer that missed 1,000 changes reads to resume.
func BenchmarkStore_Changes(b *testing.B) {
	s := seededStore(b, 10000)
	since := s.Seq() - 1000
	b.ReportAllocs()
	for b.Loop() {
		posts, err := s.Changes(b.Context(), since, 1000)
		if err != nil || len(posts) != 1000 {
			b.Fatalf("Changes(%d, 1000) = %d posts, %v; want 1000, nil error", since, len(posts), err)
		}
	}
}

// BenchmarkStore_ApplyBatch measures what a follower's catch-up commits:
// one Apply of 256 new replicas from a followed node and its position (the
// mesh's batch until 2026-12-02; it is now 1,024, app.DefaultMeshBatch),
// against 256 creates of this node's own in one
// Apply, on a real file with synchronous=FULL. sec/change is the figure to
// hold against the mesh's 20,000 changes/s (50 µs).
func BenchmarkStore_ApplyBatch(b *testing.B) {
	const batch = 256
	const node = "01a234c9-0b4c-7c10-864b-ef7dadeb95cd"
	at := feed.UnixMilli(t0.Add(-time.Hour).UnixMilli()) // newStore's clock is at t0
	for _, kind := range []string{"replicas", "creates"} {
		b.Run(kind, func(b *testing.B) {
			s, _ := newStore(b)
			if _, err := s.AddFollow(b.Context(), "http://127.0.0.1:1/", node, "origin"); err != nil {
				b.Fatalf("AddFollow() = %v; want nil error", err)
			}
			seq := int64(0)
			ops := make([]store.Op, 0, batch+1)
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				ops = ops[:0]
				for range batch {
					seq++
					if kind == "creates" {
						ops = append(ops, store.CreateOp(feed.NewPost{Title: "post", Body: benchBody}))
						continue
					}
					ops = append(ops, store.ReplicaOp(node, feed.Post{ID: feed.NewID(), Title: fmt.Sprintf("post %d", seq),
						Body: benchBody, Author: "origin", Origin: node, CreatedAt: at, UpdatedAt: at, Version: 1, Seq: seq}))
				}
				if kind == "replicas" {
					ops = append(ops, store.PositionOp(node, "epoch-1", seq))
				}
				// The app's group commit applies with context.Background()
				// (a batch commits whatever its callers' contexts say); a
				// context that can end costs the driver a goroutine per
				// statement, which would be measured here and not there.
				for i, r := range s.Apply(context.Background(), ops) {
					if r.Err != nil {
						b.Fatalf("Apply()[%d] = %v; want nil error", i, r.Err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch)/1e9, "sec/change")
			// On a shared machine wall time swings with the neighbours; the
			// process's CPU time per change is the steadier figure.
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(cpu.Seconds()/float64(b.N*batch), "cpu-sec/change")
			}
		})
	}
}
